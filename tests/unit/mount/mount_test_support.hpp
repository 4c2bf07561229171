// Helpers of the mount tests: composefs-style EROFS layers built with mkfs.erofs, attaching a
// detached mount to read it, and the bookkeeping the leak check at the end of each run uses.
#pragma once

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/unique_fd.hpp"
#include "fixtures/test_env.hpp"
#include "verity/digest.hpp"

namespace vmd::mount::test {

namespace fs = std::filesystem;

/// Paths below which the suite mounts things; the leak check looks for mounts left there.
inline std::vector<fs::path>& tracked_roots() {
    static std::vector<fs::path> roots;
    return roots;
}

/// Number of open fds of this process.
inline std::size_t count_open_fds() {
    std::size_t count = 0;
    for ([[maybe_unused]] const auto& entry : fs::directory_iterator("/proc/self/fd")) {
        ++count;
    }
    return count - 1;  // the iterator's own fd
}

/// Mount points of this mount namespace, octal escapes decoded.
inline std::vector<std::string> mount_points() {
    std::vector<std::string> points;
    std::ifstream in("/proc/self/mountinfo");
    std::string id, parent, devno, root, point;
    std::string rest;
    while (in >> id >> parent >> devno >> root >> point) {
        std::getline(in, rest);
        std::string decoded;
        for (std::size_t i = 0; i < point.size(); ++i) {
            if (point[i] == '\\' && i + 3 < point.size()) {
                decoded += static_cast<char>(std::stoi(point.substr(i + 1, 3), nullptr, 8));
                i += 3;
            } else {
                decoded += point[i];
            }
        }
        points.push_back(decoded);
    }
    return points;
}

/// The super options ("ro,noacl,...") of the mount at `point`, empty when not mounted.
inline std::string super_options(const fs::path& point) {
    std::ifstream in("/proc/self/mountinfo");
    std::string line;
    while (std::getline(in, line)) {
        if (line.find(" " + point.string() + " ") == std::string::npos) {
            continue;
        }
        auto dash = line.find(" - ");
        auto last_space = line.rfind(' ');
        return dash == std::string::npos ? std::string() : line.substr(last_space + 1);
    }
    return {};
}

/// Mount points at or below any of `roots`.
inline std::vector<std::string> mounts_below(const std::vector<fs::path>& roots) {
    std::vector<std::string> found;
    for (const auto& point : mount_points()) {
        for (const auto& root : roots) {
            if (point == root.string() || point.starts_with(root.string() + "/")) {
                found.push_back(point);
            }
        }
    }
    return found;
}

/// Attaches a detached mount on a fresh directory (move_mount) so a test can read it, and
/// unmounts it again on destruction.
class AttachedMount {
  public:
    AttachedMount(int mount_fd, fs::path target) : target_(std::move(target)) {
        fs::create_directories(target_);
        tracked_roots().push_back(target_);
        if (::move_mount(mount_fd, "", AT_FDCWD, target_.c_str(), MOVE_MOUNT_F_EMPTY_PATH) != 0) {
            throw std::runtime_error("move_mount to " + target_.string() + ": " +
                                     std::strerror(errno));
        }
    }
    ~AttachedMount() { ::umount2(target_.c_str(), MNT_DETACH); }
    AttachedMount(const AttachedMount&) = delete;
    AttachedMount& operator=(const AttachedMount&) = delete;

    const fs::path& path() const { return target_; }

  private:
    fs::path target_;
};

/// The trusted.overlay.metacopy value: version 0, length 36, flags 0, SHA-256, digest.
inline std::string metacopy_xattr(const verity::Sha256& digest) {
    std::string value{'\x00', '\x24', '\x00', '\x01'};
    value.append(reinterpret_cast<const char*>(digest.data()), digest.size());
    return value;
}

/// Builds one composefs-style layer: a directory tree whose regular "object" files are sparse
/// stand-ins carrying trusted.overlay.redirect / .metacopy, their contents stored in a flat,
/// content-addressed objects dir (<2 hex>/<62 hex> of the fs-verity digest), then turned into an
/// EROFS image with mkfs.erofs.
class LayerBuilder {
  public:
    explicit LayerBuilder(fs::path root) : root_(std::move(root)) {
        fs::create_directories(tree());
        fs::create_directories(objects());
    }

