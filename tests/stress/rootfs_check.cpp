#include "stress/rootfs_check.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <vector>

#include "common/unique_fd.hpp"
#include "fixtures/signing.hpp"

namespace vmd::testing::stress {
namespace {

struct DirClose {
    void operator()(DIR* dir) const noexcept { ::closedir(dir); }
};

bool read_all(int fd, std::string& out) {
    std::array<char, 16384> buffer{};
    for (;;) {
        const ssize_t n = ::read(fd, buffer.data(), buffer.size());
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            return false;
        }
        if (n == 0) {
            return true;
        }
        out.append(buffer.data(), static_cast<std::size_t>(n));
    }
}

[[noreturn]] void cannot(const std::string& what, const std::string& path) {
    throw std::runtime_error("rootfs: cannot " + what + " " + path + ": " + std::strerror(errno));
}

std::vector<std::string> sorted_names(int dir_fd, const std::string& path) {
    std::unique_ptr<DIR, DirClose> dir(::fdopendir(::dup(dir_fd)));
    if (!dir) {
        cannot("list", path);
    }
    std::vector<std::string> names;
    while (const dirent* entry = ::readdir(dir.get())) {
        const std::string_view name = entry->d_name;
        if (name != "." && name != "..") {
            names.emplace_back(name);
        }
    }
    std::sort(names.begin(), names.end());
    return names;
}

void describe_tree(int dir_fd, const std::string& path, std::string& out) {
    for (const auto& name : sorted_names(dir_fd, path)) {
        std::string child = path;
        child.append("/").append(name);
        struct stat st {};
        if (::fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
            cannot("stat", child);
        }
        out.append(child).append(" ").append(std::to_string(st.st_mode)).append(" ");
        if (S_ISDIR(st.st_mode)) {
            UniqueFd sub(
                ::openat(dir_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
            if (!sub) {
                cannot("open", child);
            }
            out += "dir\n";
            describe_tree(sub.get(), child, out);
        } else if (S_ISLNK(st.st_mode)) {
            std::array<char, 4096> target{};
            const ssize_t n = ::readlinkat(dir_fd, name.c_str(), target.data(), target.size());
            if (n < 0) {
                cannot("read the link", child);
            }
            out += "-> " + std::string(target.data(), static_cast<std::size_t>(n)) + "\n";
        } else if (S_ISREG(st.st_mode)) {
            const auto content = read_below(dir_fd, name);
            if (!content) {
                cannot("read", child);
            }
            out += sha256_digest(*content) + "\n";
        } else {
            out += "special\n";
        }
    }
}

}  // namespace

bool is_overlay(int rootfs) {
    struct statfs st {};
    return ::fstatfs(rootfs, &st) == 0 && st.f_type == OVERLAYFS_SUPER_MAGIC;
}

bool is_read_only(int rootfs) {
    struct statvfs st {};
    return ::fstatvfs(rootfs, &st) == 0 && (st.f_flag & ST_RDONLY) != 0;
}

std::optional<std::string> read_below(int rootfs, const std::string& path) {
    std::string content;
    UniqueFd fd(::openat(rootfs, path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd || !read_all(fd.get(), content)) {
        return std::nullopt;
    }
    return content;
}

std::string tree_fingerprint(int rootfs) {
    UniqueFd root(::openat(rootfs, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!root) {
        cannot("open", "/");
    }
    std::string description;
    describe_tree(root.get(), "", description);
    return sha256_digest(description);
}

}  // namespace vmd::testing::stress
