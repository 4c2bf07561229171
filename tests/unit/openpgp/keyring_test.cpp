// Keyring::import_file on generated key files and on key files rewritten by hand.
#include <gtest/gtest.h>

#include "openpgp_test_util.hpp"
#include "packet_edit.hpp"
#include "trust/openpgp/armor.hpp"

namespace vmd::testing {
namespace {

using namespace openpgp_test;

constexpr int kSignatureTag = 2;
constexpr int kUserIdTag = 13;
constexpr int kPublicSubkeyTag = 14;

std::string key_file(const std::string& name) {
    return read_file(generated_cases().dir() / name);
}

std::string binary_key(const std::string& name) {
    return openpgp::detail::dearmor(key_file(name), "PUBLIC KEY BLOCK");
}

// The unhashed subpackets of a v4 signature without those of `type`.
std::string drop_unhashed(const std::string& signature, int type) {
    auto layout = layout_of(signature);
    std::string kept;
    std::size_t at = layout.unhashed_start;
    while (at < layout.unhashed_end) {
        std::size_t length = static_cast<unsigned char>(signature[at]);
        std::size_t header = 1;
        if (length >= 192) {  // gpg's two-octet subpacket lengths
            length = ((length - 192) << 8) + static_cast<unsigned char>(signature[at + 1]) + 192;
            header = 2;
        }
        if ((static_cast<unsigned char>(signature[at + header]) & 0x7f) != type) {
            kept += signature.substr(at, header + length);
        }
        at += header + length;
    }
    auto size = static_cast<std::uint16_t>(kept.size());
    return signature.substr(0, layout.hashed_end) + static_cast<char>(size >> 8) +
           static_cast<char>(size & 0xff) + kept + signature.substr(layout.unhashed_end);
}

TEST(OpenpgpKeyring, GarbageAndBrokenFilesImportNothingAndSayWhy) {
    openpgp::Keyring keyring;
    EXPECT_EQ(keyring.import_file("this is not a key\n"), 0U);
    EXPECT_FALSE(keyring.last_import_error().empty());
    EXPECT_EQ(keyring.import_file(key_file("key-then-garbage.gpg")), 0U);
    EXPECT_NE(keyring.last_import_error().find("expected a packet header"), std::string::npos)
        << keyring.last_import_error();
    EXPECT_EQ(keyring.import_file(""), 0U);
    std::string huge(openpgp::kMaxKeyFileBytes + 1, '\0');
    EXPECT_EQ(keyring.import_file(huge), 0U);
    EXPECT_NE(keyring.last_import_error().find("expected at most 1048576 bytes"),
              std::string::npos);
    // A secret key packet has no place in a trusted public key file.
    EXPECT_EQ(keyring.import_file(key_file("rsa3072.gpg") + serialize(5, "secret")), 0U);
    EXPECT_EQ(keyring.size(), 0U);
    EXPECT_EQ(keyring.import_file(key_file("rsa3072.gpg")), 1U);
    EXPECT_EQ(keyring.last_import_error(), "");
}

TEST(OpenpgpKeyring, SeveralKeysPerFileAndTheSameKeyTwice) {
    openpgp::Keyring keyring;
    EXPECT_EQ(keyring.import_file(key_file("two-keys.gpg")), 2U);
    EXPECT_EQ(keyring.import_file(key_file("two-blocks.asc")), 0U);  // the same two keys, merged
    EXPECT_EQ(keyring.size(), 2U);
    EXPECT_EQ(keyring.import_file(key_file("rsa3072.asc")), 1U);
    EXPECT_EQ(keyring.size(), 3U);
}

TEST(OpenpgpKeyring, TrustPacketsAreSkipped) {
    std::string with_trust;
    for (const auto& packet : packets_of(binary_key("ed25519.asc"))) {
        with_trust +=
            serialize(packet.tag, packet.body) + serialize(12, std::string("\x00\x00", 2));
    }
    openpgp::Keyring keyring;
    EXPECT_EQ(keyring.import_file(with_trust), 1U) << keyring.last_import_error();
    const auto& c = generated_cases().at("ed25519");
    EXPECT_TRUE(verify_outcome(c.message, keyring).verified);
}

TEST(OpenpgpKeyring, KeyWithoutValidSelfSignedUserIdIsDropped) {
    auto packets = packets_of(binary_key("rsa3072.asc"));
    auto broken = packets;
    bool changed = false;
    for (std::size_t i = 1; i < broken.size(); ++i) {
        if (broken[i].tag == kSignatureTag && broken[i - 1].tag == kUserIdTag) {
            broken[i].body.back() ^= 0x01;
            changed = true;
        }
    }
    ASSERT_TRUE(changed);
    openpgp::Keyring keyring;
    EXPECT_EQ(keyring.import_file(serialize(broken)), 0U);
    std::vector<RawPacket> no_user_id;
    for (const auto& packet : packets) {
        if (packet.tag != kUserIdTag) {
            no_user_id.push_back(packet);
        }
    }
    EXPECT_EQ(keyring.import_file(serialize(no_user_id)), 0U);
    EXPECT_EQ(keyring.import_file(serialize(packets)), 1U);
}

TEST(OpenpgpKeyring, SigningSubkeyNeedsItsBackSignature) {
    const auto& c = generated_cases().at("subkey");
    auto packets = packets_of(binary_key("subkey.asc"));
    bool stripped = false;
    for (std::size_t i = 1; i < packets.size(); ++i) {
        if (packets[i].tag == kSignatureTag && packets[i - 1].tag == kPublicSubkeyTag) {
            auto without = drop_unhashed(packets[i].body, 32);
            stripped = without.size() < packets[i].body.size();
            packets[i].body = without;
        }
    }
    ASSERT_TRUE(stripped) << "gpg put no embedded back-signature in the unhashed area";
    openpgp::Keyring keyring;
    ASSERT_EQ(keyring.import_file(serialize(packets)), 1U);  // the binding itself still verifies
    auto outcome = verify_outcome(c.message, keyring);
    EXPECT_FALSE(outcome.verified);
    EXPECT_NE(outcome.why.find("back-)signature"), std::string::npos) << outcome.why;
}

}  // namespace
}  // namespace vmd::testing
