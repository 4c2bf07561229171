// Stored signature blobs are sorted by format exactly as containers/image reads them.
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "fixtures/signing.hpp"
#include "trust/signatures.hpp"
#include "trust_test_util.hpp"

namespace vmd::trust {
namespace {

using test::error_of;

const std::string kSigstorePrefix("\0sigstore-json\n", 15);
const std::string kSimplePrefix("\0simple-signing\n", 16);

TEST(ReadSignatures, EachFirstByteIsReadAsContainersImageReadsIt) {
    // internal/signature.FromBlob's set: OpenPGP compressed data, one-pass signature and
    // signature packets in the old and new formats (0x3D as containers/image lists it).
    const std::set<int> openpgp = {0xA0, 0xA1, 0xA2, 0xA3, 0xC8, 0x90, 0x91, 0x92,
                                   0x3D, 0xC4, 0x88, 0x89, 0x8A, 0x8B, 0xC2};
    for (int byte = 1; byte < 256; ++byte) {
        std::vector<std::string> blobs = {std::string(1, static_cast<char>(byte)) + "rest"};
        SCOPED_TRACE(byte);
        if (openpgp.count(byte) != 0) {
            auto stored = read_signatures(blobs);
            ASSERT_EQ(stored.simple_signing.size(), 1U);
            EXPECT_EQ(stored.simple_signing[0].message, blobs[0]);
            EXPECT_EQ(stored.simple_signing[0].number, 1U);
            EXPECT_TRUE(stored.sigstore.empty());
        } else {
            auto e = error_of([&] { read_signatures(blobs); });
            EXPECT_EQ(e.code(), Errc::StorageCorrupt);
            EXPECT_NE(e.message().find(fmt::format("signature 1 of 1: expected a sigstore blob "
                                                   "(\\0sigstore-json\\n), a \\0simple-signing\\n "
                                                   "blob or a binary OpenPGP message")),
                      std::string::npos)
                << e.message();
            EXPECT_NE(e.message().find(fmt::format("found first byte 0x{:02x}", byte)),
                      std::string::npos)
                << e.message();
        }
    }
}

TEST(ReadSignatures, PrefixedFormatsAndNumbering) {
    auto sigstore = testing::sigstore_blob("payload", "signature");
    std::vector<std::string> blobs = {kSimplePrefix + "anything at all", sigstore, "\x89\x01\x02",
                                      kSimplePrefix};
    auto stored = read_signatures(blobs);
    ASSERT_EQ(stored.simple_signing.size(), 3U);
    // The prefix is stripped; what follows is not looked at until it is verified.
    EXPECT_EQ(stored.simple_signing[0].message, "anything at all");
    EXPECT_EQ(stored.simple_signing[0].number, 1U);
    EXPECT_EQ(stored.simple_signing[1].message, "\x89\x01\x02");
    EXPECT_EQ(stored.simple_signing[1].number, 3U);
    EXPECT_EQ(stored.simple_signing[2].message, "");
    EXPECT_EQ(stored.simple_signing[2].number, 4U);
    ASSERT_EQ(stored.sigstore.size(), 1U);
    EXPECT_EQ(stored.sigstore[0].number, 2U);
    EXPECT_EQ(stored.sigstore[0].blob.payload, "payload");
    EXPECT_TRUE(read_signatures(std::vector<std::string>{}).sigstore.empty());
}

TEST(ReadSignatures, AnyUnreadableBlobRefusesThemAll) {
    auto good = testing::sigstore_blob("payload", "signature");
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"", "found 0 bytes"},
        {"-----BEGIN PGP MESSAGE-----", "found first byte 0x2d ('-')"},
        {std::string("\0simple-signing", 15), "found first byte 0x00"},
        {std::string("\0other-format\n{}", 16), "found first byte 0x00"},
        {kSigstorePrefix + "[]", "sigstore signature JSON: expected an object, found an array"},
        {kSigstorePrefix + R"({"mimeType":"m","payload":"!"})", "expected standard base64"},
        {kSigstorePrefix + R"({"mimeType":"m","payload":"","extra":1})", "unknown key"},
    };
    for (const auto& [blob, says] : cases) {
        SCOPED_TRACE(says);
        auto e = error_of([&, &bad = blob] {
            read_signatures(std::vector<std::string>{good, good, bad});
        });
        EXPECT_EQ(e.code(), Errc::StorageCorrupt);
        EXPECT_NE(e.message().find("signature 3 of 3: "), std::string::npos) << e.message();
        EXPECT_NE(e.message().find(says), std::string::npos) << e.message();
    }
}

TEST(ReadSignatures, SigstoreNullsReadAsEmpty) {
    // Go writes an empty byte slice or map as null.
    std::vector<std::string> blobs = {
        kSigstorePrefix + R"({"mimeType":"text/plain","payload":null,"annotations":null})"};
    auto stored = read_signatures(blobs);
    ASSERT_EQ(stored.sigstore.size(), 1U);
    EXPECT_EQ(stored.sigstore[0].blob.payload, "");
    EXPECT_TRUE(stored.sigstore[0].blob.annotations.empty());
}

}  // namespace
}  // namespace vmd::trust
