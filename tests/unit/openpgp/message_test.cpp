// verify() on generated messages rewritten by hand: each refusal names what it expected.
#include <gtest/gtest.h>

#include "openpgp_test_util.hpp"
#include "packet_edit.hpp"

namespace vmd::testing {
namespace {

using namespace openpgp_test;
using std::chrono::system_clock;

constexpr int kSignatureTag = 2;
constexpr int kOnePassTag = 4;
constexpr int kCompressedTag = 8;

openpgp::Keyring keyring_for(const GpgCase& c) {
    return keyring_of(c.key_files);
}

void expect_refused(const GpgCase& c, std::string_view message, std::string_view reason,
                    system_clock::time_point now = system_clock::now()) {
    auto outcome = verify_outcome(message, keyring_for(c), now);
    EXPECT_FALSE(outcome.verified) << "accepted; expected a refusal saying " << reason;
    EXPECT_NE(outcome.why.find(reason), std::string::npos) << outcome.why;
}

system_clock::time_point at(std::int64_t seconds) {
    return system_clock::time_point(std::chrono::seconds(seconds));
}

TEST(OpenpgpMessage, ExpiredNowButValidWhenSigned) {
    const auto& c = generated_cases().at("expired-key");
    // Signed 2020-06-01 by a key made 2020-01-01 that expires a year later.
    auto then = verify_outcome(c.message, keyring_for(c), at(1591056000));  // 2020-06-02
    ASSERT_TRUE(then.verified) << then.why;
    EXPECT_EQ(then.verified->literal_data, c.literal);
    expect_refused(c, c.message, "expired at 2020-12-31");
    expect_refused(c, c.message, "after now", at(1577000000));  // 2019-12: key not made yet
}

TEST(OpenpgpMessage, RevokedKeysAndSubkeysAndExpiredSubkeys) {
    expect_refused(generated_cases().at("revoked-key"), generated_cases().at("revoked-key").message,
                   "has been revoked");
    const auto& subkey = generated_cases().at("revoked-subkey");
    expect_refused(subkey, subkey.message, "subkey");
    expect_refused(subkey, subkey.message, "has been revoked");
    const auto& expired = generated_cases().at("expired-subkey");
    expect_refused(expired, expired.message, "subkey");
    auto then = verify_outcome(expired.message, keyring_for(expired), at(1591056000));
    EXPECT_TRUE(then.verified) << then.why;
}

TEST(OpenpgpMessage, NewestSelfSignatureDecidesTheFlags) {
    const auto& c = generated_cases().at("key-without-sign-flag");
    // Signed in 2020; today's self-signature (gpg dropped the old one) says certify only.
    expect_refused(c, c.message, "expected the signing key flag, found flags 01");
    expect_refused(c, c.message, "expected a user ID with a valid self-signature at 2020",
                   at(1591056000));
}

TEST(OpenpgpMessage, OnePassSignatureMustAnnounceTheSignature) {
    const auto& c = generated_cases().at("compress-none");
    auto packets = packets_of(c.message);
    ASSERT_EQ(packets[0].tag, kOnePassTag);
    auto other_hash = packets;
    other_hash[0].body[2] = '\x0b';  // SHA224 announced, SHA512 used
    expect_refused(c, serialize(other_hash), "expected it to announce the signature");
    auto not_last = packets;
    not_last[0].body[12] = '\x00';
    expect_refused(c, serialize(not_last), "last-signature flag");
    // Unchanged but re-framed with new-format headers, it still verifies.
    EXPECT_TRUE(verify_outcome(serialize(packets), keyring_for(c)).verified);
}

TEST(OpenpgpMessage, CompressionOnceAndAlone) {
    const auto& c = generated_cases().at("compress-zlib");
    auto packets = packets_of(c.message);
    ASSERT_EQ(packets.size(), 1U);
    ASSERT_EQ(packets[0].tag, kCompressedTag);
    auto nested = serialize(kCompressedTag, '\x00' + serialize(packets));
    expect_refused(c, nested, "nested compressed data");
    auto literal = packets_of(generated_cases().at("compress-none").message)[1];
    expect_refused(c, serialize(packets) + serialize(literal.tag, literal.body),
                   "expected exactly one signature, found 0");
    // A marker packet is skipped (as gpg does) only when it says PGP.
    EXPECT_TRUE(verify_outcome(serialize(10, "PGP") + c.message, keyring_for(c)).verified);
    expect_refused(c, serialize(10, "XYZ") + c.message, "marker packet");
}

TEST(OpenpgpMessage, EncryptedAndOddSequencesAreRefused) {
    const auto& c = generated_cases().at("compress-none");
    auto packets = packets_of(c.message);
    expect_refused(c, serialize(18, "\x01whatever") + c.message, "encrypted");
    expect_refused(c, serialize({packets[1], packets[2]}), "expected one-pass signature");
    expect_refused(c, serialize({packets[0], packets[1], packets[2], packets[2]}),
                   "expected exactly one signature, found 2");
    expect_refused(c, "", "expected exactly one signature, found 0");
    expect_refused(c, std::string(openpgp::kMaxMessageBytes + 1, '\x90'),
                   "expected at most 1048576 bytes");
}

TEST(OpenpgpMessage, CriticalSubpacketsAndNotations) {
    const auto& c = generated_cases().at("compress-none");
    auto packets = packets_of(c.message);
    auto& signature = packets[2].body;
    ASSERT_EQ(packets[2].tag, kSignatureTag);
    // gpg's issuer fingerprint subpacket: length 22, type 33.
    auto at_type = signature.find(std::string("\x16\x21\x04", 3)) + 1;
    ASSERT_LT(at_type, layout_of(signature).hashed_end);
    auto unknown = packets;
    unknown[2].body[at_type] = static_cast<char>(0x80 | 100);
    expect_refused(c, serialize(unknown), "found critical subpacket 100");
    auto notation = packets;
    notation[2].body[at_type] = static_cast<char>(0x80 | 20);
    expect_refused(c, serialize(notation), "found critical notation 20");
}

TEST(OpenpgpMessage, HashPrefixAndSignatureType) {
    const auto& c = generated_cases().at("signature-first");
    auto packets = packets_of(c.message);
    ASSERT_EQ(packets[0].tag, kSignatureTag);
    auto prefix = packets;
    prefix[0].body[layout_of(prefix[0].body).prefix] ^= 0x01;
    expect_refused(c, serialize(prefix), "expected the digest to start with");
    auto certification = packets;
    certification[0].body[1] = '\x10';
    expect_refused(c, serialize(certification), "found type 0x10");
}

TEST(OpenpgpMessage, TextSignatureNeedsCanonicalLineEnds) {
    const auto& c = generated_cases().at("text-mode-lines");
    auto packets = packets_of(c.message);
    auto crlf = packets[1].body.find("\r\n");
    ASSERT_NE(crlf, std::string::npos);
    packets[1].body[crlf] = ' ';
    expect_refused(c, serialize(packets), "found a bare LF");
}

TEST(OpenpgpMessage, SignerMustBeTrusted) {
    const auto& c = generated_cases().at("rsa3072");
    auto outcome = verify_outcome(c.message, openpgp::Keyring{});
    EXPECT_FALSE(outcome.verified);
    EXPECT_NE(outcome.why.find("expected one of the 0 trusted keys"), std::string::npos)
        << outcome.why;
    expect_refused(generated_cases().at("hash-MD5"), generated_cases().at("hash-MD5").message,
                   "found MD5");
}

}  // namespace
}  // namespace vmd::testing
