#include "trust/sigstore/certs.hpp"

#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "common/json.hpp"

namespace vmd::trust {

namespace {

constexpr std::string_view kIssuerV1 = "1.3.6.1.4.1.57264.1.1";
constexpr std::string_view kIssuerV2 = "1.3.6.1.4.1.57264.1.8";
constexpr std::size_t kMaxCertificates = 64;
constexpr std::size_t kMaxPemBytes = 1u << 20;

struct ObjectFree {
    void operator()(ASN1_OBJECT* p) const { ASN1_OBJECT_free(p); }
};
struct Utf8Free {
    void operator()(ASN1_UTF8STRING* p) const { ASN1_UTF8STRING_free(p); }
};
struct NamesFree {
    void operator()(GENERAL_NAMES* p) const { GENERAL_NAMES_free(p); }
};

std::string_view asn1_view(const ASN1_STRING* s) {
    return {reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
            static_cast<size_t>(ASN1_STRING_length(s))};
}

// The extension with `oid`, nullopt when absent; a second one is an error.
std::optional<std::string_view> unique_extension(X509* cert, std::string_view oid) {
    std::unique_ptr<ASN1_OBJECT, ObjectFree> object(OBJ_txt2obj(std::string(oid).c_str(), 1));
    if (!object) {
        fail(Errc::Internal, "OBJ_txt2obj({}): expected an OID, found an error", oid);
    }
    int index = X509_get_ext_by_OBJ(cert, object.get(), -1);
    if (index < 0) {
        return std::nullopt;
    }
    if (X509_get_ext_by_OBJ(cert, object.get(), index) >= 0) {
        fail(Errc::SignatureInvalid, "certificate: expected one extension {}, found several", oid);
    }
    return asn1_view(X509_EXTENSION_get_data(X509_get_ext(cert, index)));
}

bool allows_code_signing(X509* cert) {
    if ((X509_get_extension_flags(cert) & EXFLAG_XKUSAGE) == 0) {
        return true;  // no extended key usage: any (as Go's verifier treats it)
    }
    return (X509_get_extended_key_usage(cert) & (XKU_CODE_SIGN | XKU_ANYEKU)) != 0;
}

}  // namespace

std::vector<X509Ptr> load_certificates(std::string_view pem, Errc code, std::string_view origin) {
    if (pem.size() > kMaxPemBytes) {
        fail(code, "{}: expected at most {} bytes of PEM, found {}", origin, kMaxPemBytes,
             pem.size());
    }
    BioPtr bio = memory_bio(pem);
    std::vector<X509Ptr> out;
    while (bio) {
        char* name = nullptr;
        char* header = nullptr;
        unsigned char* data = nullptr;
        long size = 0;
        int ok = PEM_read_bio(bio.get(), &name, &header, &data, &size);
        OpensslString owned_name(name);
        OpensslString owned_header(header);
        OpensslBytes owned_data(data);
        if (ok != 1) {
            ERR_clear_error();
            break;
        }
        if (std::string_view(name) != "CERTIFICATE") {
            fail(code, "{}: expected PEM \"CERTIFICATE\" blocks, found {}", origin,
                 json::quote(name));
        }
        const unsigned char* cursor = data;
        X509Ptr cert(d2i_X509(nullptr, &cursor, size));
        ERR_clear_error();
        if (!cert || cursor != data + size) {
            fail(code, "{}: expected a DER certificate, found malformed data", origin);
        }
        if (out.size() == kMaxCertificates) {
            fail(code, "{}: expected at most {} certificates, found more", origin,
                 kMaxCertificates);
        }
        out.push_back(std::move(cert));
    }
    if (out.empty()) {
        fail(code, "{}: expected PEM certificates, found none", origin);
    }
    return out;
}

X509Ptr load_leaf_certificate(std::string_view pem) {
    auto certs = load_certificates(pem, Errc::SignatureInvalid, "signature certificate");
    if (certs.size() != 1) {
        fail(Errc::SignatureInvalid, "signature certificate: expected 1 certificate, found {}",
             certs.size());
    }
    return std::move(certs.front());
}

std::string verify_chain(X509* leaf, const ChainTrust& trust) {
    X509StorePtr store(X509_STORE_new());
    X509StackPtr untrusted(sk_X509_new_null());
    X509StoreCtxPtr ctx(X509_STORE_CTX_new());
    if (!store || !untrusted || !ctx) {
        fail(Errc::Internal, "OpenSSL: expected X509 store allocations, found a failure");
    }
    for (const auto& root : trust.roots) {
        X509_STORE_add_cert(store.get(), root.get());
    }
    for (X509* cert : trust.intermediates) {
        if (X509_up_ref(cert) != 1 || sk_X509_push(untrusted.get(), cert) <= 0) {
            fail(Errc::Internal, "OpenSSL: expected to stack a certificate, found a failure");
        }
    }
    if (X509_STORE_CTX_init(ctx.get(), store.get(), leaf, untrusted.get()) != 1) {
        fail(Errc::Internal, "OpenSSL: expected X509_STORE_CTX_init to succeed, found a failure");
    }
    // Like Go's x509 roots pool: every configured CA certificate is a trust anchor, whether
    // or not it is self-signed.
    X509_STORE_CTX_set_flags(ctx.get(), X509_V_FLAG_PARTIAL_CHAIN);
    if (trust.at_time) {
        X509_STORE_CTX_set_time(ctx.get(), 0, static_cast<time_t>(*trust.at_time));
    }
    int ok = X509_verify_cert(ctx.get());
    ERR_clear_error();
    if (ok != 1) {
        return fmt::format("certificate chain: expected a chain to a trusted CA, found: {}",
                           X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx.get())));
    }
    STACK_OF(X509)* chain = X509_STORE_CTX_get0_chain(ctx.get());
    for (int i = 0; i < sk_X509_num(chain); ++i) {
        if (!allows_code_signing(sk_X509_value(chain, i))) {
            return fmt::format(
                "certificate chain: expected code-signing extended key usage, found certificate "
                "{} of the chain without it",
                i);
        }
    }
    return {};
}

