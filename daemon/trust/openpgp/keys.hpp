// Public key packets (RFC 4880 §5.5.2, v4 only) as OpenSSL keys, with their fingerprints.
#pragma once

#include <openssl/evp.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace vmd::openpgp::detail {

/// Public-key algorithm IDs (RFC 4880 §9.1, RFC 6637, the EdDSA draft gpg uses).
enum class PublicKeyAlgorithm : std::uint8_t {
    Rsa = 1,
    RsaEncryptOnly = 2,
    RsaSignOnly = 3,
    Elgamal = 16,
    Dsa = 17,
    Ecdh = 18,
    Ecdsa = 19,
    EdDsaLegacy = 22,
};

/// Frees an EVP_PKEY.
struct PkeyFree {
    void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
using PkeyHandle = std::unique_ptr<EVP_PKEY, PkeyFree>;

/// One v4 public key or subkey.
struct PublicKey {
    std::uint32_t created = 0;
    PublicKeyAlgorithm algorithm{};
    std::string fingerprint;        // 20 bytes: SHA-1 of hashed_form
    std::uint64_t key_id = 0;       // the fingerprint's low 64 bits
    std::string hashed_form;        // 0x99, two-byte length, body: what key signatures hash
    PkeyHandle pkey;                // null when the algorithm cannot sign (or is not supported)
    std::size_t order_bits = 0;     // DSA q or the curve order: the least digest size it needs
    std::size_t modulus_bytes = 0;  // RSA: signatures are padded to this size
    std::string unsupported;        // why pkey is null, for messages ("Elgamal cannot sign")
};

/// Parses a public key or subkey packet body. Throws Error(SignatureInvalid) for a malformed
/// body, a version other than 4, or key material OpenSSL refuses; an algorithm that cannot
/// sign (or that this library does not know) parses with a null pkey.
PublicKey parse_public_key(std::string_view body);

/// The fingerprint as 40 uppercase hex digits.
std::string fingerprint_hex(const PublicKey& key);

}  // namespace vmd::openpgp::detail
