// What the running kernel can do, probed once at start-up (DESIGN §6 "Kernel floor").
#pragma once

#include <filesystem>
#include <string>

namespace vmd::mount {

/// The kernel features the mount path depends on. Every fallback in mount_compat is chosen by one
/// of these flags, so a test can force it by clearing the flag.
struct KernelFeatures {
    std::string release;                 // uname -r
    bool fs_verity = false;              // FS_IOC_MEASURE_VERITY works on the probed filesystem
    bool overlay_verity = false;         // overlay accepts verity= (6.6)
    bool overlay_lowerdir_plus = false;  // overlay accepts lowerdir+ / datadir+ (6.8)
    bool erofs_file_backed = false;      // EROFS mounts straight from a regular file (6.12)
    bool layers_by_fd = false;           // overlay layers given with FSCONFIG_SET_FD (6.13)
    bool layers_by_opath_fd = false;     // ... and O_PATH fds accepted there (6.15)
    bool detached_layers = false;        // detached mounts usable as overlay layers (6.15)
};

/// Probes the running kernel with real, bounded system calls, without leaving anything mounted
/// or any file behind. `store_root` is the store root: fs-verity depends on the filesystem as
/// well as the kernel, so it is probed (read-only) on that directory; file-backed EROFS is
/// probed on a temporary file in /tmp, else in the store root where one may be created. Never
/// throws for a missing feature; the flag is false.
KernelFeatures probe_kernel_features(const std::filesystem::path& store_root = "/tmp");

}  // namespace vmd::mount
