// libFuzzer target: the payload of a GPG simple signature (trust::parse_simple_signing_payload),
// the JSON a signedBy requirement reads once the OpenPGP signature verified. A payload that
// parses is written back as JSON and must parse again to the same claims.
#include <string>

#include "common/json.hpp"
#include "fuzz_support.hpp"
#include "trust/simple_signing.hpp"

namespace {

namespace fuzz = vmd::fuzz;
namespace trust = vmd::trust;
using vmd::json::quote;

// `payload`'s claims as a payload of their own: what was read, in canonical form.
std::string written_back(const trust::SimpleSigningPayload& payload) {
    std::string optional;
    if (payload.creator) {
        optional += fmt::format(R"("creator":{})", quote(*payload.creator));
    }
    if (payload.timestamp) {
        optional +=
            fmt::format(R"({}"timestamp":{})", optional.empty() ? "" : ",", *payload.timestamp);
    }
    return fmt::format(R"({{"critical":{{"identity":{{"docker-reference":{}}},)"
                       R"("image":{{"docker-manifest-digest":{}}},"type":{}}},"optional":{{{}}}}})",
                       quote(payload.docker_reference), quote(payload.manifest_digest),
                       quote(trust::kSimpleSigningType), optional);
}

bool same_claims(const trust::SimpleSigningPayload& a, const trust::SimpleSigningPayload& b) {
    return a.docker_reference == b.docker_reference && a.manifest_digest == b.manifest_digest &&
           a.creator == b.creator && a.timestamp == b.timestamp;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto text = fuzz::as_text(data, size);
    fuzz::run(text, {vmd::Errc::SignatureInvalid}, [&] {
        auto payload = trust::parse_simple_signing_payload(text);
        auto again = written_back(payload);
        fuzz::run(again, {}, [&] {
            fuzz::check(same_claims(trust::parse_simple_signing_payload(again), payload),
                        "a payload written back from its claims parses to the same claims");
        });
    });
    return 0;
}
