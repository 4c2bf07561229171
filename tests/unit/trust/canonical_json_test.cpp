#include <gtest/gtest.h>

#include <string>

#include "common/error.hpp"
#include "common/json.hpp"
#include "trust/sigstore/canonical_json.hpp"
#include "trust_test_util.hpp"

namespace vmd::trust {
namespace {

std::string canonical(std::string_view text) {
    auto doc = json::Document::parse(text, Errc::SignatureInvalid, "test");
    return canonical_json(doc.root());
}

TEST(CanonicalJson, Rfc8785Forms) {
    const std::vector<std::pair<std::string, std::string>> cases = {
        {R"( { "b" : 1 , "a" : [ true , null , false ] } )", R"({"a":[true,null,false],"b":1})"},
        {R"({"s":"\u0041\/\u00e9\u007f"})", "{\"s\":\"A/\xc3\xa9\x7f\"}"},
        {R"({"s":"\u0001\b\t\n\f\r\"\\"})", R"({"s":"\u0001\b\t\n\f\r\"\\"})"},
        {R"([1.0, -0.0, 1e3, -9007199254740992, 9007199254740992])",
         "[1,0,1000,-9007199254740992,9007199254740992]"},
        {R"({"z":{"y":[{"b":2,"a":1}]},"a":{}})", R"({"a":{},"z":{"y":[{"a":1,"b":2}]}})"},
        // RFC 8785 §3.2.3: members sorted by UTF-16 code units, not by UTF-8 bytes
        // (U+1F600 is a surrogate pair D83D DE00, which sorts before U+FB33).
        {R"({"\u20ac":1,"\r":2,"\ufb33":3,"1":4,"\ud83d\ude00":5,"\u0080":6,"\u00f6":7})",
         "{\"\\r\":2,\"1\":4,\"\xc2\x80\":6,\"\xc3\xb6\":7,\"\xe2\x82\xac\":1,"
         "\"\xf0\x9f\x98\x80\":5,\"\xef\xac\xb3\":3}"},
    };
    for (const auto& [input, expected] : cases) {
        EXPECT_EQ(canonical(input), expected) << input;
    }
}

TEST(CanonicalJson, RefusesWhatItCannotCanonicaliseExactly) {
    for (std::string_view bad :
         {"1.5", "9007199254740993", "18446744073709551615", "1e300", R"({"a":1,"a":2})"}) {
        auto e = test::error_of([&] { canonical(bad); });
        EXPECT_EQ(e.code(), Errc::SignatureInvalid) << bad;
    }
    std::string deep(100, '[');
    deep += std::string(100, ']');
    EXPECT_EQ(test::error_of([&] { canonical(deep); }).code(), Errc::SignatureInvalid);
}

}  // namespace
}  // namespace vmd::trust
