#include "storage/manifest.hpp"

#include <algorithm>

#include "common/encoding.hpp"
#include "common/error.hpp"
#include "common/json.hpp"
#include "storage/io.hpp"

namespace vmd::storage {
namespace {

constexpr std::string_view kOciManifestType = "application/vnd.oci.image.manifest.v1+json";
constexpr std::string_view kWhat = "manifest";

json::Context corrupt(const std::string& what) {
    return {Errc::StorageCorrupt, what};
}

std::string_view trim(std::string_view text) {
    constexpr std::string_view kSpace = " \t\r\n";
    auto first = text.find_first_not_of(kSpace);
    if (first == std::string_view::npos) {
        return {};
    }
    return text.substr(first, text.find_last_not_of(kSpace) - first + 1);
}

bool is_digest(std::string_view entry) {
    auto hex_of = [&](std::string_view prefix, std::size_t length) {
        if (!entry.starts_with(prefix) || entry.size() != prefix.size() + length) {
            return false;
        }
        return std::all_of(entry.begin() + static_cast<std::ptrdiff_t>(prefix.size()), entry.end(),
                           [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
    };
    return hex_of("sha256:", 64) || hex_of("sha512:", 128);
}

// The comma-separated allowed digests of one layer; blank means none.
std::vector<std::string> parse_allowed(std::string_view value, std::size_t layer,
                                       std::string_view key) {
    std::vector<std::string> allowed;
    if (trim(value).empty()) {
        return allowed;
    }
    std::size_t start = 0;
    for (;;) {
        auto comma = value.find(',', start);
        auto entry =
            trim(value.substr(start, comma == std::string_view::npos ? value.npos : comma - start));
        if (!is_digest(entry)) {
            fail(Errc::VerityMissing,
                 "manifest layers[{}] annotation {}: expected sha256:<64 lowercase hex> or "
                 "sha512:<128 lowercase hex>, found {}",
                 layer, key, detail::shown(entry));
        }
        allowed.emplace_back(entry);
        if (comma == std::string_view::npos) {
            return allowed;
        }
        start = comma + 1;
    }
}

ManifestLayer parse_layer(json::Element element, std::size_t index,
                          std::span<const std::string> annotation_keys) {
    auto where = fmt::format("manifest layers[{}]", index);
    auto object = json::expect_object(element, corrupt(where));
    ManifestLayer layer;
    layer.digest = json::expect_string(json::require(object, "digest", corrupt(where)),
                                       corrupt(where + ".digest"));
    auto annotations = json::find(object, "annotations");
    if (!annotations || annotations->is_null()) {
        return layer;
    }
    auto map = json::expect_object(*annotations, corrupt(where + ".annotations"));
    for (auto field : map) {
        json::expect_string(field.value, corrupt(where + ".annotations{}"));
    }
    for (const auto& key : annotation_keys) {
        if (auto value = json::find(map, key)) {
            layer.allowed = parse_allowed(value->get_string().value_unsafe(), index, key);
            break;
        }
    }
    return layer;
}

}  // namespace

Manifest parse_manifest(std::string_view bytes, std::span<const std::string> annotation_keys) {
    auto doc = json::Document::parse(bytes, Errc::StorageCorrupt, kWhat);
    auto root = json::expect_object(doc.root(), corrupt(std::string(kWhat)));

    Manifest manifest;
    std::optional<std::uint64_t> schema_version;
    if (auto value = json::find(root, "schemaVersion")) {
        schema_version = json::expect_uint(*value, corrupt("manifest schemaVersion"));
    }
    if (auto value = json::find(root, "mediaType")) {
        manifest.media_type = json::expect_string(*value, corrupt("manifest mediaType"));
    }
    bool oci_type = !json::find(root, "mediaType") || manifest.media_type == kOciManifestType;
    manifest.is_oci = oci_type && schema_version == 2u;

    auto layers = json::find(root, "layers");
    if (!layers) {
        if (manifest.is_oci) {
            fail(Errc::StorageCorrupt, "manifest: expected a \"layers\" array, found none");
        }
        return manifest;
    }
    auto array = json::expect_array(*layers, corrupt("manifest layers"));
    manifest.layers.reserve(array.size());
    std::size_t index = 0;
    for (auto element : array) {
        manifest.layers.push_back(parse_layer(element, index++, annotation_keys));
    }
    return manifest;
}

std::string manifest_digest(std::string_view bytes) {
    return sha256_digest(bytes);
}

}  // namespace vmd::storage
