#include "trust/openpgp/keys.hpp"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include <array>
#include <vector>

#include "common/error.hpp"
#include "trust/openpgp/openpgp.hpp"
#include "trust/openpgp/reader.hpp"

namespace vmd::openpgp::detail {

namespace {

struct Curve {
    std::string_view oid;  // DER contents, without tag and length
    const char* openssl_name;
    std::size_t order_bits;
};

// The curves OpenSSL 3 verifies ECDSA on (RFC 6637, RFC 9580 §9.2).
constexpr std::array<Curve, 6> kEcdsaCurves{{
    {{"\x2A\x86\x48\xCE\x3D\x03\x01\x07", 8}, "prime256v1", 256},
    {{"\x2B\x81\x04\x00\x22", 5}, "secp384r1", 384},
    {{"\x2B\x81\x04\x00\x23", 5}, "secp521r1", 521},
    {{"\x2B\x24\x03\x03\x02\x08\x01\x01\x07", 9}, "brainpoolP256r1", 256},
    {{"\x2B\x24\x03\x03\x02\x08\x01\x01\x0B", 9}, "brainpoolP384r1", 384},
    {{"\x2B\x24\x03\x03\x02\x08\x01\x01\x0D", 9}, "brainpoolP512r1", 512},
}};
constexpr std::string_view kEd25519Oid{"\x2B\x06\x01\x04\x01\xDA\x47\x0F\x01", 9};

struct BnFree {
    void operator()(BIGNUM* bn) const { BN_free(bn); }
};
using BnHandle = std::unique_ptr<BIGNUM, BnFree>;
struct ParamBuildFree {
    void operator()(OSSL_PARAM_BLD* bld) const { OSSL_PARAM_BLD_free(bld); }
};
struct ParamFree {
    void operator()(OSSL_PARAM* params) const { OSSL_PARAM_free(params); }
};
struct PkeyCtxFree {
    void operator()(EVP_PKEY_CTX* ctx) const { EVP_PKEY_CTX_free(ctx); }
};

BnHandle to_bn(std::string_view bytes) {
    return BnHandle(BN_bin2bn(reinterpret_cast<const unsigned char*>(bytes.data()),
                              static_cast<int>(bytes.size()), nullptr));
}

std::size_t bit_length(std::string_view bytes) {
    if (bytes.empty()) {
        return 0;
    }
    std::size_t bits = (bytes.size() - 1) * 8;
    for (auto top = static_cast<unsigned char>(bytes.front()); top != 0; top >>= 1) {
        ++bits;
    }
    return bits;
}

// Builds an EVP_PKEY of `type` ("RSA", "DSA", "EC") from named big numbers and strings.
class KeyBuilder {
  public:
    KeyBuilder() : bld_(OSSL_PARAM_BLD_new()) {}
    void number(const char* name, std::string_view bytes) {
        numbers_.push_back(to_bn(bytes));
        ok_ = ok_ && numbers_.back() &&
              OSSL_PARAM_BLD_push_BN(bld_.get(), name, numbers_.back().get());
    }
    void text(const char* name, const char* value) {
        ok_ = ok_ && OSSL_PARAM_BLD_push_utf8_string(bld_.get(), name, value, 0);
    }
    void octets(const char* name, std::string_view bytes) {
        ok_ = ok_ && OSSL_PARAM_BLD_push_octet_string(bld_.get(), name, bytes.data(), bytes.size());
    }
    PkeyHandle build(const char* type) {
        if (!ok_ || !bld_) {
            return nullptr;
        }
        std::unique_ptr<OSSL_PARAM, ParamFree> params(OSSL_PARAM_BLD_to_param(bld_.get()));
        std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree> ctx(
            EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
        EVP_PKEY* key = nullptr;
        if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) <= 0 ||
            EVP_PKEY_fromdata(ctx.get(), &key, EVP_PKEY_PUBLIC_KEY, params.get()) <= 0) {
            return nullptr;
        }
        return PkeyHandle(key);
    }

