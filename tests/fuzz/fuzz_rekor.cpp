// libFuzzer target: the Rekor bundle annotation (trust::verify_rekor_set) and RFC 8785
// canonical JSON (trust::canonical_json), which runs on the bundle's untrusted Payload before
// its signature can be checked. Canonical output must parse and be a fixed point.
#include <string>
#include <vector>

#include "common/json.hpp"
#include "fuzz_keys.hpp"
#include "trust/sigstore/canonical_json.hpp"
#include "trust/sigstore/keys.hpp"
#include "trust/sigstore/rekor.hpp"

namespace {

using vmd::Errc;
namespace fuzz = vmd::fuzz;
namespace json = vmd::json;
namespace trust = vmd::trust;

void canonical_fixed_point(std::string_view text) {
    fuzz::run(text, {Errc::SignatureInvalid}, [&] {
        auto doc = json::Document::parse(text, Errc::SignatureInvalid, "input");
        auto canonical = trust::canonical_json(doc.root());
        fuzz::check(fuzz::is_utf8(canonical), "canonical JSON is UTF-8");
        std::string again;
        try {
            auto reparsed = json::Document::parse(canonical, Errc::Internal, "canonical JSON");
            again = trust::canonical_json(reparsed.root());
        } catch (const vmd::Error& error) {
            fuzz::finding("canonical JSON {} does not round-trip: {}", canonical, error.message());
        }
        fuzz::check(again == canonical, "canonical_json(parse(canonical)) == canonical");
    });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const std::vector<trust::PublicKey> kRekorKeys = [] {
        std::vector<trust::PublicKey> keys;
        keys.push_back(
            trust::PublicKey::from_pem(fuzz::source_file("keys/fuzz-rekor.pub"), "fuzz-rekor.pub"));
        return keys;
    }();
    auto bundle = fuzz::as_text(data, size);
    fuzz::run(bundle, {Errc::SignatureInvalid}, [&] {
        trust::verify_rekor_set(kRekorKeys, bundle, {"key", "signature", "payload"});
    });
    canonical_fixed_point(bundle);
    return 0;
}
