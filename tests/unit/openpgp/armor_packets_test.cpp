// ASCII armor and packet framing, on gpg's own output and on hand-made edge cases.
#include <gtest/gtest.h>

#include "openpgp_test_util.hpp"
#include "trust/openpgp/armor.hpp"
#include "trust/openpgp/packets.hpp"

namespace vmd::testing {
namespace {

using openpgp_test::expect_refused;
namespace detail = openpgp::detail;
using detail::Tag;
using openpgp_test::generated_cases;

std::string armored_rsa3072() {
    return read_file(generated_cases().dir() / "rsa3072.asc");
}

TEST(OpenpgpArmor, GpgArmorDecodesToGpgBinaryExport) {
    auto text = armored_rsa3072();
    ASSERT_TRUE(detail::looks_armored(text));
    EXPECT_FALSE(detail::looks_armored(read_file(generated_cases().dir() / "rsa3072.gpg")));
    EXPECT_EQ(detail::dearmor(text, "PUBLIC KEY BLOCK"),
              read_file(generated_cases().dir() / "rsa3072.gpg"));
}

TEST(OpenpgpArmor, Crc24OfTheCheckString) {
    EXPECT_EQ(detail::crc24(""), 0xB704CEU);
    EXPECT_EQ(detail::crc24("123456789"), 0x21CF02U);  // CRC-24/OPENPGP's check value
}

TEST(OpenpgpArmor, TwoBlocksWithTextAroundAndCrLfLines) {
    auto text = armored_rsa3072();
    std::string crlf;
    for (char c : text) {
        crlf += c == '\n' ? std::string("\r\n") : std::string(1, c);
    }
    auto both = "a comment before\n" + text + "between\n" + crlf;
    auto binary = read_file(generated_cases().dir() / "rsa3072.gpg");
    EXPECT_EQ(detail::dearmor(both, "PUBLIC KEY BLOCK"), binary + binary);
}

TEST(OpenpgpArmor, RefusesBrokenBlocks) {
    auto text = armored_rsa3072();
    auto crc_at = text.rfind("\n=") + 2;
    auto bad_crc = text;
    bad_crc[crc_at] = bad_crc[crc_at] == 'A' ? 'B' : 'A';
    expect_refused([&] { detail::dearmor(bad_crc, "PUBLIC KEY BLOCK"); }, "expected CRC-24");

    auto no_end = text.substr(0, text.find("-----END"));
    expect_refused([&] { detail::dearmor(no_end, "PUBLIC KEY BLOCK"); }, "expected an END line");

    expect_refused([&] { detail::dearmor(text, "MESSAGE"); }, "expected \"-----BEGIN PGP MESSAGE");

    auto bad_base64 = text;
    bad_base64[text.find("\n\n") + 3] = '*';
    expect_refused([&] { detail::dearmor(bad_base64, "PUBLIC KEY BLOCK"); }, "expected base64");

    expect_refused([&] { detail::dearmor("no armor here\n", "PUBLIC KEY BLOCK"); }, "found none");
}

TEST(OpenpgpArmor, ChecksumLineIsOptional) {
    auto text = armored_rsa3072();
    auto crc_line = text.rfind("\n=");
    auto without = text.substr(0, crc_line + 1) + text.substr(text.find('\n', crc_line + 1) + 1);
    EXPECT_EQ(detail::dearmor(without, "PUBLIC KEY BLOCK"),
              read_file(generated_cases().dir() / "rsa3072.gpg"));
}

TEST(OpenpgpPackets, PartialBodyLengthsAreJoined) {
    // A new-format literal data packet in chunks of 512 (partial) + 3 (final) bytes.
    std::string body(515, 'x');
    body[0] = 'b';
    std::string packet =
        std::string("\xcb\xe9", 2) + body.substr(0, 512) + "\x03" + body.substr(512);
    auto list = detail::parse_packets(packet, 4, "test");
    ASSERT_EQ(list.packets.size(), 1U);
    EXPECT_EQ(list.packets[0].tag, Tag::LiteralData);
    EXPECT_EQ(list.packets[0].body, body);
}

TEST(OpenpgpPackets, StreamedLengthsOnlyOnDataPackets) {
    expect_refused([] { detail::parse_packets(std::string("\xc2\xe1\x00\x00", 4), 4, "test"); },
                   "partial body length");
    expect_refused([] { detail::parse_packets(std::string("\x8b\x00", 2), 4, "test"); },
                   "indeterminate length");
    // Old-format indeterminate length on compressed data: to the end of the input.
    const std::string input(
        "\xa3\x00"
        "abc",
        5);  // the list views its input
    auto list = detail::parse_packets(input, 4, "test");
    ASSERT_EQ(list.packets.size(), 1U);
    EXPECT_EQ(list.packets[0].tag, Tag::CompressedData);
    EXPECT_EQ(list.packets[0].body, std::string("\x00"
                                                "abc",
                                                4));
}

TEST(OpenpgpPackets, RefusesMalformedFraming) {
    expect_refused([] { detail::parse_packets("\x01", 4, "test"); }, "expected a packet header");
    expect_refused([] { detail::parse_packets(std::string("\x88\x05\x01", 3), 4, "test"); },
                   "expected 5 more bytes");
    expect_refused([] { detail::parse_packets(std::string("\xc0\x00", 2), 4, "test"); },
                   "reserved tag 0");
    std::string three_markers;
    for (int i = 0; i < 3; ++i) {
        three_markers += std::string("\xa8\x03PGP", 5);
    }
    expect_refused([&] { detail::parse_packets(three_markers, 2, "test"); },
                   "expected at most 2 packets");
    EXPECT_EQ(detail::parse_packets(three_markers, 3, "test").packets.size(), 3U);
}

}  // namespace
}  // namespace vmd::testing
