#include <gtest/gtest.h>

#include <filesystem>
#include <iterator>
#include <string>

#include "common/error.hpp"
#include "fixtures/test_env.hpp"
#include "trust/policy/policy.hpp"
#include "trust/policy/policy_data.hpp"
#include "trust_test_util.hpp"

namespace vmd::trust {
namespace {

using test::error_of;

// A requirement in the docker scope "example.com" of an otherwise valid policy.
std::string with_requirement(std::string_view requirement) {
    return test::docker_policy(R"("example.com":[)" + std::string(requirement) + "]");
}

struct InvalidPolicy {
    std::string name;
    std::string json;
    std::string says;  // fragment of the message
};

void PrintTo(const InvalidPolicy& c, std::ostream* os) {
    *os << c.name;
}

class InvalidPolicies : public ::testing::TestWithParam<InvalidPolicy> {};

TEST_P(InvalidPolicies, ArePolicyInvalidNamingTheProblem) {
    const auto& c = GetParam();
    auto e = error_of([&] { Policy::parse(c.json); });
    EXPECT_EQ(e.code(), Errc::PolicyInvalid) << e.message();
    EXPECT_NE(e.message().find(c.says), std::string::npos) << e.message();
}

const std::string kSig = R"("type":"sigstoreSigned")";
const std::string kFulcio =
    R"("fulcio":{"caPath":"/ca","oidcIssuer":"https://i","subjectEmail":"a@b"})";

INSTANTIATE_TEST_SUITE_P(
    Document, InvalidPolicies,
    ::testing::Values(
        InvalidPolicy{"NotJson", "{", "valid JSON"},
        InvalidPolicy{"TrailingGarbage", R"({"default":[{"type":"reject"}]} x)", "valid JSON"},
        InvalidPolicy{"RootArray", "[]", "an object"},
        InvalidPolicy{"NoDefault", R"({"transports":{}})", "missing key \"default\""},
        InvalidPolicy{"EmptyDefault", R"({"default":[]})", "non-empty list"},
        InvalidPolicy{"UnknownTopKey", R"({"default":[{"type":"reject"}],"defaults":1})",
                      "unknown key \"defaults\""},
        InvalidPolicy{"DuplicateDefault",
                      R"({"default":[{"type":"reject"}],"default":[{"type":"reject"}]})",
                      "duplicate key \"default\""},
        InvalidPolicy{"TransportsNotObject", R"({"default":[{"type":"reject"}],"transports":[]})",
                      "an object"},
        InvalidPolicy{"UnknownTransport",
                      R"({"default":[{"type":"reject"}],"transports":{"dokcer":{}}})",
                      "\"dokcer\""},
        InvalidPolicy{"DuplicateTransport",
                      R"({"default":[{"type":"reject"}],"transports":{"dir":{},"dir":{}}})",
                      "duplicate key \"dir\""},
        InvalidPolicy{
            "DuplicateScope",
            test::docker_policy(R"("a.com":[{"type":"reject"}],"a.com":[{"type":"reject"}])"),
            "duplicate key \"a.com\""},
        InvalidPolicy{"EmptyScopeList", test::docker_policy(R"("a.com":[])"), "non-empty list"},
        InvalidPolicy{"UppercaseScopePath",
                      test::docker_policy(R"("a.com/NS":[{"type":"reject"}])"), "\"a.com/NS\""},
        InvalidPolicy{"WildcardWithPort",
                      test::docker_policy(R"("*.com:5000":[{"type":"reject"}])"), "\"*.com:5000\""},
        InvalidPolicy{"WildcardInside", test::docker_policy(R"("a.*.com":[{"type":"reject"}])"),
                      "\"a.*.com\""},
        InvalidPolicy{"BadScopeDigest",
                      test::docker_policy(R"("a.com/x@sha256:12":[{"type":"reject"}])"),
                      "\"a.com/x@sha256:12\""}));

INSTANTIATE_TEST_SUITE_P(
    Requirements, InvalidPolicies,
    ::testing::Values(
        InvalidPolicy{"NotObject", with_requirement("1"), "an object"},
        InvalidPolicy{"NoType", with_requirement("{}"), "missing key \"type\""},
        InvalidPolicy{"TypeNotString", with_requirement(R"({"type":1})"), "a string"},
        InvalidPolicy{"UnknownType", with_requirement(R"({"type":"signedByX"})"), "\"signedByX\""},
        InvalidPolicy{"AcceptExtraKey",
                      with_requirement(R"({"type":"insecureAcceptAnything","x":1})"),
                      "unknown key \"x\""},
        InvalidPolicy{"RejectExtraKey", with_requirement(R"({"type":"reject","keyPath":"/k"})"),
                      "unknown key \"keyPath\""},
        InvalidPolicy{"DuplicateType", with_requirement(R"({"type":"reject","type":"reject"})"),
                      "duplicate key \"type\""},
        InvalidPolicy{"SignedByNoKeyType",
                      with_requirement(R"({"type":"signedBy","keyPath":"/k"})"),
                      "missing key \"keyType\""},
        InvalidPolicy{"SignedByBadKeyType",
                      with_requirement(R"({"type":"signedBy","keyType":"PGP","keyPath":"/k"})"),
                      "\"PGP\""},
        InvalidPolicy{"SignedByNoKey",
                      with_requirement(R"({"type":"signedBy","keyType":"GPGKeys"})"),
                      "exactly one of keyPath, keyPaths, keyData, found none"},
        InvalidPolicy{
            "SignedByTwoKeys",
            with_requirement(
                R"({"type":"signedBy","keyType":"GPGKeys","keyPath":"/k","keyData":"QQ=="})"),
            "found both \"keyPath\" and \"keyData\""},
        InvalidPolicy{"SignedByBadBase64",
                      with_requirement(R"({"type":"signedBy","keyType":"GPGKeys","keyData":"%%"})"),
                      "invalid base64"},
        InvalidPolicy{"SignedByEmptyKeyPaths",
                      with_requirement(R"({"type":"signedBy","keyType":"GPGKeys","keyPaths":[]})"),
                      "non-empty \"keyPaths\""},
        InvalidPolicy{
            "SignedByUnknownKey",
            with_requirement(
                R"({"type":"signedBy","keyType":"GPGKeys","keyPath":"/k","keyDatas":["QQ=="]})"),
            "unknown key \"keyDatas\""},
        InvalidPolicy{"BaseLayerNoIdentity", with_requirement(R"({"type":"signedBaseLayer"})"),
                      "missing key \"baseLayerIdentity\""},
        InvalidPolicy{
            "BaseLayerBadIdentity",
            with_requirement(
                R"({"type":"signedBaseLayer","baseLayerIdentity":{"type":"exactReference","dockerReference":"a.com/b"}})"),
            "tag or digest"},
        InvalidPolicy{
            "SigstoreNoKey", with_requirement("{" + kSig + "}"),
            "exactly one of keyPath, keyPaths, keyData, keyDatas, fulcio, pki, found none"},
        InvalidPolicy{"SigstorePathAndData",
                      with_requirement("{" + kSig + R"(,"keyPath":"/k","keyData":"QQ=="})"),
                      "found both \"keyPath\" and \"keyData\""},
        InvalidPolicy{"SigstoreKeyAndFulcio",
                      with_requirement("{" + kSig + R"(,"keyPaths":["/k"],)" + kFulcio +
                                       R"(,"rekorPublicKeyPath":"/r"})"),
                      "found both \"keyPaths\" and \"fulcio\""},
        InvalidPolicy{"SigstoreEmptyKeyDatas", with_requirement("{" + kSig + R"(,"keyDatas":[]})"),
                      "non-empty \"keyDatas\""},
        InvalidPolicy{"SigstoreEmptyPathInList",
                      with_requirement("{" + kSig + R"(,"keyPaths":["/a",""]})"),
                      "non-empty paths"},
        InvalidPolicy{"SigstoreEmptyKeyPath", with_requirement("{" + kSig + R"(,"keyPath":""})"),
                      "non-empty \"keyPath\""},
        InvalidPolicy{"SigstoreEmptyKeyData", with_requirement("{" + kSig + R"(,"keyData":""})"),
                      "an empty value"},
        InvalidPolicy{"SigstoreKeyPathNotString",
                      with_requirement("{" + kSig + R"(,"keyPath":null})"), "a string"},
        InvalidPolicy{"SigstoreTypo", with_requirement("{" + kSig + R"(,"keyPth":"/k"})"),
                      "unknown key \"keyPth\""},
        InvalidPolicy{"SigstoreDuplicateKey",
                      with_requirement("{" + kSig + R"(,"keyPath":"/a","keyPath":"/b"})"),
                      "duplicate key \"keyPath\""},
        InvalidPolicy{
            "SigstoreTwoRekorKeys",
            with_requirement(
                "{" + kSig +
                R"(,"keyPath":"/k","rekorPublicKeyPath":"/r","rekorPublicKeyData":"QQ=="})"),
            "at most one of rekorPublicKeyPath"},
        InvalidPolicy{"SigstoreEmptyRekorPaths",
                      with_requirement("{" + kSig + R"(,"keyPath":"/k","rekorPublicKeyPaths":[]})"),
                      "non-empty \"rekorPublicKeyPaths\""},
        InvalidPolicy{"FulcioWithoutRekor", with_requirement("{" + kSig + "," + kFulcio + "}"),
                      "expected a Rekor key"},
        InvalidPolicy{
            "FulcioNoCa",
            with_requirement(
                "{" + kSig +
                R"(,"fulcio":{"oidcIssuer":"i","subjectEmail":"e"},"rekorPublicKeyPath":"/r"})"),
            "exactly one of caPath, caData, found none"},
        InvalidPolicy{
            "FulcioBothCa",
            with_requirement(
                "{" + kSig +
                R"(,"fulcio":{"caPath":"/c","caData":"QQ==","oidcIssuer":"i","subjectEmail":"e"},"rekorPublicKeyPath":"/r"})"),
            "found both \"caPath\" and \"caData\""},
        InvalidPolicy{
            "FulcioNoIssuer",
            with_requirement(
                "{" + kSig +
                R"(,"fulcio":{"caPath":"/c","subjectEmail":"e"},"rekorPublicKeyPath":"/r"})"),
            "missing key \"oidcIssuer\""},
        InvalidPolicy{
            "FulcioNoEmail",
            with_requirement(
                "{" + kSig +
                R"(,"fulcio":{"caPath":"/c","oidcIssuer":"i"},"rekorPublicKeyPath":"/r"})"),
            "missing key \"subjectEmail\""},
        InvalidPolicy{
            "FulcioUnknownKey",
            with_requirement(
                "{" + kSig +
                R"(,"fulcio":{"caPath":"/c","oidcIssuer":"i","subjectEmail":"e","URI":"u"},"rekorPublicKeyPath":"/r"})"),
            "unknown key \"URI\""},
        InvalidPolicy{
            "PkiWithRekor",
            with_requirement(
                "{" + kSig +
                R"(,"pki":{"caRootsPath":"/r","subjectEmail":"e"},"rekorPublicKeyPath":"/r"})"),
            "no Rekor key with \"pki\""},
        InvalidPolicy{"PkiNoRoots",
                      with_requirement("{" + kSig + R"(,"pki":{"subjectEmail":"e"}})"),
                      "exactly one of caRootsPath, caRootsData, found none"},
        InvalidPolicy{
            "PkiBothRoots",
            with_requirement(
                "{" + kSig +
                R"(,"pki":{"caRootsPath":"/r","caRootsData":"QQ==","subjectEmail":"e"}})"),
            "found both \"caRootsPath\" and \"caRootsData\""},
        InvalidPolicy{
            "PkiBothIntermediates",
            with_requirement(
                "{" + kSig +
                R"(,"pki":{"caRootsPath":"/r","caIntermediatesPath":"/i","caIntermediatesData":"QQ==","subjectEmail":"e"}})"),
            "at most one of caIntermediatesPath, caIntermediatesData"},
        InvalidPolicy{"PkiNoSubject",
                      with_requirement("{" + kSig + R"(,"pki":{"caRootsPath":"/r"}})"),
                      "subjectEmail or subjectHostname"},
        InvalidPolicy{
            "PkiUnknownKey",
            with_requirement("{" + kSig +
                             R"(,"pki":{"caRootsPath":"/r","subjectEmail":"e","subject":"x"}})"),
            "unknown key \"subject\""}));

const std::string kKey = R"("type":"sigstoreSigned","keyPath":"/k")";

INSTANTIATE_TEST_SUITE_P(
    Identities, InvalidPolicies,
    ::testing::Values(
        InvalidPolicy{
            "UnknownType",
            with_requirement("{" + kKey + R"(,"signedIdentity":{"type":"matchAnything"}})"),
            "\"matchAnything\""},
        InvalidPolicy{"NoType", with_requirement("{" + kKey + R"(,"signedIdentity":{}})"),
                      "missing key \"type\""},
        InvalidPolicy{
            "MatchExactExtraKey",
            with_requirement(
                "{" + kKey +
                R"(,"signedIdentity":{"type":"matchExact","dockerReference":"a.com/b:c"}})"),
            "unknown key \"dockerReference\""},
        InvalidPolicy{
            "ExactReferenceMissing",
            with_requirement("{" + kKey + R"(,"signedIdentity":{"type":"exactReference"}})"),
            "missing key \"dockerReference\""},
        InvalidPolicy{
            "ExactReferenceNameOnly",
            with_requirement(
                "{" + kKey +
                R"(,"signedIdentity":{"type":"exactReference","dockerReference":"a.com/b"}})"),
            "tag or digest"},
        InvalidPolicy{
            "ExactReferenceInvalid",
            with_requirement(
                "{" + kKey +
                R"(,"signedIdentity":{"type":"exactReference","dockerReference":"A.com/B:c"}})"),
            "invalid \"dockerReference\""},
        InvalidPolicy{
            "ExactRepositoryInvalid",
            with_requirement(
                "{" + kKey +
                R"(,"signedIdentity":{"type":"exactRepository","dockerRepository":"a.com/b//c"}})"),
            "invalid \"dockerRepository\""},
        InvalidPolicy{
            "RemapMissingSignedPrefix",
            with_requirement("{" + kKey +
                             R"(,"signedIdentity":{"type":"remapIdentity","prefix":"a.com"}})"),
            "missing key \"signedPrefix\""},
        InvalidPolicy{
            "RemapBadPrefix",
            with_requirement(
                "{" + kKey +
                R"(,"signedIdentity":{"type":"remapIdentity","prefix":"a.com/","signedPrefix":"b.com"}})"),
            "\"a.com/\""},
        InvalidPolicy{
            "RemapTagInPrefix",
            with_requirement(
                "{" + kKey +
                R"(,"signedIdentity":{"type":"remapIdentity","prefix":"a.com","signedPrefix":"b.com/x:tag"}})"),
            "\"b.com/x:tag\""},
        InvalidPolicy{
            "DuplicateIdentityKey",
            with_requirement("{" + kKey +
                             R"(,"signedIdentity":{"type":"matchExact","type":"matchExact"}})"),
            "duplicate key \"type\""}));

TEST(PolicyParse, ContainersImageFixturePolicyParses) {
    auto policy = Policy::load(testing::containers_image_fixtures_dir() / "policy.json");
    const auto& data = policy.data();
    ASSERT_EQ(data.default_requirements.size(), 1u);
    EXPECT_EQ(requirement_type(data.default_requirements[0]), "reject");
    ASSERT_EQ(data.transports.count("docker"), 1u);
    ASSERT_EQ(data.transports.count("dir"), 1u);
    const auto& docker = data.transports.at("docker");
    EXPECT_EQ(docker.size(), 14u);
    const auto& hardened = docker.at("example.com/hardened");
    ASSERT_EQ(hardened.size(), 3u);
    EXPECT_EQ(requirement_type(hardened[2]), "signedBaseLayer");
    const auto& remap = std::get<SignedBy>(docker.at("private-mirror:5000/vendor-mirror")[0]);
    EXPECT_EQ(remap.identity.kind, SignedIdentity::Kind::RemapIdentity);
    EXPECT_EQ(remap.identity.signed_prefix, "vendor.example.com");
    const auto& key_data =
        std::get<SigstoreSigned>(docker.at("example.com/sigstore/key-data-example")[0]);
    ASSERT_EQ(key_data.keys.size(), 1u);
    EXPECT_EQ(key_data.keys[0].value, "nonsense");
    EXPECT_EQ(key_data.identity.kind, SignedIdentity::Kind::MatchRepoDigestOrExact);
}

TEST(PolicyParse, ShippedExamplePoliciesParse) {
    auto rhel = Policy::load(testing::source_dir() / "policy" / "policy.json.rhel-example");
    const auto& docker = rhel.data().transports.at("docker");
    EXPECT_EQ(requirement_type(rhel.data().default_requirements.at(0)), "insecureAcceptAnything");
    for (const auto* registry : {"registry.access.redhat.com", "registry.redhat.io"}) {
        const auto& signed_by = std::get<SignedBy>(docker.at(registry).at(0));
        EXPECT_EQ(signed_by.key_type, "GPGKeys");
        ASSERT_EQ(signed_by.keys.size(), 2u);
        EXPECT_EQ(signed_by.keys[0].value, "/etc/pki/rpm-gpg/RPM-GPG-KEY-redhat-release");
        EXPECT_EQ(signed_by.identity.kind, SignedIdentity::Kind::MatchRepoDigestOrExact);
    }
    EXPECT_EQ(requirement_type(docker.at("quay.io/example").at(0)), "sigstoreSigned");
    EXPECT_NO_THROW(Policy::load(testing::source_dir() / "policy" / "policy.json.example"));
}

TEST(PolicyParse, EverySigstoreVariantParses) {
    const std::string hex(64, 'b');
    auto text = test::docker_policy(
        R"("":[{"type":"insecureAcceptAnything"}],)"
        R"("*.example.com":[{"type":"sigstoreSigned","keyPaths":["/a","/b"],"rekorPublicKeyPaths":["/r1","/r2"]}],)"
        R"("localhost:5000":[{"type":"sigstoreSigned","keyDatas":["QQ==","Qg=="],"rekorPublicKeyDatas":["Qw=="]}],)"
        R"("example.com/ns/repo:tag":[{"type":"sigstoreSigned","fulcio":{"caData":"QQ==","oidcIssuer":"https://issuer","subjectEmail":"a@b.c"},"rekorPublicKeyData":"Qg==","signedIdentity":{"type":"exactRepository","dockerRepository":"quay.io/x"}}],)"
        R"("example.com/ns@sha256:)" +
        hex +
        R"(":[{"type":"sigstoreSigned","pki":{"caRootsData":"QQ==","caIntermediatesPath":"/i","subjectEmail":"a@b.c","subjectHostname":"h.example.com"},"signedIdentity":{"type":"remapIdentity","prefix":"example.com","signedPrefix":"quay.io/mirror"}}],)"
        R"("bogus/short":[{"type":"sigstoreSigned","keyPath":"/k","rekorPublicKeyPath":"/r","signedIdentity":{"type":"exactReference","dockerReference":"busybox:1"}}])");
    auto policy = Policy::parse(text);
    const auto& docker = policy.data().transports.at("docker");
    ASSERT_EQ(docker.size(), 6u);
    const auto& paths = std::get<SigstoreSigned>(docker.at("*.example.com")[0]);
    EXPECT_EQ(paths.keys.size(), 2u);
    EXPECT_EQ(paths.rekor_keys.size(), 2u);
    EXPECT_EQ(paths.keys[1].kind, KeySource::Kind::Path);
    const auto& datas = std::get<SigstoreSigned>(docker.at("localhost:5000")[0]);
    EXPECT_EQ(datas.keys[1].value, "B");
    const auto& fulcio = std::get<SigstoreSigned>(docker.at("example.com/ns/repo:tag")[0]);
    ASSERT_TRUE(fulcio.fulcio.has_value());
    EXPECT_EQ(fulcio.fulcio->ca.value, "A");
    EXPECT_EQ(fulcio.fulcio->oidc_issuer, "https://issuer");
    EXPECT_EQ(fulcio.identity.kind, SignedIdentity::Kind::ExactRepository);
    EXPECT_EQ(fulcio.identity.reference.repository(), "quay.io/x");
    const auto& pki = std::get<SigstoreSigned>(docker.at("example.com/ns@sha256:" + hex)[0]);
    ASSERT_TRUE(pki.pki.has_value());
    EXPECT_EQ(pki.pki->subject_hostname, "h.example.com");
    ASSERT_TRUE(pki.pki->ca_intermediates.has_value());
    EXPECT_EQ(pki.pki->ca_intermediates->value, "/i");
    EXPECT_TRUE(pki.rekor_keys.empty());
    const auto& exact = std::get<SigstoreSigned>(docker.at("bogus/short")[0]);
    EXPECT_EQ(exact.identity.reference.string(), "docker.io/library/busybox:1");
}

TEST(PolicyParse, OtherTransportsUseTheSameGrammarButFreeScopes) {
    auto policy = Policy::parse(
        R"({"default":[{"type":"reject"}],"transports":{)"
        R"("dir":{"/var/lib/images/Some Dir":[{"type":"insecureAcceptAnything"}]},)"
        R"("atomic":{"registry:5000/ns":[{"type":"signedBy","keyType":"GPGKeys","keyPath":"/k"}]},)"
        R"("containers-storage":{"[overlay@/var/lib/containers/storage]":[{"type":"reject"}]}}})");
    EXPECT_EQ(policy.data().transports.size(), 3u);
    auto e = error_of([] {
        Policy::parse(
            R"({"default":[{"type":"reject"}],"transports":{"dir":{"/x":[{"type":"nope"}]}}})");
    });
    EXPECT_EQ(e.code(), Errc::PolicyInvalid);
    EXPECT_NE(e.message().find("transports.dir[\"/x\"][0]"), std::string::npos) << e.message();
}

TEST(PolicyParse, LoadRefusesUnreadableOversizedAndNonRegular) {
    testing::TempDir dir;
    auto e = error_of([&] { Policy::load(dir.path() / "missing.json"); });
    EXPECT_EQ(e.code(), Errc::PolicyInvalid);
    EXPECT_NE(e.message().find("missing.json"), std::string::npos);

    auto directory = error_of([&] { Policy::load(dir.path()); });
    EXPECT_EQ(directory.code(), Errc::PolicyInvalid);
    EXPECT_EQ(directory.message(),
              "policy " + dir.path().string() + ": expected a regular file, found a directory");

    auto path = dir.path() / "policy.json";
    testing::write_file(path, R"({"default":[{"type":"insecureAcceptAnything"}]})");
    EXPECT_NO_THROW(Policy::load(path));
    auto big = error_of([&] { Policy::load(path, 10); });
    EXPECT_EQ(big.code(), Errc::PolicyInvalid);
    EXPECT_NE(big.message().find("at most 10 bytes"), std::string::npos) << big.message();
}

TEST(PolicyParse, LoadLeaksNoFileDescriptors) {
    auto open_fds = [] {
        return std::distance(std::filesystem::directory_iterator("/proc/self/fd"),
                             std::filesystem::directory_iterator{});
    };
    testing::TempDir dir;
    auto good = dir.path() / "good.json";
    auto bad = dir.path() / "bad.json";
    testing::write_file(good, R"({"default":[{"type":"reject"}]})");
    testing::write_file(bad, R"({"default":[{"type":"nope"}]})");
    auto before = open_fds();
    for (int i = 0; i < 50; ++i) {
        EXPECT_NO_THROW(Policy::load(good));
        EXPECT_EQ(error_of([&] { Policy::load(bad); }).code(), Errc::PolicyInvalid);
        EXPECT_EQ(error_of([&] { Policy::load(good, 4); }).code(), Errc::PolicyInvalid);
    }
    EXPECT_EQ(open_fds(), before);
}

TEST(PolicyParse, DockerScopeGrammar) {
    const std::string digested = "example.com/r@sha256:" + std::string(64, '1');
    for (const std::string& ok : std::vector<std::string>{
             "", "*.com", "*.example.com", "example.com", "localhost:5000", "example.com/ns/repo",
             "example.com/ns/repo:tag", "bogus/x", "[::1]:5000/x", digested}) {
        EXPECT_TRUE(valid_docker_scope(ok)) << ok;
    }
    for (std::string_view bad : {"*", "*.", "*.a..com", "example.com/", "example.com/UP",
                                 "example.com/r:", "example.com/r@sha256:1", "a b"}) {
        EXPECT_FALSE(valid_docker_scope(bad)) << bad;
    }
}

}  // namespace
}  // namespace vmd::trust
