// OpenPGP packet framing (RFC 4880 §4.2, RFC 9580 §4.2): old and new headers, partial body
// lengths, old-format indeterminate lengths; bounded everywhere.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

namespace vmd::openpgp::detail {

/// Packet tags this library reads or skips.
enum class Tag : std::uint8_t {
    PublicKeyEncryptedSessionKey = 1,
    Signature = 2,
    SymmetricKeyEncryptedSessionKey = 3,
    OnePassSignature = 4,
    SecretKey = 5,
    PublicKey = 6,
    SecretSubkey = 7,
    CompressedData = 8,
    SymmetricallyEncryptedData = 9,
    Marker = 10,
    LiteralData = 11,
    Trust = 12,
    UserId = 13,
    PublicSubkey = 14,
    UserAttribute = 17,
    SymEncryptedIntegrityProtectedData = 18,
};

/// One packet: its tag and its body.
struct Packet {
    Tag tag;
    std::string_view body;
};

/// The packets of a byte string. Bodies view the input, except bodies split into partial
/// lengths, which are joined into storage owned here (so the list must outlive its views).
struct PacketList {
    std::vector<Packet> packets;
    std::deque<std::string> joined_bodies;
};

/// Splits `bytes` into packets (at most `max_packets`); throws Error(SignatureInvalid) naming
/// `what` on a malformed header, a length past the end, a partial or indeterminate length on a
/// packet that cannot have one, or too many packets.
PacketList parse_packets(std::string_view bytes, std::size_t max_packets, std::string_view what);

/// The name of a packet tag for messages ("signature", "literal data", "tag 60").
std::string tag_name(Tag tag);

}  // namespace vmd::openpgp::detail
