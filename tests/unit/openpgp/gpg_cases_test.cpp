// The case generator itself: every generated case is decided by gpgv as the generator means it
// (or, for a documented stricter case, refused by us whatever gpgv says).
#include <gtest/gtest.h>

#include "fixtures/gpg_cases.hpp"
#include "openpgp_test_util.hpp"

namespace vmd::testing {
namespace {

TEST(GpgCases, GpgvDecidesEachCaseAsMeant) {
    const auto& cases = openpgp_test::generated_cases();
    ASSERT_GE(cases.cases().size(), 40U);
    for (const auto& c : cases.cases()) {
        SCOPED_TRACE(c.name);
        auto verdict = gpgv_verdict(c.key_files, c.message);
        if (c.stricter.empty()) {
            EXPECT_EQ(verdict.accepted, c.meant_to_verify) << verdict.status;
        }
        if (verdict.accepted && c.meant_to_verify) {
            EXPECT_EQ(verdict.fingerprint, c.signer) << verdict.status;
        }
    }
}

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
