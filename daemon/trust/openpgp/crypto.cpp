// The cryptographic check of a signature: hash, prefix, public-key verification.
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include <array>
#include <memory>

#include "common/error.hpp"
#include "trust/openpgp/reader.hpp"
#include "trust/openpgp/signature.hpp"

namespace vmd::openpgp::detail {

namespace {

struct MdCtxFree {
    void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};
struct PkeyCtxFree {
    void operator()(EVP_PKEY_CTX* ctx) const { EVP_PKEY_CTX_free(ctx); }
};
struct EcdsaSigFree {
    void operator()(ECDSA_SIG* sig) const { ECDSA_SIG_free(sig); }
};
struct BytesFree {
    void operator()(unsigned char* bytes) const { OPENSSL_free(bytes); }
};

// MD5 (1) is refused as containers/image's gpg refuses it; SHA-3 and the rest gpg 2.2 lacks.
const EVP_MD* allowed_hash(std::uint8_t algorithm) {
    switch (algorithm) {
        case 2:
            return EVP_sha1();
        case 3:
            return EVP_ripemd160();
        case 8:
            return EVP_sha256();
        case 9:
            return EVP_sha384();
        case 10:
            return EVP_sha512();
        case 11:
            return EVP_sha224();
        default:
            return nullptr;
    }
}

const unsigned char* as_bytes(std::string_view bytes) {
    return reinterpret_cast<const unsigned char*>(bytes.data());
}

bool verify_rsa(const PublicKey& key, const Signature& signature, const EVP_MD* md,
                std::string_view digest) {
    auto value = signature.values[0];
    if (value.size() > key.modulus_bytes) {
        return false;
    }
    // The number may have lost leading zero bytes; PKCS#1 wants the modulus' length.
    std::string padded(key.modulus_bytes - value.size(), '\0');
    padded += value;
    std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree> ctx(EVP_PKEY_CTX_new(key.pkey.get(), nullptr));
    return ctx && EVP_PKEY_verify_init(ctx.get()) > 0 &&
           EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_PADDING) > 0 &&
           EVP_PKEY_CTX_set_signature_md(ctx.get(), md) > 0 &&
           EVP_PKEY_verify(ctx.get(), as_bytes(padded), padded.size(), as_bytes(digest),
                           digest.size()) == 1;
}

// DSA and ECDSA: r and s as DER; OpenSSL truncates the digest to the group order itself.
bool verify_dsa_ecdsa(const PublicKey& key, const Signature& signature, std::string_view digest) {
    std::unique_ptr<ECDSA_SIG, EcdsaSigFree> sig(ECDSA_SIG_new());
    auto* r = BN_bin2bn(as_bytes(signature.values[0]), static_cast<int>(signature.values[0].size()),
                        nullptr);
    auto* s = BN_bin2bn(as_bytes(signature.values[1]), static_cast<int>(signature.values[1].size()),
                        nullptr);
    if (!sig || r == nullptr || s == nullptr || ECDSA_SIG_set0(sig.get(), r, s) != 1) {
        BN_free(r);
        BN_free(s);
        return false;
    }
    unsigned char* der_raw = nullptr;
    int der_size = i2d_ECDSA_SIG(sig.get(), &der_raw);
    std::unique_ptr<unsigned char, BytesFree> der(der_raw);
    if (der_size <= 0) {
        return false;
    }
    std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree> ctx(EVP_PKEY_CTX_new(key.pkey.get(), nullptr));
    return ctx && EVP_PKEY_verify_init(ctx.get()) > 0 &&
           EVP_PKEY_verify(ctx.get(), der.get(), static_cast<std::size_t>(der_size),
                           as_bytes(digest), digest.size()) == 1;
}

// Legacy EdDSA signs the digest (not the data) with Ed25519; r and s are 32 bytes each.
bool verify_eddsa(const PublicKey& key, const Signature& signature, std::string_view digest) {
    auto r = signature.values[0];
    auto s = signature.values[1];
    if (r.size() > 32 || s.size() > 32) {
        return false;
    }
    std::string raw(32 - r.size(), '\0');
    raw += r;
    raw.append(32 - s.size(), '\0');
    raw += s;
    std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
    return ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key.pkey.get()) == 1 &&
           EVP_DigestVerify(ctx.get(), as_bytes(raw), raw.size(), as_bytes(digest),
                            digest.size()) == 1;
}

}  // namespace

