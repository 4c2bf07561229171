#include "trust/simple_signing.hpp"

#include <cmath>

#include "common/error.hpp"
#include "common/json.hpp"

namespace vmd::trust {

namespace {

constexpr json::Context kPayload{Errc::SignatureInvalid, "simple-signing payload"};
constexpr json::Context kOptional{Errc::SignatureInvalid, "simple-signing payload \"optional\""};
constexpr json::Context kCritical{Errc::SignatureInvalid, "simple-signing payload \"critical\""};
constexpr json::Context kImage{Errc::SignatureInvalid, "simple-signing payload \"critical.image\""};
constexpr json::Context kIdentity{Errc::SignatureInvalid,
                                  "simple-signing payload \"critical.identity\""};

// containers/image reads the timestamp as a float64 and accepts it when converting it to int64
// and back gives the same value: so 1.0 and 1e3 pass, 1.5 does not, and neither does anything
// that rounds to 2^63 or beyond.
std::int64_t whole_timestamp(json::Element value) {
    double number = 0;
    if (value.is_int64()) {
        number = static_cast<double>(value.get_int64().value_unsafe());
    } else if (value.is_uint64()) {
        number = static_cast<double>(value.get_uint64().value_unsafe());
    } else if (value.is_double()) {
        number = value.get_double().value_unsafe();
    } else {
        fail(kOptional.code, "{}: expected \"timestamp\" to be a number or null, found {}",
             kOptional.what, json::type_name(value));
    }
    constexpr double kTwoTo63 = 9223372036854775808.0;
    if (!(number >= -kTwoTo63 && number < kTwoTo63) || std::trunc(number) != number) {
        fail(kOptional.code, "{}: expected \"timestamp\" to be a whole number of seconds, found {}",
             kOptional.what, number);
    }
    return static_cast<std::int64_t>(number);
}

}  // namespace

SimpleSigningPayload parse_simple_signing_payload(std::string_view payload) {
    auto doc = json::Document::parse(payload, kPayload.code, kPayload.what);
    auto root = json::expect_exact_object(doc.root(), kPayload, {"critical", "optional"});
    SimpleSigningPayload out;
    // Only these two keys of "optional" are read; any other may hold anything.
    for (auto field : json::expect_object(json::require(root, "optional", kPayload), kOptional)) {
        if (field.key == "creator" && !field.value.is_null()) {
            out.creator = std::string(json::expect_string(field.value, kOptional));
        } else if (field.key == "timestamp" && !field.value.is_null()) {
            out.timestamp = whole_timestamp(field.value);
        }
    }
    auto critical = json::expect_exact_object(json::require(root, "critical", kPayload), kCritical,
                                              {"type", "image", "identity"});
    auto type = json::expect_string(json::require(critical, "type", kCritical), kCritical);
    if (type != kSimpleSigningType) {
        fail(kCritical.code, "{}: expected type {}, found {}", kCritical.what,
             json::quote(kSimpleSigningType), json::quote(type));
    }
    auto image = json::expect_exact_object(json::require(critical, "image", kCritical), kImage,
                                           {"docker-manifest-digest"});
    out.manifest_digest =
        json::expect_string(json::require(image, "docker-manifest-digest", kImage), kImage);
    auto identity = json::expect_exact_object(json::require(critical, "identity", kCritical),
                                              kIdentity, {"docker-reference"});
    out.docker_reference =
        json::expect_string(json::require(identity, "docker-reference", kIdentity), kIdentity);
    return out;
}

}  // namespace vmd::trust
