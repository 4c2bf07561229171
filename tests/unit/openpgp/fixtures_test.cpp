// containers/image's GPG fixtures at the signature level: each gives the outcome its README
// states (payload-level outcomes belong to the policy code).
#include <gtest/gtest.h>

#include <algorithm>

#include "openpgp_test_util.hpp"

namespace vmd::testing {
namespace {

using openpgp_test::fixture;
using openpgp_test::keyring_of;
using openpgp_test::verify_outcome;
namespace fs = std::filesystem;

constexpr std::string_view kSigner = "08CD26E446E2E95249B7A405E932F44B23E8DD43";
constexpr std::string_view kSubkeyPrimary = "B9F4CDB9FD8C475BFA340AC38D54A947EE396F36";
constexpr std::string_view kSubkey = "57D1D95BBC53BA0EAFF0718CD75B3109B3BAAEAF";

openpgp_test::Outcome check(const std::string& signature, std::vector<fs::path> keys) {
    return verify_outcome(read_file(fixture(signature)), keyring_of(keys));
}

TEST(OpenpgpFixtures, KeyFilesImportTheirKeys) {
    openpgp::Keyring single;
    EXPECT_EQ(single.import_file(read_file(fixture("public-key.gpg"))), 1U);
    EXPECT_EQ(single.fingerprints(), std::vector<std::string>{std::string(kSigner)});

    // pubring.gpg: four keys with trust packets between them; the two split files hold two
    // of them, the signer among them.
    openpgp::Keyring ring;
    EXPECT_EQ(ring.import_file(read_file(fixture("pubring.gpg"))), 4U);
    openpgp::Keyring split;
    EXPECT_EQ(split.import_file(read_file(fixture("public-key-1.gpg"))), 1U);
    EXPECT_EQ(split.import_file(read_file(fixture("public-key-2.gpg"))), 1U);
    auto all = ring.fingerprints();
    for (const auto& fingerprint : split.fingerprints()) {
        EXPECT_NE(std::find(all.begin(), all.end(), fingerprint), all.end()) << fingerprint;
    }
    EXPECT_NE(std::find(all.begin(), all.end(), kSigner), all.end());
}

TEST(OpenpgpFixtures, ImageSignatureVerifies) {
    for (const auto& keys : std::vector<std::vector<fs::path>>{
             {fixture("public-key.gpg")},
             {fixture("pubring.gpg")},
             {fixture("public-key-1.gpg"), fixture("public-key-2.gpg")}}) {
        auto outcome = check("image.signature", keys);
        ASSERT_TRUE(outcome.verified) << outcome.why;
        EXPECT_EQ(outcome.verified->signer_fingerprint, kSigner);
        EXPECT_EQ(outcome.verified->signing_key_fingerprint, kSigner);
        EXPECT_NE(outcome.verified->literal_data.find(R"("docker-reference":"testing/manifest")"),
                  std::string::npos)
            << outcome.verified->literal_data;
    }
    auto no_optional = check("no-optional-fields.signature", {fixture("public-key.gpg")});
    EXPECT_TRUE(no_optional.verified) << no_optional.why;
    auto dir_valid = check("dir-img-valid/signature-1", {fixture("public-key.gpg")});
    EXPECT_TRUE(dir_valid.verified) << dir_valid.why;
}

TEST(OpenpgpFixtures, SignaturesOverOtherBytesVerifyAtThisLevel) {
    // The payload is wrong, not the signature: refusing them is the policy code's job.
    for (const char* name :
         {"invalid-blob.signature", "invalid-blob.signature-v3", "invalid-reference.signature"}) {
        auto outcome = check(name, {fixture("public-key.gpg")});
        ASSERT_TRUE(outcome.verified) << name << ": " << outcome.why;
        EXPECT_EQ(outcome.verified->signer_fingerprint, kSigner);
    }
}

TEST(OpenpgpFixtures, SubkeySignatureCountsAsItsPrimaryKeys) {
    for (const char* name :
         {"subkey.signature", "subkey.signature-v3", "dir-img-valid-subkey/signature-1"}) {
        auto outcome = check(name, {fixture("public-key-with-subkey.gpg")});
        ASSERT_TRUE(outcome.verified) << name << ": " << outcome.why;
        EXPECT_EQ(outcome.verified->signer_fingerprint, kSubkeyPrimary);
        EXPECT_EQ(outcome.verified->signing_key_fingerprint, kSubkey);
    }
}

TEST(OpenpgpFixtures, RefusedSignaturesSayWhy) {
    struct Refused {
        const char* name;
        const char* reason;
    };
    for (const auto& refused : std::vector<Refused>{
             {"expired.signature", "expired"},
             // The corruption lands in the compressed stream: any refusal will do.
             {"corrupt.signature", ""},
             {"corrupt.signature-v3", ""},
             {"unknown-key.signature", "expected one of the 1 trusted keys"},
             {"unknown-key.signature-v3", "expected one of the 1 trusted keys"},
             {"unsigned-literal.signature", "expected exactly one signature, found 0"},
             {"unsigned-encrypted.signature", "encrypted"},
             {"invalid-cleartext.signature", "expected a packet header"},
         }) {
        auto outcome = check(refused.name, {fixture("public-key.gpg")});
        EXPECT_FALSE(outcome.verified) << refused.name;
        EXPECT_NE(outcome.why.find(refused.reason), std::string::npos)
            << refused.name << ": " << outcome.why;
    }
}

TEST(OpenpgpFixtures, SubkeySignatureNeedsTheKeyWithTheSubkey) {
    auto outcome = check("subkey.signature", {fixture("public-key.gpg")});
    EXPECT_FALSE(outcome.verified);
    EXPECT_NE(outcome.why.find("D75B3109B3BAAEAF"), std::string::npos) << outcome.why;
}

}  // namespace
}  // namespace vmd::testing
