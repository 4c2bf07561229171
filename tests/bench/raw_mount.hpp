// The baseline: the kernel work of a Mount() without any check, done in this process with the
// daemon's own mount functions — EROFS per layer and the overlay, all detached.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "common/unique_fd.hpp"
#include "mount/kernel_features.hpp"

namespace vmd::bench {

/// How the raw mount gets its layers to the kernel (matching the daemon's verity levels).
enum class RawKind {
    File,        // off: EROFS straight from the blob file (a loop device on old kernels)
    MemfdCopy,   // digest: each blob copied into a sealed memfd, through a loop device
    FileVerity,  // enforce: EROFS from the blob file, overlay verity=require
};

/// One image's layers, opened once (blobs and diff/ dirs), mountable again and again.
class RawImage {
  public:
    /// Opens the blobs and diff/ dirs of `layer_ids` (bottom first) under `store`.
    RawImage(const std::filesystem::path& store, const std::vector<std::string>& layer_ids);

    /// Mounts every layer and the overlay as `kind` says, then lets it all go.
    void mount_once(RawKind kind) const;

  private:
    mount::KernelFeatures kernel_;
    std::vector<UniqueFd> blobs_;  // bottom first
    std::vector<UniqueFd> diffs_;
};

}  // namespace vmd::bench
