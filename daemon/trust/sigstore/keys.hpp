// Public keys for sigstore signatures: PEM loading and signature verification with OpenSSL 3.
#pragma once

#include <openssl/types.h>

#include <memory>
#include <string>
#include <string_view>

#include "common/error.hpp"

namespace vmd::trust {

/// The algorithms sigstoreSigned accepts.
enum class KeyAlgorithm { EcdsaP256, EcdsaP384, EcdsaP521, Rsa, Ed25519 };

/// "ECDSA", "RSA" or "Ed25519": the family, as refusal messages name it.
std::string_view key_family(KeyAlgorithm algorithm);

/// A public key, loaded from exactly one PEM block ("PUBLIC KEY" or "RSA PUBLIC KEY").
class PublicKey {
  public:
    /// Parses `pem`. Anything else (no block, several blocks, a private key, an unsupported
    /// curve or algorithm, RSA below 2048 bits) throws Error(PolicyInvalid) naming `origin`.
    static PublicKey from_pem(std::string_view pem, std::string_view origin);

    PublicKey(PublicKey&&) noexcept;
    PublicKey& operator=(PublicKey&&) noexcept;
    ~PublicKey();

    KeyAlgorithm algorithm() const { return algorithm_; }

    /// True when `signature` is valid over `message`: ECDSA with SHA-256 (DER, or raw r||s of
    /// twice the curve size), RSA PKCS#1 v1.5 with SHA-256, Ed25519 over the bytes themselves.
    bool verify(std::string_view message, std::string_view signature) const;

    /// The key as DER SubjectPublicKeyInfo (what a Rekor entry logs for a key).
    std::string spki_der() const;

    /// Takes a key OpenSSL already parsed (e.g. from a certificate), checking its algorithm as
    /// from_pem does; failures are Error(code) naming `origin`.
    static PublicKey from_evp(EVP_PKEY* key, Errc code, std::string_view origin);

  private:
    struct Impl;
    PublicKey(KeyAlgorithm algorithm, std::unique_ptr<Impl> impl);
    KeyAlgorithm algorithm_;
    std::unique_ptr<Impl> impl_;
};

}  // namespace vmd::trust
