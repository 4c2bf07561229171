// The differential test: every generated case, and every containers/image fixture signature,
// is decided by gpgv and by our verifier; any disagreement fails (the documented cases where
// we are stricter must be refused by us).
#include <gtest/gtest.h>

#include "fixtures/gpg_home.hpp"
#include "openpgp_test_util.hpp"

namespace vmd::testing {
namespace {

using openpgp_test::fixture;
using openpgp_test::generated_cases;
using openpgp_test::keyring_of;
using openpgp_test::verify_outcome;

TEST(OpenpgpDifferential, EveryGeneratedCaseAgreesWithGpgv) {
    std::size_t accepted = 0;
    std::size_t refused = 0;
    for (const auto& c : generated_cases().cases()) {
        SCOPED_TRACE(c.name);
        auto verdict = gpgv_verdict(c.key_files, c.message);
        auto keyring = keyring_of(c.key_files);
        auto ours = verify_outcome(c.message, keyring);
        if (!c.stricter.empty()) {
            EXPECT_FALSE(ours.verified) << "stricter case accepted: " << c.stricter;
            // The case documents a real difference: gpgv accepts it.
            EXPECT_TRUE(verdict.accepted) << "gpgv refuses too:\n" << verdict.status;
            continue;
        }
        EXPECT_EQ(ours.verified.has_value(), verdict.accepted)
            << "ours: " << (ours.verified ? "accepted" : ours.why) << "\ngpgv:\n"
            << verdict.status;
        // The generator's own check: gpgv decides each case as the generator means it.
        EXPECT_EQ(verdict.accepted, c.meant_to_verify) << verdict.status;
        if (ours.verified && verdict.accepted) {
            EXPECT_EQ(ours.verified->signer_fingerprint, verdict.fingerprint);
            EXPECT_EQ(ours.verified->signer_fingerprint, c.signer);
            EXPECT_EQ(ours.verified->literal_data, c.literal);
        }
        (ours.verified ? accepted : refused)++;
    }
    // Both outcomes are well represented, so the comparison means something.
    EXPECT_GE(accepted, 20U);
    EXPECT_GE(refused, 12U);
}

struct FixtureCase {
    const char* signature;
    std::vector<const char*> keys;
};

TEST(OpenpgpDifferential, ContainersImageFixturesAgreeWithGpgv) {
    const std::vector<FixtureCase> cases{
        {"image.signature", {"public-key.gpg"}},
        {"image.signature", {"pubring.gpg"}},
        {"image.signature", {"public-key-1.gpg", "public-key-2.gpg"}},
        {"no-optional-fields.signature", {"public-key.gpg"}},
        {"invalid-blob.signature", {"public-key.gpg"}},
        {"invalid-blob.signature-v3", {"public-key.gpg"}},
        {"invalid-reference.signature", {"public-key.gpg"}},
        {"dir-img-valid/signature-1", {"public-key.gpg"}},
        {"subkey.signature", {"public-key-with-subkey.gpg"}},
        {"subkey.signature-v3", {"public-key-with-subkey.gpg"}},
        {"dir-img-valid-subkey/signature-1", {"public-key-with-subkey.gpg"}},
        {"expired.signature", {"public-key.gpg"}},
        {"corrupt.signature", {"public-key.gpg"}},
        {"corrupt.signature-v3", {"public-key.gpg"}},
        {"unknown-key.signature", {"public-key.gpg"}},
        {"unknown-key.signature-v3", {"public-key.gpg"}},
        {"unsigned-literal.signature", {"public-key.gpg"}},
        {"unsigned-encrypted.signature", {"public-key.gpg"}},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.signature);
        std::vector<std::filesystem::path> keys;
        for (const char* key : c.keys) {
            keys.push_back(fixture(key));
        }
        auto message = read_file(fixture(c.signature));
        auto verdict = gpgv_verdict(keys, message);
        auto ours = verify_outcome(message, keyring_of(keys));
        EXPECT_EQ(ours.verified.has_value(), verdict.accepted)
            << "ours: " << (ours.verified ? "accepted" : ours.why) << "\ngpgv:\n"
            << verdict.status;
        if (ours.verified && verdict.accepted) {
            EXPECT_EQ(ours.verified->signer_fingerprint, verdict.fingerprint);
        }
    }
}

}  // namespace
}  // namespace vmd::testing
