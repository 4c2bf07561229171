// What import keeps of a transferable public key: the keys and the facts of their verified
// self-signatures. No views into the key file: the Keyring outlives the bytes it was fed.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "trust/openpgp/keys.hpp"

namespace vmd::openpgp::detail {

/// The time-dependent facts of one cryptographically verified self-signature.
struct SelfSignature {
    std::uint32_t created = 0;
    std::optional<std::uint32_t> expires_after;      // the signature's own lifetime
    std::optional<std::uint32_t> key_expires_after;  // the key's lifetime from its creation
    std::optional<std::uint8_t> key_flags;
    bool primary_user_id = false;
};

/// A user ID (or attribute) with its verified self-certifications.
struct UserId {
    std::vector<SelfSignature> certifications;
    bool revoked = false;  // a verified certification revocation exists
};

/// A subkey binding with its primary-key back-signature (when valid).
struct Binding {
    SelfSignature binding;
    std::optional<SelfSignature> back_signature;
};

/// A subkey with the bodies of the signatures that follow it. Their cryptography is checked only
/// when the subkey makes a signature (bind_subkey): most subkeys never do, and import stays cheap.
struct Subkey {
    PublicKey key;
    std::vector<std::string> signatures;  // packet bodies, not verified yet
};

/// What a subkey's verified signatures say.
struct SubkeyBindings {
    std::vector<Binding> bindings;
    bool revoked = false;  // a verified subkey revocation exists
};

/// One imported primary key.
struct PrimaryKey {
    PublicKey key;
    std::vector<SelfSignature> direct_signatures;
    std::vector<UserId> user_ids;
    std::vector<Subkey> subkeys;
    bool revoked = false;
};

/// The primary key, or one of its subkeys, that made a signature.
struct SigningKey {
    const PrimaryKey* primary = nullptr;
    const Subkey* subkey = nullptr;  // null when the primary key signed
    const PublicKey& key() const { return subkey != nullptr ? subkey->key : primary->key; }
};

/// Verifies the signatures kept with `subkey`: bindings by `primary` (with the subkey's
/// back-signature inside) and revocations by `primary`; anything else is ignored.
SubkeyBindings bind_subkey(const PublicKey& primary, const Subkey& subkey);

/// Refuses (Error(SignatureInvalid)) unless `signer` may make a data signature at `now`, as gpg
/// judges it: the primary key not revoked, not expired and with a valid user ID; a subkey bound,
/// not revoked, not expired, flagged for signing and back-signed; the newest self-signatures
/// decide.
void check_signing_key_valid(const SigningKey& signer, std::uint32_t now);

}  // namespace vmd::openpgp::detail
