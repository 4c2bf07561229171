#include "trust/openpgp/packets.hpp"

#include <fmt/format.h>

#include "common/error.hpp"
#include "trust/openpgp/reader.hpp"

namespace vmd::openpgp::detail {

namespace {

// Only data packets may be streamed (partial or indeterminate lengths); RFC 9580 §4.2.1.
bool may_stream(Tag tag) {
    return tag == Tag::LiteralData || tag == Tag::CompressedData ||
           tag == Tag::SymmetricallyEncryptedData || tag == Tag::SymEncryptedIntegrityProtectedData;
}

struct NewLength {
    std::size_t length = 0;
    bool partial = false;
};

// A new-format body length: one, two or five octets, or a partial length (a power of two).
NewLength new_length(Reader& in) {
    std::size_t first = in.u8();
    if (first < 192) {
        return {first, false};
    }
    if (first < 224) {
        return {((first - 192) << 8) + in.u8() + 192, false};
    }
    if (first == 255) {
        return {in.u32(), false};
    }
    return {std::size_t{1} << (first & 0x1fU), true};
}

}  // namespace

std::string tag_name(Tag tag) {
    switch (tag) {
        case Tag::PublicKeyEncryptedSessionKey:
            return "public-key encrypted session key";
        case Tag::Signature:
            return "signature";
        case Tag::SymmetricKeyEncryptedSessionKey:
            return "symmetric-key encrypted session key";
        case Tag::OnePassSignature:
            return "one-pass signature";
        case Tag::SecretKey:
            return "secret key";
        case Tag::PublicKey:
            return "public key";
        case Tag::SecretSubkey:
            return "secret subkey";
        case Tag::CompressedData:
            return "compressed data";
        case Tag::SymmetricallyEncryptedData:
            return "symmetrically encrypted data";
        case Tag::Marker:
            return "marker";
        case Tag::LiteralData:
            return "literal data";
        case Tag::Trust:
            return "trust";
        case Tag::UserId:
            return "user ID";
        case Tag::PublicSubkey:
            return "public subkey";
        case Tag::UserAttribute:
            return "user attribute";
        case Tag::SymEncryptedIntegrityProtectedData:
            return "encrypted integrity-protected data";
    }
    return fmt::format("tag {}", static_cast<int>(tag));
}

PacketList parse_packets(std::string_view bytes, std::size_t max_packets, std::string_view what) {
    PacketList list;
    Reader in(bytes, what);
    while (!in.empty()) {
        if (list.packets.size() == max_packets) {
            fail(Errc::SignatureInvalid, "{}: expected at most {} packets, found more", what,
                 max_packets);
        }
        auto start = in.offset();
        auto ctb = in.u8();
        if ((ctb & 0x80U) == 0) {
            fail(Errc::SignatureInvalid,
                 "{}: expected a packet header at offset {}, found byte 0x{:02x}", what, start,
                 ctb);
        }
        Tag tag{};
        std::string_view body;
        if ((ctb & 0x40U) != 0) {
            tag = static_cast<Tag>(ctb & 0x3fU);
            auto length = new_length(in);
            if (!length.partial) {
                body = in.bytes(length.length);
            } else {
                if (!may_stream(tag)) {
                    fail(Errc::SignatureInvalid,
                         "{}: a {} packet at offset {} has a partial body length; expected a "
                         "definite length",
                         what, tag_name(tag), start);
                }
                std::string joined(in.bytes(length.length));
                while (length.partial) {
                    length = new_length(in);
                    joined += in.bytes(length.length);
                }
                body = list.joined_bodies.emplace_back(std::move(joined));
            }
        } else {
            tag = static_cast<Tag>((ctb >> 2) & 0x0fU);
            auto length_type = ctb & 0x03U;
            if (length_type == 3) {
                if (!may_stream(tag)) {
                    fail(Errc::SignatureInvalid,
                         "{}: a {} packet at offset {} has an indeterminate length; expected a "
                         "definite length",
                         what, tag_name(tag), start);
                }
                body = in.rest();
            } else {
                std::size_t length = length_type == 0   ? in.u8()
                                     : length_type == 1 ? in.u16()
                                                        : in.u32();
                body = in.bytes(length);
            }
        }
        if (tag == Tag{0}) {
            fail(Errc::SignatureInvalid, "{}: packet at offset {} has the reserved tag 0", what,
                 start);
        }
        list.packets.push_back({tag, body});
    }
    return list;
}

}  // namespace vmd::openpgp::detail
