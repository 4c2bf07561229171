// What the running kernel can do, probed once at start-up (DESIGN §6 "Kernel floor").
#pragma once

#include <string>

namespace vmd::mount {

struct KernelFeatures {
    std::string release;                 // uname -r
    bool fs_verity = false;              // FS_IOC_MEASURE_VERITY is implemented
    bool overlay_verity = false;         // overlay accepts verity=
    bool overlay_lowerdir_plus = false;  // overlay accepts lowerdir+ / datadir+
    bool erofs_file_backed = false;      // EROFS mounts straight from a regular file
    bool layers_by_fd = false;           // overlay layers given with FSCONFIG_SET_FD
    bool detached_layers = false;        // detached mounts usable as overlay layers
};

/// Probes the running kernel without leaving anything mounted.
KernelFeatures probe_kernel_features();

}  // namespace vmd::mount
