// containers/image's GPG simple-signing fixtures through the policy code: each gives the outcome
// its README (tests/data/containers-image-gpg/README.md) states.
#include <gtest/gtest.h>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "common/json.hpp"
#include "fixtures/test_env.hpp"
#include "trust/evaluate.hpp"
#include "trust_test_util.hpp"

namespace vmd::trust {
namespace {

namespace fs = std::filesystem;
using test::error_of;

constexpr std::string_view kImage = "testing/manifest:latest";
constexpr std::string_view kMatchRepository = R"({"type":"matchRepository"})";

fs::path gpg_fixture(std::string_view name) {
    return testing::test_data_dir() / "containers-image-gpg" / name;
}

struct GpgFixtureCase {
    std::string name;
    std::string image;  // a dir-img-* directory, or a *.signature file over image.manifest.json
    std::vector<std::string> keys = {"public-key.gpg"};  // keyPaths
    std::string identity;                                // signedIdentity JSON; "" = default
    std::optional<Errc> refusal;                         // nullopt: accepted
    std::string says;
};

void PrintTo(const GpgFixtureCase& c, std::ostream* os) {
    *os << c.name;
}

test::DirImage load(const std::string& image) {
    if (image.starts_with("dir-img-")) {
        return test::load_dir_image(gpg_fixture(image));
    }
    return {testing::read_file(gpg_fixture("image.manifest.json")),
            {testing::read_file(gpg_fixture(image))}};
}

Policy signed_by_policy(const std::vector<std::string>& keys, std::string_view identity) {
    std::string paths;
    for (const auto& key : keys) {
        paths += (paths.empty() ? "" : ",") + json::quote(gpg_fixture(key).string());
    }
    std::string requirement =
        R"([{"type":"signedBy","keyType":"GPGKeys","keyPaths":[)" + paths + "]" +
        (identity.empty() ? "" : R"(,"signedIdentity":)" + std::string(identity)) + "}]";
    return Policy::parse(test::docker_policy(R"("docker.io/testing":)" + requirement));
}

class GpgFixtures : public ::testing::TestWithParam<GpgFixtureCase> {};

TEST_P(GpgFixtures, GiveTheDocumentedOutcome) {
    const auto& c = GetParam();
    auto policy = signed_by_policy(c.keys, c.identity);
    auto image = load(c.image);
    auto reference = parse_docker_reference(kImage);
    for (auto level : {SignatureLevel::Check, SignatureLevel::Require}) {
        SCOPED_TRACE(to_string(level));
        if (!c.refusal) {
            auto decision = evaluate(policy, reference, image.manifest, image.signatures, level);
            EXPECT_EQ(decision.scope, "docker.io/testing");
            EXPECT_TRUE(decision.signature_verified);
            continue;
        }
        auto e =
            error_of([&] { evaluate(policy, reference, image.manifest, image.signatures, level); });
        EXPECT_EQ(e.code(), *c.refusal) << e.message();
        EXPECT_NE(e.message().find(c.says), std::string::npos) << e.message();
    }
}

const std::string kFingerprint = "08CD26E446E2E95249B7A405E932F44B23E8DD43";

INSTANTIATE_TEST_SUITE_P(
    Readme, GpgFixtures,
    ::testing::Values(
        // The signed identity is "testing/manifest" (no tag): only a repository match takes it.
        GpgFixtureCase{"ImageSignature",
                       "image.signature",
                       {"public-key.gpg"},
                       std::string(kMatchRepository),
                       std::nullopt,
                       ""},
        GpgFixtureCase{"ImageSignatureDefaultIdentity",
                       "image.signature",
                       {"public-key.gpg"},
                       "",
                       Errc::SignatureInvalid,
                       "signature 1: signed by " + kFingerprint +
                           R"(: identity "testing/manifest" does not match)"},
        GpgFixtureCase{"NoOptionalFields",
                       "no-optional-fields.signature",
                       {"public-key.gpg"},
                       std::string(kMatchRepository),
                       std::nullopt,
                       ""},
        GpgFixtureCase{"DirImgValid", "dir-img-valid", {"public-key.gpg"}, "", std::nullopt, ""},
        GpgFixtureCase{"Pubring", "dir-img-valid", {"pubring.gpg"}, "", std::nullopt, ""},
        GpgFixtureCase{"SplitKeyFiles",
                       "dir-img-valid",
                       {"public-key-1.gpg", "public-key-2.gpg"},
                       "",
                       std::nullopt,
                       ""},
        GpgFixtureCase{
            "Subkey", "subkey.signature", {"public-key-with-subkey.gpg"}, "", std::nullopt, ""},
        GpgFixtureCase{"SubkeyV3",
                       "subkey.signature-v3",
                       {"public-key-with-subkey.gpg"},
                       "",
                       std::nullopt,
                       ""},
        GpgFixtureCase{"DirImgValidSubkey",
                       "dir-img-valid-subkey",
                       {"public-key-with-subkey.gpg"},
                       "",
                       std::nullopt,
                       ""},
        GpgFixtureCase{"SubkeyNeedsItsPrimary",
                       "dir-img-valid-subkey",
                       {"public-key.gpg"},
                       "",
                       Errc::SignatureInvalid,
                       "signature 1: "},
        GpgFixtureCase{"Expired",
                       "expired.signature",
                       {"public-key.gpg"},
                       std::string(kMatchRepository),
                       Errc::SignatureInvalid,
                       "expired"},
        GpgFixtureCase{"Corrupt",
                       "corrupt.signature",
                       {"public-key.gpg"},
                       std::string(kMatchRepository),
                       Errc::SignatureInvalid,
                       "signature 1: "},
        GpgFixtureCase{"CorruptV3",
                       "corrupt.signature-v3",
                       {"public-key.gpg"},
                       std::string(kMatchRepository),
                       Errc::SignatureInvalid,
                       "signature 1: "},
        GpgFixtureCase{"UnknownKey",
                       "unknown-key.signature",
                       {"public-key.gpg"},
                       std::string(kMatchRepository),
                       Errc::SignatureInvalid,
                       "signature 1: "},
        GpgFixtureCase{"UnknownKeyV3",
                       "unknown-key.signature-v3",
                       {"public-key.gpg"},
                       std::string(kMatchRepository),
                       Errc::SignatureInvalid,
                       "signature 1: "},
        GpgFixtureCase{"UnsignedLiteral",
                       "unsigned-literal.signature",
                       {"public-key.gpg"},
                       std::string(kMatchRepository),
                       Errc::SignatureInvalid,
                       "signature 1: "},
        GpgFixtureCase{"UnsignedEncrypted",
                       "unsigned-encrypted.signature",
                       {"public-key.gpg"},
                       std::string(kMatchRepository),
                       Errc::StorageCorrupt,
                       "signature 1 of 1: expected a sigstore blob"},
        GpgFixtureCase{"InvalidCleartext",
                       "invalid-cleartext.signature",
                       {"public-key.gpg"},
                       std::string(kMatchRepository),
                       Errc::StorageCorrupt,
                       "found first byte 0x2d ('-')"},
        GpgFixtureCase{
            "InvalidBlob",
            "invalid-blob.signature",
            {"public-key.gpg"},
            std::string(kMatchRepository),
            Errc::SignatureInvalid,
            "signed by " + kFingerprint + ": simple-signing payload: expected valid JSON"},
        GpgFixtureCase{"InvalidBlobV3",
                       "invalid-blob.signature-v3",
                       {"public-key.gpg"},
                       std::string(kMatchRepository),
                       Errc::SignatureInvalid,
                       "simple-signing payload: expected valid JSON"},
        GpgFixtureCase{"InvalidReference",
                       "invalid-reference.signature",
                       {"public-key.gpg"},
                       std::string(kMatchRepository),
                       Errc::SignatureInvalid,
                       R"(signed identity "UPPERCASEISINVALID" is not a valid docker reference)"},
        GpgFixtureCase{"ModifiedManifest",
                       "dir-img-modified-manifest",
                       {"public-key.gpg"},
                       "",
                       Errc::SignatureInvalid,
                       "signed manifest digest: expected sha256:"},
        GpgFixtureCase{"ManifestDigestError",
                       "dir-img-manifest-digest-error",
                       {"public-key.gpg"},
                       "",
                       Errc::SignatureInvalid,
                       "signed manifest digest: expected sha256:"},
        GpgFixtureCase{"Unsigned",
                       "dir-img-unsigned",
                       {"public-key.gpg"},
                       "",
                       Errc::SignatureRequired,
                       "expected at least one GPG simple-signing signature, found none"},
        // No manifest: nothing can match the signed digest (over the bus: StorageCorrupt first).
        GpgFixtureCase{
            "NoManifest",
            "dir-img-no-manifest",
            {"public-key.gpg"},
            "",
            Errc::SignatureInvalid,
            "expected sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b"
            "855 (the manifest's)"}));

TEST(GpgFixtureKeys, EmptyOrGarbageKeyDataIsUnusable) {
    auto image = test::load_dir_image(gpg_fixture("dir-img-valid"));
    auto reference = parse_docker_reference(kImage);
    // Empty keyData is refused when the policy is parsed.
    auto empty = error_of([] {
        Policy::parse(test::docker_policy(
            R"("docker.io/testing":[{"type":"signedBy","keyType":"GPGKeys","keyData":""}])"));
    });
    EXPECT_EQ(empty.code(), Errc::PolicyInvalid);
    // Garbage imports no key: unusable when the scope is evaluated.
    auto garbage = Policy::parse(test::docker_policy(
        R"("docker.io/testing":[{"type":"signedBy","keyType":"GPGKeys","keyData":")" +
        testing::base64("garbage") + R"("}])"));
    auto e = error_of([&] {
        evaluate(garbage, reference, image.manifest, image.signatures, SignatureLevel::Check);
    });
    EXPECT_EQ(e.code(), Errc::PolicyInvalid);
    EXPECT_NE(e.message().find("expected at least one GPG public key with a valid self-signed "
                               "user ID, found none (primary keys imported per source: "),
              std::string::npos)
        << e.message();
    // keyData holding the key works as keyPath does.
    auto inline_key = Policy::parse(test::docker_policy(
        R"("docker.io/testing":[{"type":"signedBy","keyType":"GPGKeys","keyData":")" +
        testing::base64(testing::read_file(gpg_fixture("public-key.gpg"))) + R"("}])"));
    EXPECT_TRUE(
        evaluate(inline_key, reference, image.manifest, image.signatures, SignatureLevel::Require)
            .signature_verified);
}

TEST(GpgFixtureKeys, AnUnreadableBlobBesideAGoodSignatureRefusesTheImage) {
    auto image = test::load_dir_image(gpg_fixture("dir-img-valid"));
    image.signatures.push_back(testing::read_file(gpg_fixture("unsigned-encrypted.signature")));
    auto e = error_of([&] {
        evaluate(signed_by_policy({"public-key.gpg"}, ""), parse_docker_reference(kImage),
                 image.manifest, image.signatures, SignatureLevel::Check);
    });
    EXPECT_EQ(e.code(), Errc::StorageCorrupt);
    EXPECT_NE(e.message().find("signature 2 of 2: "), std::string::npos) << e.message();
}

}  // namespace
}  // namespace vmd::trust
