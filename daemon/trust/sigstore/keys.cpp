#include "trust/sigstore/keys.hpp"

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <array>
#include <optional>

#include "common/json.hpp"
#include "trust/sigstore/openssl_util.hpp"

namespace vmd::trust {

namespace {

constexpr std::size_t kMaxPemBytes = 1u << 20;

struct EcdsaSigFree {
    void operator()(ECDSA_SIG* sig) const { ECDSA_SIG_free(sig); }
};
using EcdsaSigPtr = std::unique_ptr<ECDSA_SIG, EcdsaSigFree>;

// One PEM block as PEM_read_bio returns it; the three buffers are OpenSSL allocations.
struct PemBlock {
    OpensslString name;
    OpensslString header;
    OpensslBytes data;
    long size = 0;
};

std::optional<PemBlock> read_pem_block(BIO* bio) {
    char* name = nullptr;
    char* header = nullptr;
    unsigned char* data = nullptr;
    long size = 0;
    int ok = PEM_read_bio(bio, &name, &header, &data, &size);
    PemBlock block{OpensslString(name), OpensslString(header), OpensslBytes(data), size};
    if (ok != 1) {
        ERR_clear_error();
        return std::nullopt;
    }
    return block;
}

KeyAlgorithm classify(EVP_PKEY* key, Errc code, std::string_view origin) {
    switch (EVP_PKEY_get_base_id(key)) {
        case EVP_PKEY_EC: {
            std::array<char, 64> group{};
            size_t length = 0;
            if (EVP_PKEY_get_group_name(key, group.data(), group.size(), &length) != 1) {
                fail(code, "{}: expected a named ECDSA curve, found explicit parameters", origin);
            }
            std::string_view name(group.data(), length);
            if (name == "prime256v1" || name == "P-256") {
                return KeyAlgorithm::EcdsaP256;
            }
            if (name == "secp384r1" || name == "P-384") {
                return KeyAlgorithm::EcdsaP384;
            }
            if (name == "secp521r1" || name == "P-521") {
                return KeyAlgorithm::EcdsaP521;
            }
            fail(code, "{}: expected an ECDSA key on P-256, P-384 or P-521, found curve {}", origin,
                 name);
        }
        case EVP_PKEY_RSA:
            if (int bits = EVP_PKEY_get_bits(key); bits < 2048) {
                fail(code, "{}: expected an RSA key of at least 2048 bits, found {} bits", origin,
                     bits);
            }
            return KeyAlgorithm::Rsa;
        case EVP_PKEY_ED25519:
            return KeyAlgorithm::Ed25519;
        default:
            fail(code, "{}: expected an ECDSA, RSA or Ed25519 public key, found key type {}",
                 origin, OBJ_nid2sn(EVP_PKEY_get_base_id(key)));
    }
}

// A raw r||s signature as DER, or "" when `raw` does not have the size of `key`'s curve.
std::string raw_ecdsa_to_der(EVP_PKEY* key, std::string_view raw) {
    auto half = static_cast<size_t>((EVP_PKEY_get_bits(key) + 7) / 8);
    if (raw.size() != 2 * half) {
        return {};
    }
    const auto* bytes = reinterpret_cast<const unsigned char*>(raw.data());
    BIGNUM* r = BN_bin2bn(bytes, static_cast<int>(half), nullptr);
    BIGNUM* s = BN_bin2bn(bytes + half, static_cast<int>(half), nullptr);
    EcdsaSigPtr sig(ECDSA_SIG_new());
    if (!sig || r == nullptr || s == nullptr || ECDSA_SIG_set0(sig.get(), r, s) != 1) {
        BN_free(r);
        BN_free(s);
        return {};
    }
    unsigned char* der = nullptr;
    int size = i2d_ECDSA_SIG(sig.get(), &der);
    OpensslBytes owned(der);
    if (size <= 0) {
        return {};
    }
    return std::string(reinterpret_cast<const char*>(der), static_cast<size_t>(size));
}

bool digest_verify(EVP_PKEY* key, const EVP_MD* md, std::string_view message,
                   std::string_view signature) {
    MdCtxPtr ctx(EVP_MD_CTX_new());
    bool ok =
        ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, md, nullptr, key) == 1 &&
        EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                         signature.size(), reinterpret_cast<const unsigned char*>(message.data()),
                         message.size()) == 1;
    ERR_clear_error();
    return ok;
}

}  // namespace

