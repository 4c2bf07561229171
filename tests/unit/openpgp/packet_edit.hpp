// Rewriting generated messages and key files packet by packet, for the mutation tests.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "trust/openpgp/packets.hpp"

namespace vmd::testing::openpgp_test {

/// One packet with an owned body.
struct RawPacket {
    int tag = 0;
    std::string body;
};

/// The packets of `bytes` (our parser; its framing is tested on its own).
inline std::vector<RawPacket> packets_of(std::string_view bytes) {
    auto list = openpgp::detail::parse_packets(bytes, 100000, "test input");
    std::vector<RawPacket> result;
    for (const auto& packet : list.packets) {
        result.push_back({static_cast<int>(packet.tag), std::string(packet.body)});
    }
    return result;
}

/// A new-format packet with a five-octet length.
inline std::string serialize(int tag, std::string_view body) {
    auto size = static_cast<std::uint32_t>(body.size());
    std::string out{static_cast<char>(0xC0 | tag), '\xff',
                    static_cast<char>(size >> 24), static_cast<char>(size >> 16),
                    static_cast<char>(size >> 8),  static_cast<char>(size)};
    out += body;
    return out;
}

inline std::string serialize(const std::vector<RawPacket>& packets) {
    std::string out;
    for (const auto& packet : packets) {
        out += serialize(packet.tag, packet.body);
    }
    return out;
}

/// Offsets in a v4 signature body: where the unhashed area and the hash prefix start.
struct SignatureLayout {
    std::size_t hashed_start = 6;
    std::size_t hashed_end = 0;
    std::size_t unhashed_start = 0;
    std::size_t unhashed_end = 0;
    std::size_t prefix = 0;
};

inline SignatureLayout layout_of(std::string_view body) {
    auto u16 = [&](std::size_t at) {
        return (static_cast<std::size_t>(static_cast<unsigned char>(body[at])) << 8) |
               static_cast<unsigned char>(body[at + 1]);
    };
    SignatureLayout layout;
    layout.hashed_end = 6 + u16(4);
    layout.unhashed_start = layout.hashed_end + 2;
    layout.unhashed_end = layout.unhashed_start + u16(layout.hashed_end);
    layout.prefix = layout.unhashed_end;
    return layout;
}

}  // namespace vmd::testing::openpgp_test
