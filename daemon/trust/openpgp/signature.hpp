// Signature packets (RFC 4880 §5.2): v3 and v4, their subpackets, and their cryptography.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "trust/openpgp/keys.hpp"

namespace vmd::openpgp::detail {

/// Signature types (RFC 4880 §5.2.1) this library reads.
enum class SignatureType : std::uint8_t {
    Binary = 0x00,
    Text = 0x01,
    GenericCertification = 0x10,
    PersonaCertification = 0x11,
    CasualCertification = 0x12,
    PositiveCertification = 0x13,
    SubkeyBinding = 0x18,
    PrimaryKeyBinding = 0x19,
    DirectKey = 0x1F,
    KeyRevocation = 0x20,
    SubkeyRevocation = 0x28,
    CertificationRevocation = 0x30,
};

/// Key flag bits (subpacket 27) this library reads.
inline constexpr std::uint8_t kKeyFlagSign = 0x02;

/// A parsed signature. Views point into the packet body it was parsed from.
struct Signature {
    std::uint8_t version = 0;
    SignatureType type{};
    PublicKeyAlgorithm algorithm{};
    std::uint8_t hash_algorithm = 0;
    std::uint32_t created = 0;
    std::optional<std::uint32_t> expires_after;      // seconds after `created` (0 = never)
    std::optional<std::uint32_t> key_expires_after;  // seconds after the key's creation
    std::optional<std::uint8_t> key_flags;           // first octet of the key flags
    bool primary_user_id = false;
    bool names_revoker = false;  // a revocation key (subpacket 12) is named
    std::optional<std::uint64_t> issuer;
    std::optional<std::string_view> issuer_fingerprint;  // 20 bytes, v4 keys only
    std::optional<std::string_view> embedded;            // an embedded signature's packet body
    std::string_view hashed;  // what is hashed after the data (v3: type + time)
    std::uint16_t hash_prefix = 0;
    std::vector<std::string_view> values;  // the signature's numbers (RSA: 1; others: r, s)
};

/// Parses a signature packet body. Refuses (Error(SignatureInvalid)) a malformed body, a
/// version other than 3 or 4, a v4 signature without a hashed creation time, an unknown
/// critical subpacket, and any critical notation.
Signature parse_signature(std::string_view body);

/// The name of a hash algorithm ID for messages ("SHA256", "MD5", "hash 99").
std::string hash_name(std::uint8_t algorithm);

/// Whether `signature` by `key` is cryptographically valid over `data` (the parts hashed before
/// the signature's own fields). Refuses (Error(SignatureInvalid)) an algorithm mismatch, a hash
/// that is not allowed (MD5, unknown) or too short for the key, and a failed hash prefix check;
/// returns false when only the public-key operation says no.
bool signature_matches(const PublicKey& key, const Signature& signature,
                       std::span<const std::string_view> data);

}  // namespace vmd::openpgp::detail
