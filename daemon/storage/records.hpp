// Internal to the storage module: strict, single-pass reading of the store's JSON files.
// The views borrow from a ParsedJson and must not outlive it.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/json.hpp"
#include "storage/store.hpp"

namespace vmd::storage::detail {

inline constexpr std::string_view kImagesDir = "overlay-images";
inline constexpr std::string_view kImagesJson = "overlay-images/images.json";
inline constexpr std::string_view kLayersDir = "overlay-layers";
inline constexpr std::string_view kLayersJson = "overlay-layers/layers.json";
inline constexpr std::string_view kVolatileLayersJson = "overlay-layers/volatile-layers.json";
inline constexpr std::string_view kContainersDir = "overlay-containers";
inline constexpr std::string_view kContainersJson = "overlay-containers/containers.json";
inline constexpr std::string_view kVolatileContainersJson =
    "overlay-containers/volatile-containers.json";

/// A store JSON document parsed in place (the bytes carry simdjson padding, so they are not
/// copied) by a parser borrowed from a process-wide pool for the document's life. Empty bytes
/// parse as `null`, as containers/storage reads an empty file as an empty list. Syntax errors:
/// StorageCorrupt.
class ParsedJson {
  public:
    ParsedJson(const std::string& bytes, std::string_view what);
    ~ParsedJson();
    ParsedJson(const ParsedJson&) = delete;
    ParsedJson& operator=(const ParsedJson&) = delete;

    json::Element root() const { return root_; }

  private:
    std::unique_ptr<simdjson::dom::parser> parser_;
    json::Element root_;
};

/// The largest capacity (bytes) among the parsers the pool keeps idle (0 when none).
std::size_t largest_idle_parser_capacity();

/// The fields of one images.json entry that the daemon uses, type-checked.
struct ImageView {
    std::size_t index = 0;
    std::string_view id;
    std::string_view digest;
    std::string_view top_layer;
    std::string_view metadata;
    std::optional<json::Array> names;
    std::optional<json::Array> big_data_names;
};

/// One layers.json / volatile-layers.json entry.
struct LayerView {
    std::string_view id;
    std::string_view parent;
    bool incomplete = false;
    std::string_view file;  // which of the two files it came from
};

/// One containers.json entry.
struct ContainerView {
    std::size_t index = 0;
    std::string_view id;
    std::string_view image;
    std::string_view layer;
    std::optional<json::Array> names;
};

/// Every entry of images.json, checked (IDs valid, known keys of the right types; unknown
/// keys ignored). `root` null: no images.
std::vector<ImageView> scan_images(json::Element root);
/// Every entry of one layers file, checked likewise, appended to `out`.
void scan_layers(json::Element root, std::string_view file, std::vector<LayerView>& out);
/// Every entry of one containers file, checked likewise, appended to `out`.
void scan_containers(json::Element root, std::string_view file, std::vector<ContainerView>& out);

/// True when the string array `names` holds `name`.
bool has_name(const std::optional<json::Array>& names, std::string_view name);

/// The ImageRecord of a checked entry, with its metadata string parsed for signature sizes.
ImageRecord to_record(const ImageView& view);
/// The ContainerRecord of a checked entry.
ContainerRecord to_record(const ContainerView& view);

}  // namespace vmd::storage::detail
