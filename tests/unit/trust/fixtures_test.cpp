// The containers/image signature fixtures (real cosign/skopeo output) give the outcomes their
// README lists.
#include <gtest/gtest.h>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "fixtures/test_env.hpp"
#include "trust/evaluate.hpp"
#include "trust_test_util.hpp"

namespace vmd::trust {
namespace {

namespace fs = std::filesystem;
using test::error_of;

constexpr std::string_view kSignedRepo = "192.168.64.2:5000/cosign-signed-single-sample";

test::DirImage load_fixture(std::string_view name) {
    return test::load_dir_image(testing::containers_image_fixtures_dir() / name);
}

struct FixtureCase {
    std::string name;
    std::string fixture;
    std::string key_file;
    std::string identity;  // signedIdentity JSON, "" for the default
    std::string image;
    std::optional<Errc> refusal;  // nullopt: accepted
    std::string says;
};

void PrintTo(const FixtureCase& c, std::ostream* os) {
    *os << c.name;
}

class CosignFixtures : public ::testing::TestWithParam<FixtureCase> {};

TEST_P(CosignFixtures, GiveTheDocumentedOutcome) {
    const auto& c = GetParam();
    auto key_path = (testing::containers_image_fixtures_dir() / c.key_file).string();
    std::string requirement = R"({"type":"sigstoreSigned","keyPath":")" + key_path + "\"";
    if (!c.identity.empty()) {
        requirement += R"(,"signedIdentity":)" + c.identity;
    }
    auto policy = Policy::parse(R"({"default":[)" + requirement + "}]}");
    auto image = load_fixture(c.fixture);
    ASSERT_FALSE(image.signatures.empty());
    auto ref = parse_docker_reference(c.image);
    for (auto level : {SignatureLevel::Check, SignatureLevel::Require}) {
        if (!c.refusal) {
            auto decision = evaluate(policy, ref, image.manifest, image.signatures, level);
            EXPECT_TRUE(decision.signature_verified);
            EXPECT_EQ(decision.scope, "default");
            continue;
        }
        auto e = error_of([&] { evaluate(policy, ref, image.manifest, image.signatures, level); });
        EXPECT_EQ(e.code(), *c.refusal) << e.message();
        EXPECT_NE(e.message().find(c.says), std::string::npos) << e.message();
    }
}

const std::string kMatchRepository = R"({"type":"matchRepository"})";
const std::string kLatest = std::string(kSignedRepo) + ":latest";

INSTANTIATE_TEST_SUITE_P(
    Table, CosignFixtures,
    ::testing::Values(
        FixtureCase{"ValidMatchRepository", "dir-img-cosign-valid", "cosign.pub", kMatchRepository,
                    kLatest, std::nullopt, ""},
        FixtureCase{
            "ValidExactRepository", "dir-img-cosign-valid", "cosign.pub",
            R"({"type":"exactRepository","dockerRepository":")" + std::string(kSignedRepo) + "\"}",
            "example.com/mirror/copy:1", std::nullopt, ""},
        FixtureCase{"ValidDefaultIdentity", "dir-img-cosign-valid", "cosign.pub", "", kLatest,
                    Errc::SignatureInvalid,
                    R"(identity ")" + std::string(kSignedRepo) + R"(" does not match ")" + kLatest +
                        R"(" (matchRepoDigestOrExact))"},
        FixtureCase{"ValidMatchExact", "dir-img-cosign-valid", "cosign.pub",
                    R"({"type":"matchExact"})", kLatest, Errc::SignatureInvalid, "(matchExact)"},
        FixtureCase{"ValidOtherRepository", "dir-img-cosign-valid", "cosign.pub", kMatchRepository,
                    "192.168.64.2:5000/other:latest", Errc::SignatureInvalid, "(matchRepository)"},
        FixtureCase{"ValidWrongKey", "dir-img-cosign-valid", "cosign2.pub", kMatchRepository,
                    kLatest, Errc::SignatureInvalid, "ECDSA verification failed with key 1 of 1"},
        FixtureCase{"ValidRsaKey", "dir-img-cosign-valid", "some-rsa-key.pub", kMatchRepository,
                    kLatest, Errc::SignatureInvalid, "RSA verification failed with key 1 of 1"},
        FixtureCase{"ModifiedManifest", "dir-img-cosign-modified-manifest", "cosign.pub",
                    kMatchRepository, kLatest, Errc::SignatureInvalid,
                    "signed manifest digest: expected sha256:"},
        FixtureCase{"ManifestDigestError", "dir-img-cosign-manifest-digest-error", "cosign.pub",
                    kMatchRepository, kLatest, Errc::SignatureInvalid,
                    "signed manifest digest: expected sha256:"},
        FixtureCase{"OtherAttachment", "dir-img-cosign-other-attachment", "cosign.pub",
                    kMatchRepository, kLatest, Errc::SignatureRequired, "non-signature attachment"},
        FixtureCase{
            "NoManifest", "dir-img-cosign-no-manifest", "cosign.pub", kMatchRepository, kLatest,
            Errc::SignatureInvalid,
            "expected sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}));

struct SamplePolicyCase {
    std::string image;
    SignatureLevel level;
    std::optional<Errc> refusal;
    std::string scope;  // the scope chosen (in the decision or named in the refusal)
    std::string says;
};

void PrintTo(const SamplePolicyCase& c, std::ostream* os) {
    *os << c.image << " at " << to_string(c.level);
}

class ContainersImagePolicy : public ::testing::TestWithParam<SamplePolicyCase> {};

TEST_P(ContainersImagePolicy, EvaluatesAsDocumented) {
    const auto& c = GetParam();
    static const auto policy =
        Policy::load(testing::containers_image_fixtures_dir() / "policy.json");
    auto image = load_fixture("dir-img-cosign-valid");
    auto ref = parse_docker_reference(c.image);
    if (!c.refusal) {
        auto decision = evaluate(policy, ref, image.manifest, {}, c.level);
        EXPECT_EQ(decision.scope, c.scope);
        EXPECT_FALSE(decision.signature_verified);
        return;
    }
    auto e = error_of([&] { evaluate(policy, ref, image.manifest, image.signatures, c.level); });
    EXPECT_EQ(e.code(), *c.refusal) << e.message();
    EXPECT_NE(e.message().find("policy scope \"" + c.scope + "\""), std::string::npos)
        << e.message();
    EXPECT_NE(e.message().find(c.says), std::string::npos) << e.message();
}

INSTANTIATE_TEST_SUITE_P(
    Table, ContainersImagePolicy,
    ::testing::Values(
        SamplePolicyCase{"example.com/playground:1", SignatureLevel::Check, std::nullopt,
                         "example.com/playground", ""},
        SamplePolicyCase{"example.com/playground/sub:1", SignatureLevel::Check, std::nullopt,
                         "example.com/playground", ""},
        SamplePolicyCase{"example.com/playground:1", SignatureLevel::Require,
                         Errc::SignatureRequired, "example.com/playground",
                         "found only insecureAcceptAnything"},
        // The GPG keyrings the sample names do not exist here: the policy is unusable there.
        SamplePolicyCase{"example.com/production:1", SignatureLevel::Check, Errc::PolicyInvalid,
                         "example.com/production", "/keys/employee-gpg-keyring\": open: "},
        SamplePolicyCase{"example.com/hardened:1", SignatureLevel::Check, Errc::PolicyInvalid,
                         "example.com/hardened", "requirement 1 of 3 (signedBy)"},
        SamplePolicyCase{"example.com/hardened-x509:1", SignatureLevel::Check, Errc::PolicyRejected,
                         "example.com/hardened-x509", R"(found "X509Certificates")"},
        SamplePolicyCase{"registry.access.redhat.com/rhel7/rhel:7", SignatureLevel::Check,
                         Errc::PolicyRejected, "registry.access.redhat.com",
                         R"(found "signedByGPGKeys")"},
        SamplePolicyCase{"mirror.access.redhat.com/x:1", SignatureLevel::Check,
                         Errc::PolicyRejected, "*.access.redhat.com", R"(found "signedByGPGKeys")"},
        SamplePolicyCase{"registry.redhat.io/beta/x:1", SignatureLevel::Check, Errc::PolicyInvalid,
                         "registry.redhat.io/beta",
                         "/keys/RH-production-signing-key-gpg-keyring\": open: "},
        SamplePolicyCase{"private-mirror:5000/vendor-mirror/x:1", SignatureLevel::Check,
                         Errc::PolicyInvalid, "private-mirror:5000/vendor-mirror",
                         "/keys/vendor-gpg-keyring\": open: "},
        SamplePolicyCase{"example.com/other:1", SignatureLevel::Check, Errc::PolicyRejected,
                         "*.com", R"(found "signedByGPGKeys")"},
        SamplePolicyCase{"quay.io/x:1", SignatureLevel::Check, Errc::PolicyRejected, "default",
                         "\"reject\" requirement"},
        // Scopes are matched against normalised names: "bogus/…" is docker.io/bogus/….
        SamplePolicyCase{"bogus/signed-identity-example", SignatureLevel::Check,
                         Errc::PolicyRejected, "default", "\"reject\""},
        SamplePolicyCase{"example.com/sigstore/key-data-example:1", SignatureLevel::Check,
                         Errc::PolicyInvalid, "example.com/sigstore/key-data-example",
                         "no PEM block"},
        SamplePolicyCase{"example.com/sigstore/key-path-example:1", SignatureLevel::Check,
                         Errc::PolicyInvalid, "example.com/sigstore/key-path-example",
                         "/keys/public-key"}));

}  // namespace
}  // namespace vmd::trust
