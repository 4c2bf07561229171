// libFuzzer target: stored signature blobs (trust::read_signatures, which sorts them by format
// and parses the sigstore ones), bytes an attacker can write into the store.
#include <string>
#include <vector>

#include "fuzz_support.hpp"
#include "trust/signatures.hpp"

namespace {

using vmd::Errc;
namespace trust = vmd::trust;

void read(std::string_view blob) {
    std::vector<std::string> blobs = {std::string(blob)};
    vmd::fuzz::run(blob, {Errc::StorageCorrupt}, [&] {
        auto stored = trust::read_signatures(blobs);
        vmd::fuzz::check(stored.sigstore.size() + stored.simple_signing.size() == 1,
                         "a blob that is read is read as exactly one signature");
        vmd::fuzz::check(stored.sigstore.empty() == !blob.starts_with(trust::kSigstoreBlobPrefix),
                         "a blob is sigstore exactly when it has the sigstore prefix");
        for (const auto& simple : stored.simple_signing) {
            vmd::fuzz::check(blob.ends_with(simple.message) && simple.number == 1,
                             "a simple-signing message is the blob or its tail");
        }
    });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto blob = vmd::fuzz::as_text(data, size);
    read(blob);
    // Mutations soon lose the 15-byte prefix; also read the input as the JSON part.
    if (!blob.starts_with(trust::kSigstoreBlobPrefix)) {
        read(std::string(trust::kSigstoreBlobPrefix) + std::string(blob));
    }
    return 0;
}
