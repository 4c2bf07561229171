// composefs mounts with the new mount API: EROFS from a blob fd, then the overlay, detached.
#pragma once

#include <cstdint>
#include <vector>

#include "common/unique_fd.hpp"
#include "mount/kernel_features.hpp"
#include "verity/digest.hpp"

namespace vmd::mount {

/// A copy of a file in a memfd sealed against any change, and the fs-verity digest of what the
/// memfd holds. Larger than max_bytes: Error(StorageCorrupt).
struct SealedCopy {
    UniqueFd memfd;
    verity::Sha256 digest{};
};
SealedCopy sealed_copy(int source_fd, std::uint64_t max_bytes);

/// False when the blob starts with the composefs header and its flags say "no ACLs" (mount with
/// noacl). Call only after the blob's digest was accepted.
bool composefs_blob_has_acl(int blob_fd);

/// How an EROFS image reaches the kernel.
enum class ErofsSourceKind {
    File,  // straight from the file (kernel >= 6.12), else through a loop device
    Loop,  // always through a read-only, auto-clearing loop device (memfds need this)
};

/// Mounts the EROFS image behind `blob_fd` read-only and returns the detached mount's fd.
/// The kernel's fsconfig messages go into Error(MountFailed)'s text.
UniqueFd mount_erofs(int blob_fd, ErofsSourceKind kind, bool noacl, const KernelFeatures& kernel);

/// The overlay's parts. Every fd stays owned by the caller.
struct OverlaySpec {
    std::vector<int> metadata_layers;  // detached EROFS mounts, top first
    std::vector<int> data_layers;      // the layers' diff/ directories (O_PATH), top first
    int upper_dir = -1;                // container's diff/ (O_PATH), -1 for read-only
    int work_dir = -1;                 // container's work/ (O_PATH)
    bool verity_require = false;       // verity=require (enforce)
    bool readonly = true;
    bool nodev = false;
    bool nosuid = false;
};

/// Builds the overlay with metacopy=on, redirect_dir=on and returns the detached mount's fd.
/// Kernel refusal: Error(MountFailed) with its messages; a work dir in use (EBUSY): Error(Busy).
UniqueFd mount_overlay(const OverlaySpec& spec, const KernelFeatures& kernel);

}  // namespace vmd::mount
