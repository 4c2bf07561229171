// The payload of a GPG simple signature ("atomic container signature"), parsed exactly as
// containers/image's signature/simple.go does (DESIGN §6a "Payload").
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace vmd::trust {

/// The payload's critical.type.
inline constexpr std::string_view kSimpleSigningType = "atomic container signature";

/// The claims of a simple-signing payload; nothing here is checked against the image yet.
struct SimpleSigningPayload {
    std::string docker_reference;           // critical.identity.docker-reference, as written
    std::string manifest_digest;            // critical.image.docker-manifest-digest, as written
    std::optional<std::string> creator;     // optional.creator, when a string
    std::optional<std::int64_t> timestamp;  // optional.timestamp, when a number
};

/// Parses the payload strictly: top level exactly {critical, optional}; critical exactly
/// {type, image, identity}, type "atomic container signature", image exactly
/// {docker-manifest-digest}, identity exactly {docker-reference}, both strings; optional an
/// object (not null) without duplicate keys, where creator is a string or null, timestamp a
/// whole number that fits a signed 64-bit integer, or null, and any other key holds any value.
/// Anything else: Error(SignatureInvalid). Call only on bytes whose signature was verified.
SimpleSigningPayload parse_simple_signing_payload(std::string_view payload);

}  // namespace vmd::trust