    fs::path tree() const { return root_ / "tree"; }
    fs::path objects() const { return root_ / "objects"; }
    fs::path image() const { return root_ / "layer.erofs"; }

    /// A file whose content lives in the objects dir, reached through the redirect.
    LayerBuilder& object_file(const std::string& path, const std::string& content) {
        auto digest = verity::digest_bytes(
            {reinterpret_cast<const std::byte*>(content.data()), content.size()});
        auto hex = verity::to_hex(digest);
        auto object = objects() / hex.substr(0, 2) / hex.substr(2);
        fs::create_directories(object.parent_path());
        vmd::testing::write_file(object, content);

        auto stand_in = tree() / path;
        fs::create_directories(stand_in.parent_path());
        vmd::testing::write_file(stand_in, "");
        fs::resize_file(stand_in, content.size());  // sparse: no data, the right size
        std::string redirect = "/" + hex.substr(0, 2) + "/" + hex.substr(2);
        set_xattr(stand_in, "trusted.overlay.redirect", redirect);
        set_xattr(stand_in, "trusted.overlay.metacopy", metacopy_xattr(digest));
        return *this;
    }
    /// A file stored in the image itself.
    LayerBuilder& plain_file(const std::string& path, const std::string& content) {
        fs::create_directories((tree() / path).parent_path());
        vmd::testing::write_file(tree() / path, content);
        return *this;
    }
    LayerBuilder& dir(const std::string& path) {
        fs::create_directories(tree() / path);
        return *this;
    }
    LayerBuilder& symlink(const std::string& path, const std::string& target) {
        fs::create_symlink(target, tree() / path);
        return *this;
    }

    /// Runs mkfs.erofs as composefs would lay the image out; returns the image path.
    fs::path build() const {
        auto result =
            vmd::testing::run({"mkfs.erofs", "--quiet", "-T0", "--all-root", "--chunksize=4096",
                               image().string(), tree().string() + "/"});
        if (result.exit_code != 0) {
            throw std::runtime_error("mkfs.erofs failed: " + result.err);
        }
        return image();
    }

  private:
    static void set_xattr(const fs::path& path, const char* name, const std::string& value) {
        if (::lsetxattr(path.c_str(), name, value.data(), value.size(), 0) != 0) {
            throw std::runtime_error(std::string("setxattr ") + name + ": " + std::strerror(errno));
        }
    }

    fs::path root_;
};

/// The standard test layer: object files (one nested), a plain file, a dir and a symlink.
inline const std::map<std::string, std::string>& standard_objects() {
    static const std::map<std::string, std::string> objects = {
        {"hello.txt", "hello from the objects dir\n"},
        {"sub/nested.txt", std::string(10000, 'n') + "end\n"},
    };
    return objects;
}

/// Builds the standard layer below `root`; the builder names its image and objects dir.
inline LayerBuilder build_standard_layer(const fs::path& root) {
    LayerBuilder layer(root);
    for (const auto& [path, content] : standard_objects()) {
        layer.object_file(path, content);
    }
    layer.plain_file("plain.txt", "plain inline content\n")
        .dir("empty")
        .symlink("link", "hello.txt");
    layer.build();
    return layer;
}

/// Opens `path` with `flags` (O_CLOEXEC added); throws when that fails.
inline UniqueFd open_or_throw(const fs::path& path, int flags) {
    UniqueFd fd(::open(path.c_str(), flags | O_CLOEXEC));
    if (!fd) {
        throw std::runtime_error("open " + path.string() + ": " + std::strerror(errno));
    }
    return fd;
}

}  // namespace vmd::mount::test
