// Read-only access to a containers/storage tree (overlay driver). Every byte read here is
// untrusted: files are opened beneath the store root without following symlinks, sizes are
// bounded, and every malformed or missing piece is a typed error.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"
#include "common/unique_fd.hpp"

namespace vmd::storage {

/// Bounds on what is read from the store (DESIGN §5).
struct Limits {
    std::uint64_t max_json_bytes = 64ull << 20;     // images.json, layers.json, containers.json
    std::uint64_t max_manifest_bytes = 4ull << 20;  // the manifest and the signatures item
    std::uint64_t max_blob_bytes = 1ull << 30;      // a layer's composefs blob
    std::size_t max_layers = 128;
};

/// One entry of overlay-images/images.json.
struct ImageRecord {
    std::string id;                  // 64 lowercase hex
    std::string digest;              // as stored; never trusted for verification
    std::vector<std::string> names;  // as podman wrote them, e.g. "docker.io/library/x:1"
    std::string top_layer;           // "" for an image without layers
    std::vector<std::string> big_data_names;
    std::vector<std::uint64_t> signature_sizes;  // from metadata's "signature-sizes"
};

/// One entry of layers.json / volatile-layers.json.
struct LayerRecord {
    std::string id;
    std::string parent;  // "" for a base layer
};

/// One entry of overlay-containers/containers.json.
struct ContainerRecord {
    std::string id;
    std::vector<std::string> names;
    std::string image;
    std::string layer;
};

/// True for 12–64 lowercase hex digits: always an image ID or ID prefix, never a name.
bool is_id_or_prefix(std::string_view text);
/// True for exactly 64 lowercase hex digits.
bool is_full_id(std::string_view text);

/// The file name containers/storage gives the image big-data item `key`: the key itself when
/// made only of [.0-9a-z], else "=" + standard padded base64 of the key.
std::string big_data_file_name(std::string_view key);

/// A store root opened once; each lookup re-reads the JSON it needs (no caching).
class Store {
  public:
    /// Opens `root` as a directory. Throws Error(StorageCorrupt) when it cannot be opened.
    static Store open(const std::filesystem::path& root, Limits limits);

    int root_fd() const { return root_.get(); }
    const Limits& limits() const { return limits_; }

    /// Finds an image by full ID or unique ID prefix (12–63 hex). No match or an ambiguous
    /// prefix: Error(ImageNotFound).
    ImageRecord find_image_by_id(std::string_view id_or_prefix) const;
    /// Finds an image whose names contain `full_name` exactly. Error(ImageNotFound) if none.
    ImageRecord find_image_by_name(std::string_view full_name) const;
    /// Finds a container by full ID, unique ID prefix or name. Error(ContainerNotFound).
    ContainerRecord find_container(std::string_view id_or_name) const;

    /// The image's layers, bottom first (the chain from the top layer via parents, reversed).
    /// Error(StorageCorrupt) for a missing or incomplete layer, a loop, or more than max_layers.
    std::vector<LayerRecord> layer_chain(const ImageRecord& image) const;

    /// The image's "manifest" big-data item, at most max_manifest_bytes.
    std::string read_manifest(const ImageRecord& image) const;
    /// The image's "signatures" item split by signature_sizes; empty when it has none.
    std::vector<std::string> read_signatures(const ImageRecord& image) const;

    /// overlay/<layer>/composefs-data/composefs.blob, opened O_RDONLY; must be a regular file
    /// of at most max_blob_bytes (by fstat; else Error(StorageCorrupt) naming the bound and the
    /// size). The store may still grow it: whoever reads it bounds the read by the same limit.
    UniqueFd open_layer_blob(std::string_view layer_id) const;
    /// overlay/<layer>/<subdir> ("diff" or "work") as an O_PATH directory fd.
    UniqueFd open_layer_dir(std::string_view layer_id, std::string_view subdir) const;

  private:
    Store(UniqueFd root, Limits limits) : root_(std::move(root)), limits_(limits) {}

    UniqueFd root_;
    Limits limits_;
};

/// Frees the JSON parser buffers that a big store's files grew past 8 MiB; the transport calls
/// it once no request is in flight for a while (until then they are reused).
void release_large_parsers() noexcept;

/// openat2(dirfd, path, flags | O_CLOEXEC) with RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
/// RESOLVE_NO_MAGICLINKS. Throws Error(code) naming `path` on failure (ENOENT included).
UniqueFd open_beneath(int dirfd, std::string_view path, int flags,
                      Errc on_error = Errc::StorageCorrupt);

}  // namespace vmd::storage
