// libFuzzer target: image manifests (storage::parse_manifest) and their composefs digest
// annotations.
#include <algorithm>
#include <string>
#include <vector>

#include "fuzz_support.hpp"
#include "storage/manifest.hpp"

namespace {

using vmd::Errc;
namespace storage = vmd::storage;

bool is_allowed_digest(std::string_view entry) {
    auto hex = [](std::string_view text, std::size_t length) {
        return text.size() == length && std::all_of(text.begin(), text.end(), [](char c) {
                   return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
               });
    };
    return (entry.starts_with("sha256:") && hex(entry.substr(7), 64)) ||
           (entry.starts_with("sha512:") && hex(entry.substr(7), 128));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const std::vector<std::string> kOneKey = {"io.containers.composefs.digest"};
    static const std::vector<std::string> kTwoKeys = {"org.example.verity",
                                                      "io.containers.composefs.digest"};
    auto bytes = vmd::fuzz::as_text(data, size);
    for (const auto* keys : {&kOneKey, &kTwoKeys}) {
        vmd::fuzz::run(bytes, {Errc::StorageCorrupt, Errc::VerityMissing}, [&] {
            auto manifest = storage::parse_manifest(bytes, *keys);
            for (const auto& layer : manifest.layers) {
                for (const auto& entry : layer.allowed) {
                    vmd::fuzz::check(is_allowed_digest(entry),
                                     "allowed entries are sha256/sha512 lowercase hex digests");
                }
            }
        });
    }
    auto digest = storage::manifest_digest(bytes);
    vmd::fuzz::check(digest.size() == 7 + 64 && is_allowed_digest(digest),
                     "manifest_digest is sha256:<64 hex>");
    return 0;
}