std::string hash_name(std::uint8_t algorithm) {
    switch (algorithm) {
        case 1:
            return "MD5";
        case 2:
            return "SHA1";
        case 3:
            return "RIPEMD160";
        case 8:
            return "SHA256";
        case 9:
            return "SHA384";
        case 10:
            return "SHA512";
        case 11:
            return "SHA224";
        default:
            return fmt::format("hash {}", algorithm);
    }
}

bool signature_matches(const PublicKey& key, const Signature& signature,
                       std::span<const std::string_view> data) {
    bool same_family = key.algorithm == signature.algorithm ||
                       (key.algorithm == PublicKeyAlgorithm::RsaSignOnly &&
                        signature.algorithm == PublicKeyAlgorithm::Rsa) ||
                       (key.algorithm == PublicKeyAlgorithm::Rsa &&
                        signature.algorithm == PublicKeyAlgorithm::RsaSignOnly);
    if (!same_family || !key.pkey) {
        fail(Errc::SignatureInvalid,
             "signature: expected public-key algorithm {} of key {}, found algorithm {}{}",
             static_cast<int>(key.algorithm), fingerprint_hex(key),
             static_cast<int>(signature.algorithm),
             key.unsupported.empty() ? "" : " (" + key.unsupported + ")");
    }
    const EVP_MD* md = allowed_hash(signature.hash_algorithm);
    if (md == nullptr) {
        fail(Errc::SignatureInvalid,
             "signature: expected hash SHA1, RIPEMD160, SHA224, SHA256, SHA384 or SHA512, found {}",
             hash_name(signature.hash_algorithm));
    }
    auto digest_bits = static_cast<std::size_t>(EVP_MD_get_size(md)) * 8;
    // DSA and ECDSA need a digest as long as the group order (up to 512 bits for P-521).
    if (digest_bits < std::min<std::size_t>(key.order_bits, 512)) {
        fail(Errc::SignatureInvalid,
             "signature: expected a hash of at least {} bits for key {}, found {} ({} bits)",
             std::min<std::size_t>(key.order_bits, 512), fingerprint_hex(key),
             hash_name(signature.hash_algorithm), digest_bits);
    }
    std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
    if (!ctx || EVP_DigestInit_ex(ctx.get(), md, nullptr) != 1) {
        fail(Errc::SignatureInvalid, "signature: hash {} is not available in this OpenSSL",
             hash_name(signature.hash_algorithm));
    }
    bool hashed = true;
    for (auto part : data) {
        hashed = hashed && EVP_DigestUpdate(ctx.get(), part.data(), part.size()) == 1;
    }
    hashed = hashed &&
             EVP_DigestUpdate(ctx.get(), signature.hashed.data(), signature.hashed.size()) == 1;
    if (signature.version == 4) {
        auto length = static_cast<std::uint32_t>(signature.hashed.size());
        std::array<unsigned char, 6> trailer{0x04,
                                             0xff,
                                             static_cast<unsigned char>(length >> 24),
                                             static_cast<unsigned char>(length >> 16),
                                             static_cast<unsigned char>(length >> 8),
                                             static_cast<unsigned char>(length)};
        hashed = hashed && EVP_DigestUpdate(ctx.get(), trailer.data(), trailer.size()) == 1;
    }
    std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
    unsigned int digest_size = 0;
    if (!hashed || EVP_DigestFinal_ex(ctx.get(), digest.data(), &digest_size) != 1) {
        fail(Errc::SignatureInvalid, "signature: cannot compute the {} digest",
             hash_name(signature.hash_algorithm));
    }
    std::uint16_t prefix = static_cast<std::uint16_t>((digest[0] << 8) | digest[1]);
    if (prefix != signature.hash_prefix) {
        fail(Errc::SignatureInvalid,
             "signature: expected the digest to start with {:04x} as the signature says, found "
             "{:04x} (the signed data differs)",
             signature.hash_prefix, prefix);
    }
    std::string_view digest_view(reinterpret_cast<const char*>(digest.data()), digest_size);
    switch (key.algorithm) {
        case PublicKeyAlgorithm::Rsa:
        case PublicKeyAlgorithm::RsaSignOnly:
            return verify_rsa(key, signature, md, digest_view);
        case PublicKeyAlgorithm::Dsa:
        case PublicKeyAlgorithm::Ecdsa:
            return verify_dsa_ecdsa(key, signature, digest_view);
        case PublicKeyAlgorithm::EdDsaLegacy:
            return verify_eddsa(key, signature, digest_view);
        default:
            return false;
    }
}

}  // namespace vmd::openpgp::detail
