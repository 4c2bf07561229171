// RAII owners for the OpenSSL objects the trust module uses.
#pragma once

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <climits>
#include <memory>
#include <string_view>

namespace vmd::trust {

/// Calls the matching OpenSSL free function.
struct OpensslFree {
    void operator()(BIO* p) const { BIO_free(p); }
    void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
    void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
    void operator()(X509* p) const { X509_free(p); }
    void operator()(X509_STORE* p) const { X509_STORE_free(p); }
    void operator()(X509_STORE_CTX* p) const { X509_STORE_CTX_free(p); }
    void operator()(STACK_OF(X509) * p) const { sk_X509_pop_free(p, X509_free); }
    void operator()(char* p) const { OPENSSL_free(p); }
    void operator()(unsigned char* p) const { OPENSSL_free(p); }
};

using BioPtr = std::unique_ptr<BIO, OpensslFree>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, OpensslFree>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, OpensslFree>;
using X509Ptr = std::unique_ptr<X509, OpensslFree>;
using X509StorePtr = std::unique_ptr<X509_STORE, OpensslFree>;
using X509StoreCtxPtr = std::unique_ptr<X509_STORE_CTX, OpensslFree>;
using X509StackPtr = std::unique_ptr<STACK_OF(X509), OpensslFree>;
/// A string or buffer OpenSSL allocated.
using OpensslString = std::unique_ptr<char, OpensslFree>;
using OpensslBytes = std::unique_ptr<unsigned char, OpensslFree>;

/// A read-only memory BIO over `bytes`; null when allocation fails or `bytes` is larger than
/// an int can describe (callers bound their inputs far below that).
inline BioPtr memory_bio(std::string_view bytes) {
    if (bytes.size() > static_cast<std::size_t>(INT_MAX)) {
        return nullptr;
    }
    return BioPtr(BIO_new_mem_buf(bytes.data(), static_cast<int>(bytes.size())));
}

}  // namespace vmd::trust