struct PublicKey::Impl {
    PkeyPtr key;
};

std::string_view key_family(KeyAlgorithm algorithm) {
    switch (algorithm) {
        case KeyAlgorithm::EcdsaP256:
        case KeyAlgorithm::EcdsaP384:
        case KeyAlgorithm::EcdsaP521:
            return "ECDSA";
        case KeyAlgorithm::Rsa:
            return "RSA";
        case KeyAlgorithm::Ed25519:
            return "Ed25519";
    }
    return "unknown";
}

PublicKey::PublicKey(KeyAlgorithm algorithm, std::unique_ptr<Impl> impl)
    : algorithm_(algorithm), impl_(std::move(impl)) {}
PublicKey::PublicKey(PublicKey&&) noexcept = default;
PublicKey& PublicKey::operator=(PublicKey&&) noexcept = default;
PublicKey::~PublicKey() = default;

PublicKey PublicKey::from_pem(std::string_view pem, std::string_view origin) {
    BioPtr bio = pem.size() <= kMaxPemBytes ? memory_bio(pem) : nullptr;
    if (!bio) {
        fail(Errc::PolicyInvalid, "{}: expected a PEM public key, found {} bytes", origin,
             pem.size());
    }
    auto block = read_pem_block(bio.get());
    if (!block) {
        fail(Errc::PolicyInvalid, "{}: expected a PEM public key, found no PEM block", origin);
    }
    if (read_pem_block(bio.get())) {
        fail(Errc::PolicyInvalid, "{}: expected exactly one PEM block, found more", origin);
    }
    std::string_view label(block->name.get());
    const unsigned char* cursor = block->data.get();
    const unsigned char* end = cursor + block->size;
    PkeyPtr key;
    if (label == "PUBLIC KEY") {
        key.reset(d2i_PUBKEY(nullptr, &cursor, block->size));
    } else if (label == "RSA PUBLIC KEY") {
        key.reset(d2i_PublicKey(EVP_PKEY_RSA, nullptr, &cursor, block->size));
    } else {
        fail(Errc::PolicyInvalid,
             "{}: expected a PEM \"PUBLIC KEY\" or \"RSA PUBLIC KEY\" block, found {}", origin,
             json::quote(label));
    }
    ERR_clear_error();
    if (!key || cursor != end) {
        fail(Errc::PolicyInvalid, "{}: expected a DER-encoded {}, found malformed data", origin,
             label);
    }
    auto algorithm = classify(key.get(), Errc::PolicyInvalid, origin);
    return PublicKey(algorithm, std::make_unique<Impl>(Impl{std::move(key)}));
}

PublicKey PublicKey::from_evp(EVP_PKEY* key, Errc code, std::string_view origin) {
    if (key == nullptr || EVP_PKEY_up_ref(key) != 1) {
        fail(code, "{}: expected a public key, found none", origin);
    }
    PkeyPtr owned(key);
    auto algorithm = classify(owned.get(), code, origin);
    return PublicKey(algorithm, std::make_unique<Impl>(Impl{std::move(owned)}));
}

std::string PublicKey::spki_der() const {
    unsigned char* der = nullptr;
    int size = i2d_PUBKEY(impl_->key.get(), &der);
    OpensslBytes owned(der);
    if (size <= 0) {
        fail(Errc::Internal, "i2d_PUBKEY: expected DER, found an error");
    }
    return std::string(reinterpret_cast<const char*>(der), static_cast<size_t>(size));
}

bool PublicKey::verify(std::string_view message, std::string_view signature) const {
    EVP_PKEY* key = impl_->key.get();
    switch (algorithm_) {
        case KeyAlgorithm::Ed25519:
            return digest_verify(key, nullptr, message, signature);
        case KeyAlgorithm::Rsa:
            return digest_verify(key, EVP_sha256(), message, signature);
        case KeyAlgorithm::EcdsaP256:
        case KeyAlgorithm::EcdsaP384:
        case KeyAlgorithm::EcdsaP521: {
            if (digest_verify(key, EVP_sha256(), message, signature)) {
                return true;
            }
            auto der = raw_ecdsa_to_der(key, signature);
            return !der.empty() && digest_verify(key, EVP_sha256(), message, der);
        }
    }
    return false;
}

}  // namespace vmd::trust
