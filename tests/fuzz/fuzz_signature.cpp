// libFuzzer target: stored signature blobs (trust::classify_blob, trust::parse_sigstore_blob,
// trust::is_signature_candidate), bytes an attacker can write into the store.
#include <string>

#include "fuzz_support.hpp"
#include "trust/sigstore/evaluate.hpp"
#include "trust/sigstore/format.hpp"

namespace {

using vmd::Errc;
namespace trust = vmd::trust;

constexpr std::string_view kPrefix{"\0sigstore-json\n", 15};

void parse(std::string_view blob) {
    vmd::fuzz::run(blob, {Errc::SignatureInvalid}, [&] {
        auto kind = trust::classify_blob(blob);
        vmd::fuzz::check((kind == trust::BlobKind::Sigstore) == blob.starts_with(kPrefix),
                         "classify_blob says Sigstore exactly for the sigstore prefix");
        auto parsed = trust::parse_sigstore_blob(blob);
        vmd::fuzz::check(kind == trust::BlobKind::Sigstore, "only sigstore blobs parse");
        vmd::fuzz::check(
            trust::is_signature_candidate(blob) ==
                (parsed.mime_type == trust::kSigstoreSignatureMimeType),
            "a parsed blob is a candidate exactly when its mimeType is the signature one");
    });
    // Never throws: a malformed blob is a candidate (it cannot be told from a broken signature).
    vmd::fuzz::run(blob, {}, [&] { trust::is_signature_candidate(blob); });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto blob = vmd::fuzz::as_text(data, size);
    parse(blob);
    // Mutations soon lose the 15-byte prefix; also parse the input as the JSON part.
    if (!blob.starts_with(kPrefix)) {
        parse(std::string(kPrefix) + std::string(blob));
    }
    return 0;
}
