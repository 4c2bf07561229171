#include <gtest/gtest.h>

#include <string>

#include "common/json.hpp"
#include "trust/policy/identity.hpp"

namespace vmd::trust {
namespace {

using Kind = SignedIdentity::Kind;

const std::string kDigest = "@sha256:" + std::string(64, 'c');

SignedIdentity identity_from(std::string_view text) {
    auto doc = json::Document::parse(text, Errc::PolicyInvalid, "test");
    return parse_signed_identity(doc.root(), "test");
}

struct IdentityCase {
    std::string identity;  // JSON
    std::string intended;  // the image reference (normalised, default tag)
    std::string signed_ref;
    bool match;
};

void PrintTo(const IdentityCase& c, std::ostream* os) {
    *os << c.identity << " intended=" << c.intended << " signed=" << c.signed_ref;
}

class Identities : public ::testing::TestWithParam<IdentityCase> {};

TEST_P(Identities, MatchLikeContainersImage) {
    const auto& c = GetParam();
    auto identity = identity_from(c.identity);
    auto reason = identity_mismatch(identity, parse_docker_reference(c.intended), c.signed_ref);
    if (c.match) {
        EXPECT_EQ(reason, "");
    } else {
        ASSERT_NE(reason, "");
        // The reason names the signed identity and the signedIdentity type.
        EXPECT_NE(reason.find(json::quote(c.signed_ref)), std::string::npos) << reason;
        EXPECT_NE(reason.find(identity_kind_name(identity.kind)), std::string::npos) << reason;
    }
}

const std::string kDefault = R"({"type":"matchRepoDigestOrExact"})";
const std::string kExact = R"({"type":"matchExact"})";
const std::string kRepo = R"({"type":"matchRepository"})";
const std::string kExactRef = R"({"type":"exactReference","dockerReference":"quay.io/a/b:1"})";
const std::string kExactRepo = R"({"type":"exactRepository","dockerRepository":"quay.io/a/b"})";
const std::string kRemap =
    R"({"type":"remapIdentity","prefix":"mirror:5000/vendor","signedPrefix":"vendor.example.com"})";
const std::string kRemapToHub =
    R"({"type":"remapIdentity","prefix":"example.com/mirror","signedPrefix":"docker.io/library"})";

INSTANTIATE_TEST_SUITE_P(
    MatchRepoDigestOrExact, Identities,
    ::testing::Values(IdentityCase{kDefault, "busybox", "busybox:latest", true},
                      IdentityCase{kDefault, "busybox", "docker.io/library/busybox:latest", true},
                      IdentityCase{kDefault, "busybox:latest", "busybox:other", false},
                      IdentityCase{kDefault, "busybox", "busybox",
                                   false},  // repository-only never satisfies
                      IdentityCase{kDefault, "busybox" + kDigest, "busybox:anytag", true},
                      IdentityCase{kDefault, "busybox" + kDigest, "busybox" + kDigest, true},
                      IdentityCase{kDefault, "busybox" + kDigest, "notbusybox:latest", false},
                      IdentityCase{kDefault, "busybox" + kDigest, "busybox", false},
                      IdentityCase{kDefault, "busybox:1" + kDigest, "busybox:1" + kDigest, true},
                      IdentityCase{kDefault, "busybox:1" + kDigest, "busybox:1", false},
                      IdentityCase{kDefault, "busybox", "Not A Reference", false}));

INSTANTIATE_TEST_SUITE_P(
    MatchExact, Identities,
    ::testing::Values(IdentityCase{kExact, "busybox:latest", "busybox:latest", true},
                      IdentityCase{kExact, "library/busybox", "docker.io/library/busybox:latest",
                                   true},
                      IdentityCase{kExact, "busybox:latest", "busybox:notlatest", false},
                      IdentityCase{kExact, "busybox:latest", "busybox", false},
                      IdentityCase{kExact, "busybox" + kDigest, "busybox" + kDigest, true},
                      IdentityCase{kExact, "busybox" + kDigest, "busybox:latest", false},
                      IdentityCase{kExact, "quay.io/a/b:1", "quay.io/a/b:1" + kDigest, false}));

INSTANTIATE_TEST_SUITE_P(
    MatchRepository, Identities,
    ::testing::Values(IdentityCase{kRepo, "busybox:latest", "busybox", true},
                      IdentityCase{kRepo, "busybox:latest", "busybox:other", true},
                      IdentityCase{kRepo, "busybox" + kDigest, "docker.io/library/busybox", true},
                      IdentityCase{kRepo, "busybox:latest", "notbusybox", false},
                      IdentityCase{kRepo, "busybox:latest", "quay.io/busybox", false},
                      IdentityCase{kRepo, "192.168.64.2:5000/cosign-signed-single-sample",
                                   "192.168.64.2:5000/cosign-signed-single-sample", true}));

INSTANTIATE_TEST_SUITE_P(
    ExactReferenceAndRepository, Identities,
    ::testing::Values(IdentityCase{kExactRef, "other.com/x:9", "quay.io/a/b:1", true},
                      IdentityCase{kExactRef, "quay.io/a/b:1", "quay.io/a/b", false},
                      IdentityCase{kExactRef, "quay.io/a/b:1", "quay.io/a/b:2", false},
                      IdentityCase{kExactRepo, "other.com/x:9", "quay.io/a/b", true},
                      IdentityCase{kExactRepo, "other.com/x:9", "quay.io/a/b:any", true},
                      IdentityCase{kExactRepo, "quay.io/a/b:1", "quay.io/a/c", false}));

INSTANTIATE_TEST_SUITE_P(
    RemapIdentity, Identities,
    ::testing::Values(
        IdentityCase{kRemap, "mirror:5000/vendor/app:1", "vendor.example.com/app:1", true},
        IdentityCase{kRemap, "mirror:5000/vendor/ns/app:1", "vendor.example.com/ns/app:1", true},
        IdentityCase{kRemap, "mirror:5000/vendor/app:1", "mirror:5000/vendor/app:1", false},
        IdentityCase{kRemap, "mirror:5000/vendor/app" + kDigest, "vendor.example.com/app:x", true},
        IdentityCase{kRemap, "mirror:5000/vendor/app:1", "vendor.example.com/app", false},
        // Only at a path-component boundary: "vendor-other" is not below "vendor".
        IdentityCase{kRemap, "mirror:5000/vendor-other/app:1", "vendor.example.com-other/app:1",
                     false},
        IdentityCase{kRemap, "mirror:5000/vendor-other/app:1", "mirror:5000/vendor-other/app:1",
                     true},
        IdentityCase{kRemap, "other:5000/vendor/app:1", "other:5000/vendor/app:1", true},
        // Remapped names must come out canonical: "vendor.example.com:1" is not.
        IdentityCase{kRemap, "mirror:5000/vendor:1", "vendor.example.com:1", false},
        IdentityCase{kRemapToHub, "example.com/mirror/busybox:1", "busybox:1", true},
        IdentityCase{kRemapToHub, "example.com/mirror/busybox:1", "busybox:2", false}));

TEST(Identity, DefaultIsMatchRepoDigestOrExact) {
    EXPECT_EQ(SignedIdentity{}.kind, Kind::MatchRepoDigestOrExact);
    EXPECT_EQ(identity_kind_name(Kind::RemapIdentity), "remapIdentity");
}

TEST(Identity, ReasonNamesBothSides) {
    auto reason = identity_mismatch(SignedIdentity{}, parse_docker_reference("quay.io/a/b:1"),
                                    "quay.io/a/b:2");
    EXPECT_EQ(
        reason,
        R"(identity "quay.io/a/b:2" does not match "quay.io/a/b:1" (matchRepoDigestOrExact))");
}

}  // namespace
}  // namespace vmd::trust
