#include <gtest/gtest.h>

#include <string>

#include "common/error.hpp"
#include "fixtures/signing.hpp"
#include "trust/sigstore/format.hpp"
#include "trust_test_util.hpp"

namespace vmd::trust {
namespace {

using test::error_of;

const std::string kPrefix("\0sigstore-json\n", 15);

TEST(SigstoreBlob, ParsesWhatTheHelperWrites) {
    auto blob = testing::sigstore_blob("the payload", "sig bytes", {{"extra", "value"}});
    auto parsed = parse_sigstore_blob(blob);
    EXPECT_EQ(parsed.mime_type, kSigstoreSignatureMimeType);
    EXPECT_EQ(parsed.payload, "the payload");
    EXPECT_EQ(parsed.annotations.at(std::string(kSignatureAnnotation)),
              testing::base64("sig bytes"));
    EXPECT_EQ(parsed.annotations.at("extra"), "value");
}

struct BadBlob {
    std::string name;
    std::string json;
    std::string says;
};

TEST(SigstoreBlob, RefusesMalformedBlobsAsSignatureInvalid) {
    const std::vector<BadBlob> cases = {
        {"NotJson", "{", "valid JSON"},
        {"Array", "[]", "an object"},
        {"NoMimeType", R"({"payload":"QQ=="})", "missing key \"mimeType\""},
        {"NoPayload", R"({"mimeType":"x"})", "missing key \"payload\""},
        {"BadBase64", R"({"mimeType":"x","payload":"Q"})", "base64"},
        {"UnknownKey", R"({"mimeType":"x","payload":"","extra":1})", "unknown key \"extra\""},
        {"Duplicate", R"({"mimeType":"x","mimeType":"y","payload":""})", "duplicate key"},
        {"AnnotationNotString", R"({"mimeType":"x","payload":"","annotations":{"a":1}})",
         "a string"},
        {"AnnotationDuplicate", R"({"mimeType":"x","payload":"","annotations":{"a":"1","a":"2"}})",
         "duplicate key \"a\""},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.name);
        auto e = error_of([&] { parse_sigstore_blob(kPrefix + c.json); });
        EXPECT_EQ(e.code(), Errc::SignatureInvalid);
        EXPECT_NE(e.message().find(c.says), std::string::npos) << e.message();
    }
}

TEST(SigstorePayload, ParsesTheCosignPayload) {
    auto payload = parse_sigstore_payload(testing::sigstore_payload("quay.io/a/b", "sha256:00"));
    EXPECT_EQ(payload.docker_reference, "quay.io/a/b");
    EXPECT_EQ(payload.manifest_digest, "sha256:00");
    auto with_optional = parse_sigstore_payload(
        R"({"critical":{"identity":{"docker-reference":"r"},"image":{"docker-manifest-digest":"d"},)"
        R"("type":"cosign container image signature"},"optional":{"creator":"x","nested":{"a":[1,{"b":2}]}}})");
    EXPECT_EQ(with_optional.docker_reference, "r");
}

TEST(SigstorePayload, IsStrict) {
    auto payload = [](std::string_view critical, std::string_view optional = "null") {
        return R"({"critical":)" + std::string(critical) + R"(,"optional":)" +
               std::string(optional) + "}";
    };
    const std::string good_critical =
        R"({"identity":{"docker-reference":"r"},"image":{"docker-manifest-digest":"d"},"type":"cosign container image signature"})";
    const std::vector<BadBlob> cases = {
        {"NoOptional", R"({"critical":)" + good_critical + "}", "missing key \"optional\""},
        {"ExtraTop", payload(good_critical).insert(1, R"("x":1,)"), "unknown key \"x\""},
        {"OptionalString", payload(good_critical, "\"s\""), "an object"},
        {"OptionalDuplicateDeep", payload(good_critical, R"({"a":{"b":1,"b":2}})"),
         "duplicate key \"b\""},
        {"OptionalDuplicateInArray", payload(good_critical, R"({"a":[{"c":1,"c":1}]})"),
         "duplicate key \"c\""},
        {"WrongType",
         payload(
             R"({"identity":{"docker-reference":"r"},"image":{"docker-manifest-digest":"d"},"type":"atomic container signature"})"),
         "\"atomic container signature\""},
        {"TypeNotString",
         payload(
             R"({"identity":{"docker-reference":"r"},"image":{"docker-manifest-digest":"d"},"type":1})"),
         "a string"},
        {"MissingImage",
         payload(
             R"({"identity":{"docker-reference":"r"},"type":"cosign container image signature"})"),
         "missing key \"image\""},
        {"ExtraCritical",
         payload(
             R"({"identity":{"docker-reference":"r"},"image":{"docker-manifest-digest":"d"},"type":"cosign container image signature","x":1})"),
         "unknown key \"x\""},
        {"ExtraIdentity",
         payload(
             R"({"identity":{"docker-reference":"r","x":1},"image":{"docker-manifest-digest":"d"},"type":"cosign container image signature"})"),
         "unknown key \"x\""},
        {"DuplicateDigest",
         payload(
             R"({"identity":{"docker-reference":"r"},"image":{"docker-manifest-digest":"d","docker-manifest-digest":"e"},"type":"cosign container image signature"})"),
         "duplicate key"},
        {"DigestNotString",
         payload(
             R"({"identity":{"docker-reference":"r"},"image":{"docker-manifest-digest":null},"type":"cosign container image signature"})"),
         "a string"},
        {"OptionalTooDeep", payload(good_critical, std::string(100, '[') + std::string(100, ']')),
         "an object"},
        {"OptionalNestedTooDeep",
         payload(good_critical, R"({"a":)" + std::string(100, '[') + std::string(100, ']') + "}"),
         "nested at most 64 deep"},
        {"DuplicateCritical",
         R"({"critical":)" + good_critical + R"(,"critical":)" + good_critical +
             R"(,"optional":null})",
         "duplicate key \"critical\""},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.name);
        auto e = error_of([&] { parse_sigstore_payload(c.json); });
        EXPECT_EQ(e.code(), Errc::SignatureInvalid);
        EXPECT_NE(e.message().find(c.says), std::string::npos) << e.message();
    }
}

}  // namespace
}  // namespace vmd::trust