  private:
    std::unique_ptr<OSSL_PARAM_BLD, ParamBuildFree> bld_;
    std::vector<BnHandle> numbers_;
    bool ok_ = true;
};

[[noreturn]] void refused_material(std::string_view algorithm) {
    fail(Errc::SignatureInvalid, "public key: OpenSSL refuses the {} key material", algorithm);
}

void read_rsa(Reader& in, PublicKey& key) {
    auto n = in.mpi(kMaxModulusBits);
    auto e = in.mpi(kMaxModulusBits);
    if (bit_length(n) < 1024 || e.empty()) {
        fail(Errc::SignatureInvalid,
             "public key: expected an RSA modulus of at least 1024 bits, "
             "found {} bits",
             bit_length(n));
    }
    KeyBuilder builder;
    builder.number(OSSL_PKEY_PARAM_RSA_N, n);
    builder.number(OSSL_PKEY_PARAM_RSA_E, e);
    key.pkey = builder.build("RSA");
    key.modulus_bytes = n.size();
    if (!key.pkey) {
        refused_material("RSA");
    }
}

void read_dsa(Reader& in, PublicKey& key) {
    auto p = in.mpi(kMaxModulusBits);
    auto q = in.mpi(kMaxModulusBits);
    auto g = in.mpi(kMaxModulusBits);
    auto y = in.mpi(kMaxModulusBits);
    if (bit_length(p) < 1024 || bit_length(q) < 160) {
        fail(Errc::SignatureInvalid,
             "public key: expected DSA with p of at least 1024 bits and q "
             "of at least 160, found {} and {}",
             bit_length(p), bit_length(q));
    }
    KeyBuilder builder;
    builder.number(OSSL_PKEY_PARAM_FFC_P, p);
    builder.number(OSSL_PKEY_PARAM_FFC_Q, q);
    builder.number(OSSL_PKEY_PARAM_FFC_G, g);
    builder.number(OSSL_PKEY_PARAM_PUB_KEY, y);
    key.pkey = builder.build("DSA");
    key.order_bits = bit_length(q);
    if (!key.pkey) {
        refused_material("DSA");
    }
}

void read_ecdsa(Reader& in, PublicKey& key) {
    auto oid = in.bytes(in.u8());
    // 0x04, then x and y of the largest curve, P-521 (66 bytes each).
    auto point = in.mpi(std::size_t{1 + 2 * 66} * 8);
    for (const auto& curve : kEcdsaCurves) {
        if (curve.oid == oid) {
            KeyBuilder builder;
            builder.text(OSSL_PKEY_PARAM_GROUP_NAME, curve.openssl_name);
            builder.octets(OSSL_PKEY_PARAM_PUB_KEY, point);
            key.pkey = builder.build("EC");
            key.order_bits = curve.order_bits;
            if (!key.pkey) {
                refused_material(curve.openssl_name);
            }
            return;
        }
    }
    key.unsupported = fmt::format("ECDSA on curve OID {} is not supported", hex_upper(oid));
}

void read_eddsa(Reader& in, PublicKey& key) {
    auto oid = in.bytes(in.u8());
    auto point = in.mpi(263);
    if (oid != kEd25519Oid) {
        key.unsupported = fmt::format("EdDSA on curve OID {} is not supported", hex_upper(oid));
        return;
    }
    // Legacy EdDSA: the point is 0x40 followed by the 32-byte Ed25519 public key.
    if (point.size() != 33 || point.front() != '\x40') {
        fail(Errc::SignatureInvalid,
             "public key: expected an Ed25519 point of 0x40 and 32 bytes, "
             "found {} bytes",
             point.size());
    }
    key.pkey.reset(EVP_PKEY_new_raw_public_key(
        EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char*>(point.data() + 1), 32));
    key.order_bits = 256;
    if (!key.pkey) {
        refused_material("Ed25519");
    }
}

}  // namespace

PublicKey parse_public_key(std::string_view body) {
    Reader in(body, "public key");
    PublicKey key;
    auto version = in.u8();
    if (version != 4) {
        fail(Errc::SignatureInvalid, "public key: expected version 4, found version {}", version);
    }
    key.created = in.u32();
    key.algorithm = static_cast<PublicKeyAlgorithm>(in.u8());
    if (body.size() > 0xffff) {
        fail(Errc::SignatureInvalid, "public key: expected at most 65535 bytes, found {}",
             body.size());
    }
    key.hashed_form = '\x99';
    key.hashed_form += static_cast<char>(body.size() >> 8);
    key.hashed_form += static_cast<char>(body.size() & 0xff);
    key.hashed_form += body;
    std::array<unsigned char, 20> digest{};
    unsigned int digest_size = 0;
    if (EVP_Digest(key.hashed_form.data(), key.hashed_form.size(), digest.data(), &digest_size,
                   EVP_sha1(), nullptr) != 1 ||
        digest_size != digest.size()) {
        fail(Errc::SignatureInvalid, "public key: cannot compute the SHA-1 fingerprint");
    }
    key.fingerprint.assign(reinterpret_cast<const char*>(digest.data()), digest.size());
    for (std::size_t i = 12; i < 20; ++i) {
        key.key_id = (key.key_id << 8) | digest[i];
    }
    switch (key.algorithm) {
        case PublicKeyAlgorithm::Rsa:
        case PublicKeyAlgorithm::RsaSignOnly:
            read_rsa(in, key);
            break;
        case PublicKeyAlgorithm::Dsa:
            read_dsa(in, key);
            break;
        case PublicKeyAlgorithm::Ecdsa:
            read_ecdsa(in, key);
            break;
        case PublicKeyAlgorithm::EdDsaLegacy:
            read_eddsa(in, key);
            break;
        default:
            key.unsupported = fmt::format("public-key algorithm {} cannot sign or is not supported",
                                          static_cast<int>(key.algorithm));
            return key;
    }
    if (!in.empty()) {
        fail(Errc::SignatureInvalid,
             "public key: expected the end of the key material, found {} "
             "more bytes",
             in.remaining());
    }
    return key;
}

std::string fingerprint_hex(const PublicKey& key) {
    return hex_upper(key.fingerprint);
}

}  // namespace vmd::openpgp::detail
