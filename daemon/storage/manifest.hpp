// The OCI image manifest, parsed from the exact bytes whose signature was verified.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace vmd::storage {

/// One layer descriptor of the manifest with its allowed composefs fs-verity digests.
struct ManifestLayer {
    std::string digest;                // the layer's blob digest, e.g. "sha256:…"
    std::vector<std::string> allowed;  // "sha256:<hex>" / "sha512:<hex>"; empty: not annotated
};

struct Manifest {
    std::string media_type;             // "" when the manifest has none
    bool is_oci = false;                // OCI image manifest (mediaType absent or the OCI one)
    std::vector<ManifestLayer> layers;  // bottom first, as in the manifest
};

/// Parses `bytes` as an image manifest and reads each layer's allowed digests from the first of
/// `annotation_keys` present. Malformed JSON or shape: Error(StorageCorrupt). A malformed digest
/// in an annotation: Error(VerityMissing) naming the layer and the bad entry.
Manifest parse_manifest(std::string_view bytes, std::span<const std::string> annotation_keys);

/// "sha256:" + hex SHA-256 of `bytes`: the manifest digest that signatures bind.
std::string manifest_digest(std::string_view bytes);

}  // namespace vmd::storage
