// libFuzzer target: the store's JSON records (storage::detail::scan_images / scan_layers /
// scan_containers / to_record), i.e. images.json, layers.json, volatile-layers.json,
// containers.json and volatile-containers.json as an attacker with write access to /var may leave
// them. The same bytes go through every scanner, as the store reads them: in place, with simdjson
// padding.
#include <string>
#include <vector>

#include "fuzz_support.hpp"
#include "storage/records.hpp"
#include "storage/store.hpp"

namespace {

using vmd::Errc;
using vmd::fuzz::check;
namespace detail = vmd::storage::detail;
using vmd::storage::is_full_id;

bool empty_or_id(std::string_view id) {
    return id.empty() || is_full_id(id);
}

void images(const std::string& bytes) {
    vmd::fuzz::run(bytes, {Errc::StorageCorrupt}, [&] {
        detail::ParsedJson doc(bytes, detail::kImagesJson);
        for (const auto& view : detail::scan_images(doc.root())) {
            check(is_full_id(view.id) && empty_or_id(view.top_layer), "image IDs are checked");
            detail::has_name(view.names, "docker.io/library/busybox:latest");
            auto record = detail::to_record(view);
            check(record.id == view.id, "to_record keeps the ID");
        }
    });
}

void layers(const std::string& bytes) {
    vmd::fuzz::run(bytes, {Errc::StorageCorrupt}, [&] {
        detail::ParsedJson doc(bytes, detail::kLayersJson);
        std::vector<detail::LayerView> out;
        detail::scan_layers(doc.root(), detail::kLayersJson, out);
        detail::scan_layers(doc.root(), detail::kVolatileLayersJson, out);
        for (const auto& view : out) {
            check(is_full_id(view.id) && empty_or_id(view.parent), "layer IDs are checked");
        }
    });
}

void containers(const std::string& bytes) {
    vmd::fuzz::run(bytes, {Errc::StorageCorrupt}, [&] {
        detail::ParsedJson doc(bytes, detail::kContainersJson);
        std::vector<detail::ContainerView> out;
        detail::scan_containers(doc.root(), detail::kContainersJson, out);
        detail::scan_containers(doc.root(), detail::kVolatileContainersJson, out);
        for (const auto& view : out) {
            check(is_full_id(view.id) && empty_or_id(view.image) && empty_or_id(view.layer),
                  "container IDs are checked");
            detail::has_name(view.names, "web");
            detail::to_record(view);
        }
    });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    // As read_locked_json leaves it: the bytes, then spare capacity for simdjson's padding.
    std::string bytes;
    bytes.reserve(size + simdjson::SIMDJSON_PADDING);
    bytes.assign(vmd::fuzz::as_text(data, size));
    images(bytes);
    layers(bytes);
    containers(bytes);
    return 0;
}
