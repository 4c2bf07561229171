// The simple-signing payload is read exactly as containers/image's signature/simple.go does.
#include <gtest/gtest.h>

#include <string>

#include "common/error.hpp"
#include "trust/simple_signing.hpp"
#include "trust_test_util.hpp"

namespace vmd::trust {
namespace {

using test::error_of;

constexpr std::string_view kDigest =
    "sha256:20bf21ed457b390829cdbeec8795a7bea1626991fda603e0d01b4e7f60427e55";

// A payload with `optional` as given and the usual critical part.
std::string payload(std::string_view optional,
                    std::string_view type = R"("atomic container signature")") {
    return fmt::format(
        R"({{"critical":{{"identity":{{"docker-reference":"quay.io/ns/app:1"}},"image":{{"docker-manifest-digest":"{}"}},"type":{}}},"optional":{}}})",
        kDigest, type, optional);
}

TEST(SimpleSigningPayload, ReadsTheClaims) {
    auto parsed = parse_simple_signing_payload(
        payload(R"({"creator":"atomic 0.1","timestamp":1458239713,"other":[{"a":1}]})"));
    EXPECT_EQ(parsed.docker_reference, "quay.io/ns/app:1");
    EXPECT_EQ(parsed.manifest_digest, kDigest);
    EXPECT_EQ(parsed.creator, "atomic 0.1");
    EXPECT_EQ(parsed.timestamp, 1458239713);
    auto bare = parse_simple_signing_payload(payload("{}"));
    EXPECT_FALSE(bare.creator.has_value());
    EXPECT_FALSE(bare.timestamp.has_value());
}

TEST(SimpleSigningPayload, OptionalValuesAsContainersImageTakesThem) {
    // creator and timestamp may be null (Go leaves the field unset); a timestamp is a float64
    // that must survive the round trip through int64.
    for (const auto* accepted :
         {R"({"creator":null,"timestamp":null})", R"({"timestamp":1.0})", R"({"timestamp":1e3})",
          R"({"timestamp":-5})", R"({"timestamp":9007199254740993})",
          R"({"timestamp":-9223372036854775808})", R"({"x":{"dup":1,"dup":2}})"}) {
        SCOPED_TRACE(accepted);
        EXPECT_NO_THROW(parse_simple_signing_payload(payload(accepted)));
    }
    EXPECT_EQ(parse_simple_signing_payload(payload(R"({"timestamp":1e3})")).timestamp, 1000);
    const std::vector<std::pair<std::string, std::string>> refused = {
        {"null", "\"optional\": expected an object, found null"},
        {"[]", "\"optional\": expected an object, found an array"},
        {R"({"timestamp":1.5})", "whole number of seconds, found 1.5"},
        {R"({"timestamp":9223372036854775807})", "whole number of seconds"},  // rounds to 2^63
        {R"({"timestamp":1e300})", "whole number of seconds"},
        {R"({"timestamp":"1"})", "expected \"timestamp\" to be a number or null, found a string"},
        {R"({"creator":1})", "expected a string, found a number"},
        {R"({"creator":"a","creator":"b"})", "duplicate key \"creator\""},
        {R"({"x":1,"x":1})", "duplicate key \"x\""},
    };
    for (const auto& [optional, says] : refused) {
        SCOPED_TRACE(optional);
        auto e = error_of([&, &o = optional] { parse_simple_signing_payload(payload(o)); });
        EXPECT_EQ(e.code(), Errc::SignatureInvalid);
        EXPECT_NE(e.message().find(says), std::string::npos) << e.message();
    }
}

TEST(SimpleSigningPayload, ExactKeySetsEverywhereElse) {
    const std::string critical =
        R"("critical":{"identity":{"docker-reference":"r"},"image":{"docker-manifest-digest":"d"},"type":"atomic container signature"})";
    const std::vector<std::pair<std::string, std::string>> refused = {
        {"{" + critical + "}", "missing key \"optional\""},
        {"{" + critical + R"(,"optional":{},"extra":1})", "unknown key \"extra\""},
        {"{" + critical + "," + critical + R"(,"optional":{}})", "duplicate key \"critical\""},
        {R"({"optional":{},"critical":{"identity":{"docker-reference":"r"},"image":{"docker-manifest-digest":"d"}}})",
         "\"critical\": missing key \"type\""},
        {R"({"optional":{},"critical":{"identity":{"docker-reference":"r"},"image":{"docker-manifest-digest":"d"},"type":"t","x":1}})",
         "\"critical\": unknown key \"x\""},
        {R"({"optional":{},"critical":{"identity":{"docker-reference":"r"},"image":{"docker-manifest-digest":"d","x":1},"type":"atomic container signature"}})",
         "\"critical.image\": unknown key \"x\""},
        {R"({"optional":{},"critical":{"identity":{},"image":{"docker-manifest-digest":"d"},"type":"atomic container signature"}})",
         "\"critical.identity\": missing key \"docker-reference\""},
        {R"({"optional":{},"critical":{"identity":{"docker-reference":null},"image":{"docker-manifest-digest":"d"},"type":"atomic container signature"}})",
         "\"critical.identity\": expected a string, found null"},
        {payload("{}", R"("cosign container image signature")"),
         R"(expected type "atomic container signature", found "cosign container image signature")"},
        {payload("{}", "null"), "\"critical\": expected a string, found null"},
        {"This is not JSON", "simple-signing payload: "},
        {payload("{}") + " x", "simple-signing payload: "},
    };
    for (const auto& [text, says] : refused) {
        SCOPED_TRACE(text);
        auto e = error_of([&, &t = text] { parse_simple_signing_payload(t); });
        EXPECT_EQ(e.code(), Errc::SignatureInvalid);
        EXPECT_NE(e.message().find(says), std::string::npos) << e.message();
    }
}

}  // namespace
}  // namespace vmd::trust
