// What differs between kernel versions, kept out of the main mount path. Each helper is the
// fallback for one KernelFeatures flag being false.
#pragma once

#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "common/unique_fd.hpp"

namespace vmd::mount {

/// For kernels before 6.15 (!detached_layers): overlay refuses detached mounts as layers, so the
/// layer mounts are attached under a fresh directory below `staging_root`, itself a private bind
/// mount (attaching the layers propagates nowhere). Destruction lazily unmounts everything and
/// removes the directories, on every path.
class StagedLayers {
  public:
    /// Attaches each detached mount of `mount_fds` (top first) in that order. The mounts move:
    /// the caller's fds then refer to attached mounts, which destruction unmounts.
    StagedLayers(std::span<const int> mount_fds, const std::filesystem::path& staging_root);
    ~StagedLayers();
    StagedLayers(const StagedLayers&) = delete;
    StagedLayers& operator=(const StagedLayers&) = delete;

    /// One O_PATH directory fd per attached layer, in the order given.
    std::vector<int> fds() const;
    /// The private directory holding the layers.
    const std::filesystem::path& dir() const { return dir_; }

  private:
    void unwind() noexcept;

    std::filesystem::path dir_;
    bool dir_bound_ = false;
    std::vector<std::filesystem::path> attached_;
    std::vector<std::filesystem::path> created_;
    std::vector<UniqueFd> fds_;
};

/// For kernels before 6.15 (!detached_layers): StagedLayers attaches layers in the daemon's mount
/// namespace for a moment, so a daemon killed then would leave them mounted there for good. At
/// start, while it has one thread, the daemon moves into a mount namespace of its own: the
/// host's mounts still reach it (slave), its own reach nobody and go when it exits. Under the
/// unit, RestrictNamespaces= refuses this, and PrivateMounts= already gives it one. Returns 0, or
/// the errno of the step that failed.
int enter_private_mount_namespace() noexcept;

/// For kernels before 6.15 (!layers_by_opath_fd): FSCONFIG_SET_FD refuses O_PATH fds, so such an
/// fd is reopened O_RDONLY|O_DIRECTORY on the same directory (no path walked). Returns an invalid
/// UniqueFd when `fd` is not O_PATH and can be used as it is.
UniqueFd reopen_if_opath(int fd);

/// For kernels before 6.8 (!overlay_lowerdir_plus): the single legacy `lowerdir` value,
/// "a:b::c::d" (metadata layers top first, then each data-only layer after "::"), with ':' and
/// '\' in paths escaped as the kernel expects.
std::string legacy_lowerdir(std::span<const std::string> metadata_paths,
                            std::span<const std::string> data_paths);

}  // namespace vmd::mount