std::string fulcio_issuer(X509* cert) {
    auto v1 = unique_extension(cert, kIssuerV1);
    auto v2_der = unique_extension(cert, kIssuerV2);
    std::optional<std::string> v2;
    if (v2_der) {
        const auto* cursor = reinterpret_cast<const unsigned char*>(v2_der->data());
        std::unique_ptr<ASN1_UTF8STRING, Utf8Free> text(
            d2i_ASN1_UTF8STRING(nullptr, &cursor, static_cast<long>(v2_der->size())));
        ERR_clear_error();
        if (!text ||
            cursor != reinterpret_cast<const unsigned char*>(v2_der->data()) + v2_der->size()) {
            fail(Errc::SignatureInvalid,
                 "certificate: expected a UTF8String in OIDC issuer extension {}, found invalid "
                 "DER",
                 kIssuerV2);
        }
        v2 = std::string(asn1_view(text.get()));
    }
    if (v1 && v2 && *v1 != *v2) {
        fail(Errc::SignatureInvalid,
             "certificate: expected consistent OIDC issuer extensions, found {} (v1) and {} (v2)",
             json::quote(*v1), json::quote(*v2));
    }
    if (v1) {
        return std::string(*v1);
    }
    if (v2) {
        return *v2;
    }
    fail(Errc::SignatureInvalid,
         "certificate: expected an OIDC issuer extension ({} or {}), found none", kIssuerV1,
         kIssuerV2);
}

std::vector<std::string> san_emails(X509* cert) {
    std::vector<std::string> out;
    std::unique_ptr<GENERAL_NAMES, NamesFree> names(static_cast<GENERAL_NAMES*>(
        X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr)));
    ERR_clear_error();
    if (!names) {
        return out;
    }
    for (int i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
        const GENERAL_NAME* name = sk_GENERAL_NAME_value(names.get(), i);
        if (name->type == GEN_EMAIL) {
            out.emplace_back(asn1_view(name->d.rfc822Name));
        }
    }
    return out;
}

bool matches_hostname(X509* cert, std::string_view hostname) {
    std::string host(hostname);
    int result = X509_check_ip_asc(cert, host.c_str(), 0);
    if (result == -2) {  // not an IP address literal: match DNS names
        result = X509_check_host(cert, host.data(), host.size(), 0, nullptr);
    }
    ERR_clear_error();
    return result == 1;
}

PublicKey certificate_key(X509* cert) {
    return PublicKey::from_evp(X509_get0_pubkey(cert), Errc::SignatureInvalid,
                               "signature certificate public key");
}

std::string certificate_der(X509* cert) {
    unsigned char* der = nullptr;
    int size = i2d_X509(cert, &der);
    OpensslBytes owned(der);
    if (size <= 0) {
        fail(Errc::Internal, "i2d_X509: expected DER, found an error");
    }
    return std::string(reinterpret_cast<const char*>(der), static_cast<size_t>(size));
}

}  // namespace vmd::trust
