// Image look-ups in overlay-images/images.json and the image's big-data items.
#include <fcntl.h>
#include <algorithm>

#include "storage/io.hpp"
#include "storage/records.hpp"
#include "storage/store.hpp"

namespace vmd::storage {
namespace {

using detail::ImageView;

// The one image `match` accepts. None, or several when `many` is ImageNotFound (an ambiguous
// prefix), is ImageNotFound; several otherwise (a full ID or name held twice) is `many`.
template <typename Match>
ImageRecord find_image(int root_fd, const Limits& limits, Match&& match,
                       std::string_view looked_for, Errc many) {
    auto bytes = detail::read_locked_json(root_fd, detail::kImagesDir, "images.json", "images.lock",
                                          limits.max_json_bytes);
    // A store without images.json (or without overlay-images/) simply has no images yet.
    std::string empty;
    detail::ParsedJson doc(bytes ? *bytes : empty, detail::kImagesJson);
    auto images = detail::scan_images(doc.root());
    const ImageView* found = nullptr;
    std::size_t matches = 0;
    for (const auto& image : images) {
        if (match(image)) {
            found = &image;
            ++matches;
        }
    }
    if (matches != 1) {
        fail(matches == 0 ? Errc::ImageNotFound : many, "{}: expected one image in {}, found {}",
             looked_for, detail::kImagesJson, matches);
    }
    return detail::to_record(*found);
}

std::string image_item_path(const ImageRecord& image, std::string_view key) {
    detail::require_full_id(image.id, "image ID", Errc::StorageCorrupt);
    return fmt::format("{}/{}/{}", detail::kImagesDir, image.id, big_data_file_name(key));
}

}  // namespace

ImageRecord Store::find_image_by_id(std::string_view id_or_prefix) const {
    if (!is_id_or_prefix(id_or_prefix)) {
        fail(Errc::InvalidArgument, "image ID: expected 12 to 64 lowercase hex digits, found {}",
             detail::shown(id_or_prefix));
    }
    if (is_full_id(id_or_prefix)) {
        return find_image(
            root_.get(), limits_, [&](const ImageView& image) { return image.id == id_or_prefix; },
            fmt::format("image ID {}", id_or_prefix), Errc::StorageCorrupt);
    }
    return find_image(
        root_.get(), limits_,
        [&](const ImageView& image) { return image.id.starts_with(id_or_prefix); },
        fmt::format("image ID prefix {}", id_or_prefix), Errc::ImageNotFound);
}

ImageRecord Store::find_image_by_name(std::string_view full_name) const {
    return find_image(
        root_.get(), limits_,
        [&](const ImageView& image) { return detail::has_name(image.names, full_name); },
        fmt::format("image name {}", detail::shown(full_name)), Errc::StorageCorrupt);
}

std::string Store::read_manifest(const ImageRecord& image) const {
    auto path = image_item_path(image, "manifest");
    auto file = detail::open_regular(root_.get(), path, false);
    return detail::read_all(*file, limits_.max_manifest_bytes, path);
}

std::vector<std::string> Store::read_signatures(const ImageRecord& image) const {
    auto path = image_item_path(image, "signatures");
    bool listed = std::find(image.big_data_names.begin(), image.big_data_names.end(),
                            "signatures") != image.big_data_names.end();
    auto file = detail::open_regular(root_.get(), path, !listed);
    std::string bytes;
    if (file) {
        bytes = detail::read_all(*file, limits_.max_manifest_bytes, path);
    }

    std::uint64_t sum = 0;  // saturating: hostile sizes cannot wrap around to the file size
    for (std::size_t i = 0; i < image.signature_sizes.size(); ++i) {
        auto size = image.signature_sizes[i];
        if (size == 0) {
            fail(Errc::StorageCorrupt,
                 "image {} metadata signature-sizes[{}]: expected a positive size, found 0",
                 image.id, i);
        }
        sum = size > UINT64_MAX - sum ? UINT64_MAX : sum + size;
    }
    if (sum != bytes.size()) {
        fail(Errc::StorageCorrupt,
             "{}: expected {} bytes (the sum of the image's signature-sizes), found {}", path, sum,
             bytes.size());
    }

    std::vector<std::string> signatures;
    signatures.reserve(image.signature_sizes.size());
    std::size_t offset = 0;
    for (auto size : image.signature_sizes) {
        signatures.emplace_back(bytes, offset, size);
        offset += size;
    }
    return signatures;
}

}  // namespace vmd::storage
