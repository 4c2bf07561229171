// The store root, layer chains from layers.json ∪ volatile-layers.json, and layer files.
#include <fcntl.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <unordered_map>

#include "storage/io.hpp"
#include "storage/records.hpp"
#include "storage/store.hpp"

namespace vmd::storage {

Store Store::open(const std::filesystem::path& root, Limits limits) {
    UniqueFd fd(::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!fd) {
        fail(Errc::StorageCorrupt, "store root {}: expected a directory, found an error ({})",
             root.string(), std::strerror(errno));
    }
    return Store(std::move(fd), limits);
}

std::vector<LayerRecord> Store::layer_chain(const ImageRecord& image) const {
    if (image.top_layer.empty()) {
        return {};
    }
    detail::require_full_id(image.top_layer, fmt::format("image {} top layer", image.id),
                            Errc::StorageCorrupt);

    // Both files are read under one hold of layers.lock, so they describe the same moment.
    auto lock_path = fmt::format("{}/layers.lock", detail::kLayersDir);
    auto lock = detail::open_regular(root_.get(), lock_path, true);
    if (lock) {
        detail::lock_shared(lock->fd.get(), lock_path);
    }
    auto read = [&](std::string_view path) {
        auto file = detail::open_regular(root_.get(), path, true);
        return file ? detail::read_all(*file, limits_.max_json_bytes, path,
                                       simdjson::SIMDJSON_PADDING)
                    : std::string();
    };
    auto layers_bytes = read(detail::kLayersJson);
    auto volatile_bytes = read(detail::kVolatileLayersJson);
    lock.reset();

    detail::ParsedJson layers_doc(layers_bytes, detail::kLayersJson);
    detail::ParsedJson volatile_doc(volatile_bytes, detail::kVolatileLayersJson);
    std::vector<detail::LayerView> layers;
    detail::scan_layers(layers_doc.root(), detail::kLayersJson, layers);
    detail::scan_layers(volatile_doc.root(), detail::kVolatileLayersJson, layers);

    std::unordered_map<std::string_view, const detail::LayerView*> by_id;
    by_id.reserve(layers.size());
    for (const auto& layer : layers) {
        auto [it, inserted] = by_id.emplace(layer.id, &layer);
        if (!inserted) {
            fail(Errc::StorageCorrupt,
                 "layer {}: expected one entry, found one in {} and one in {}", layer.id,
                 it->second->file, layer.file);
        }
    }

    std::vector<LayerRecord> chain;
    std::string_view next = image.top_layer;
    while (!next.empty()) {
        auto it = by_id.find(next);
        if (it == by_id.end()) {
            fail(Errc::StorageCorrupt,
                 "layer {} of image {}: expected an entry in {} or {}, found none", next, image.id,
                 detail::kLayersJson, detail::kVolatileLayersJson);
        }
        const auto& layer = *it->second;
        if (layer.incomplete) {
            fail(Errc::StorageCorrupt,
                 "layer {} of image {}: expected a complete layer, found one flagged incomplete",
                 layer.id, image.id);
        }
        if (std::any_of(chain.begin(), chain.end(),
                        [&](const LayerRecord& seen) { return seen.id == layer.id; })) {
            fail(Errc::StorageCorrupt,
                 "layers of image {}: expected a chain of parents, found a loop at layer {}",
                 image.id, layer.id);
        }
        if (chain.size() == limits_.max_layers) {
            fail(Errc::StorageCorrupt, "image {}: expected at most {} layers, found more", image.id,
                 limits_.max_layers);
        }
        chain.push_back(LayerRecord{std::string(layer.id), std::string(layer.parent)});
        next = layer.parent;
    }
    std::reverse(chain.begin(), chain.end());
    return chain;
}

UniqueFd Store::open_layer_blob(std::string_view layer_id) const {
    detail::require_full_id(layer_id, "layer ID", Errc::StorageCorrupt);
    auto path = fmt::format("overlay/{}/composefs-data/composefs.blob", layer_id);
    auto file = detail::open_regular(root_.get(), path, false);
    if (file->size > limits_.max_blob_bytes) {
        fail(Errc::StorageCorrupt, "{}: expected at most {} bytes (max_blob_bytes), found {}", path,
             limits_.max_blob_bytes, file->size);
    }
    return std::move(file->fd);
}

UniqueFd Store::open_layer_dir(std::string_view layer_id, std::string_view subdir) const {
    if (subdir != "diff" && subdir != "work") {
        fail(Errc::Internal, "layer subdirectory: expected \"diff\" or \"work\", found {}",
             detail::shown(subdir));
    }
    detail::require_full_id(layer_id, "layer ID", Errc::StorageCorrupt);
    return open_beneath(root_.get(), fmt::format("overlay/{}/{}", layer_id, subdir),
                        O_PATH | O_DIRECTORY);
}

}  // namespace vmd::storage
