#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/error.hpp"
#include "trust/evaluate.hpp"
#include "trust/policy/policy_data.hpp"
#include "trust_test_util.hpp"

namespace vmd::trust {
namespace {

using test::error_of;

const std::string kDigest = "sha256:" + std::string(64, 'e');

struct ScopeCase {
    std::string reference;
    std::vector<std::string> candidates;  // most specific first
};

class ScopeOrder : public ::testing::TestWithParam<ScopeCase> {};

TEST_P(ScopeOrder, CandidatesMostSpecificFirst) {
    const auto& c = GetParam();
    EXPECT_EQ(docker_scope_candidates(parse_docker_reference(c.reference)), c.candidates);
}

// Each scope in turn, with all less specific ones present too, is the one chosen; then the
// transport's "" and finally the policy default.
TEST_P(ScopeOrder, EvaluateChoosesTheMostSpecificPresentScope) {
    const auto& c = GetParam();
    auto ref = parse_docker_reference(c.reference);
    auto accept = std::string(R"([{"type":"insecureAcceptAnything"}])");
    for (std::size_t first = 0; first <= c.candidates.size(); ++first) {
        std::string scopes = R"("":)" + accept;
        for (std::size_t i = first; i < c.candidates.size(); ++i) {
            scopes += ",\"" + c.candidates[i] + "\":" + accept;
        }
        auto policy = Policy::parse(test::docker_policy(scopes));
        auto decision = evaluate(policy, ref, test::kManifest, {}, SignatureLevel::Check);
        EXPECT_EQ(decision.scope, first < c.candidates.size() ? c.candidates[first] : "");
        EXPECT_FALSE(decision.signature_verified);
    }
    auto only_default = Policy::parse(R"({"default":[{"type":"insecureAcceptAnything"}]})");
    EXPECT_EQ(evaluate(only_default, ref, test::kManifest, {}, SignatureLevel::Check).scope,
              "default");
}

INSTANTIATE_TEST_SUITE_P(
    Table, ScopeOrder,
    ::testing::Values(
        ScopeCase{"busybox",
                  {"docker.io/library/busybox:latest", "docker.io/library/busybox",
                   "docker.io/library", "docker.io", "*.io"}},
        ScopeCase{"quay.io/ns/sub/repo:v1",
                  {"quay.io/ns/sub/repo:v1", "quay.io/ns/sub/repo", "quay.io/ns/sub", "quay.io/ns",
                   "quay.io", "*.io"}},
        ScopeCase{"registry.access.redhat.com/rhel7/rhel@" + kDigest,
                  {"registry.access.redhat.com/rhel7/rhel@" + kDigest,
                   "registry.access.redhat.com/rhel7/rhel", "registry.access.redhat.com/rhel7",
                   "registry.access.redhat.com", "*.access.redhat.com", "*.redhat.com", "*.com"}},
        ScopeCase{"a.b.example.com:5000/x:1",
                  {"a.b.example.com:5000/x:1", "a.b.example.com:5000/x", "a.b.example.com:5000",
                   "*.b.example.com", "*.example.com", "*.com"}},
        ScopeCase{"localhost:5000/app:dev",
                  {"localhost:5000/app:dev", "localhost:5000/app", "localhost:5000"}}));

TEST(Scopes, OnlyTheMostSpecificListApplies) {
    auto ref = parse_docker_reference("quay.io/ns/repo:1");
    auto narrow_reject = Policy::parse(test::docker_policy(
        R"("quay.io/ns/repo":[{"type":"reject"}],"quay.io":[{"type":"insecureAcceptAnything"}])",
        R"([{"type":"insecureAcceptAnything"}])"));
    auto e =
        error_of([&] { evaluate(narrow_reject, ref, test::kManifest, {}, SignatureLevel::Check); });
    EXPECT_EQ(e.code(), Errc::PolicyRejected);
    EXPECT_NE(e.message().find(R"(policy scope "quay.io/ns/repo", requirement 1 of 1 (reject))"),
              std::string::npos)
        << e.message();

    auto narrow_accept = Policy::parse(test::docker_policy(
        R"("quay.io/ns":[{"type":"insecureAcceptAnything"}],"quay.io":[{"type":"reject"}],"":[{"type":"reject"}])"));
    EXPECT_EQ(evaluate(narrow_accept, ref, test::kManifest, {}, SignatureLevel::Check).scope,
              "quay.io/ns");
}

TEST(Scopes, EveryRequirementOfTheListMustAccept) {
    auto policy = Policy::parse(
        test::docker_policy(R"("quay.io":[{"type":"insecureAcceptAnything"},{"type":"reject"}])"));
    auto e = error_of([&] {
        evaluate(policy, parse_docker_reference("quay.io/a"), test::kManifest, {},
                 SignatureLevel::Check);
    });
    EXPECT_EQ(e.code(), Errc::PolicyRejected);
    EXPECT_NE(e.message().find(R"(policy scope "quay.io", requirement 2 of 2 (reject))"),
              std::string::npos)
        << e.message();
}

TEST(Scopes, UnnormalisedScopesNeverMatch) {
    // "busybox" is looked up as docker.io/library/busybox, never as "busybox".
    auto policy =
        Policy::parse(test::docker_policy(R"("busybox":[{"type":"insecureAcceptAnything"}])"));
    auto e = error_of([&] {
        evaluate(policy, parse_docker_reference("busybox"), test::kManifest, {},
                 SignatureLevel::Check);
    });
    EXPECT_EQ(e.code(), Errc::PolicyRejected);
    EXPECT_NE(e.message().find("policy scope \"default\""), std::string::npos) << e.message();
}

TEST(Scopes, OtherTransportsAreNotConsulted) {
    auto policy = Policy::parse(
        R"({"default":[{"type":"reject"}],"transports":{"atomic":{"":[{"type":"insecureAcceptAnything"}]}}})");
    EXPECT_EQ(error_of([&] {
                  evaluate(policy, parse_docker_reference("quay.io/a"), test::kManifest, {},
                           SignatureLevel::Check);
              }).code(),
              Errc::PolicyRejected);
}

}  // namespace
}  // namespace vmd::trust
