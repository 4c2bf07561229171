// composefs mounts with the new mount API: EROFS from a blob fd, then the overlay, detached.
#pragma once

#include <filesystem>
#include <vector>

#include "common/unique_fd.hpp"
#include "mount/kernel_features.hpp"

namespace vmd::mount {

/// False when the blob starts with the composefs header and its flags say "no ACLs" (mount with
/// noacl); true for a plain EROFS image (no header). Call only after the blob's digest was
/// accepted. Unreadable blob: Error(StorageCorrupt).
bool composefs_blob_has_acl(int blob_fd);

/// How an EROFS image reaches the kernel.
enum class ErofsSourceKind {
    File,  // straight from the file (kernel >= 6.12), else through a loop device
    Loop,  // always through a read-only, auto-clearing loop device (memfds need this)
};

/// Mounts the EROFS image behind `blob_fd` read-only (`ro`, plus `noacl` when asked) and returns
/// the detached mount's fd (MOUNT_ATTR_RDONLY). A loop device used on the way clears itself when
/// the mount goes away. The kernel's refusal: Error(MountFailed) with its fsconfig messages.
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
    /// Only used on kernels without detached_layers: the metadata layers are attached for the
    /// time of the overlay's creation under a fresh private directory below this one (created
    /// 0700 if missing). On such kernels the layer mounts passed in end up unmounted (lazily
    /// detached) when mount_overlay returns; the overlay keeps its own references.
    std::filesystem::path staging_root = "/run/verity-mountd";
};

/// Builds the overlay (lowers: metadata layers top first, then the data layers as data-only
/// lowers; metacopy=on, redirect_dir=on, verity=require when asked; upperdir/workdir with
/// index=on, so that a work dir in use by another mount is refused, else ro) and returns the
/// detached mount's fd with MOUNT_ATTR_RDONLY / NODEV / NOSUID as asked.
/// Kernel refusal: Error(MountFailed) with its messages; a work dir in use (EBUSY): Error(Busy);
/// verity_require on a kernel without overlay verity: Error(KernelUnsupported); a malformed
/// spec (no metadata layer, upper without work): Error(Internal).
UniqueFd mount_overlay(const OverlaySpec& spec, const KernelFeatures& kernel);

}  // namespace vmd::mount
