// The case generator's packet splitter (gpgv's verdict on each generated case is checked in
// verify_gpgv_test.cpp, together with ours).
#include <gtest/gtest.h>

#include "fixtures/gpg_cases.hpp"

namespace vmd::testing {
namespace {

TEST(GpgCases, SplitPacketsReadsOldAndNewHeaders) {
    // Old format tag 2 with a one-byte length, new format tag 11 with a two-byte length.
    std::string old_packet = std::string("\x88\x02", 2) + "ab";
    std::string new_packet = std::string("\xcb\xc0\x10", 3) + std::string(0x10 + 192, 'x');
    auto packets = split_packets(old_packet + new_packet);
    ASSERT_EQ(packets.size(), 2U);
    EXPECT_EQ(packets[0], old_packet);
    EXPECT_EQ(packets[1], new_packet);
    EXPECT_THROW(split_packets(old_packet.substr(0, 3)), std::runtime_error);
}

}  // namespace
}  // namespace vmd::testing
