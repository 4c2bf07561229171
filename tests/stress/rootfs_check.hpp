// Checks of a rootfs received from Mount, made through its fd alone (openat below the detached
// mount), so that nothing is attached anywhere and nothing needs cleaning up but the fd.
#pragma once

#include <optional>
#include <string>

namespace vmd::testing::stress {

/// True when `rootfs` is the root of an overlay mount.
bool is_overlay(int rootfs);
/// True when the mount of `rootfs` is read-only.
bool is_read_only(int rootfs);
/// The content of the regular file `path` (relative) below `rootfs`, not following a final
/// symlink; nullopt when it cannot be read.
std::optional<std::string> read_below(int rootfs, const std::string& path);
/// A digest of the whole tree below `rootfs`: every path, type, mode, symlink target and file
/// content. Two mounts show the same files exactly when their fingerprints are equal. Throws
/// std::runtime_error when something cannot be read.
std::string tree_fingerprint(int rootfs);

}  // namespace vmd::testing::stress
