#include "mount/mount_compat.hpp"

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "common/error.hpp"

namespace vmd::mount {

namespace fs = std::filesystem;

StagedLayers::StagedLayers(std::span<const int> mount_fds, const fs::path& staging_root) {
    if (::mkdir(staging_root.c_str(), 0700) != 0 && errno != EEXIST) {
        fail_errno(Errc::MountFailed, errno,
                   fmt::format("create the staging directory {}", staging_root.string()));
    }
    std::string tmpl = (staging_root / "layers-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) {
        fail_errno(Errc::MountFailed, errno, fmt::format("mkdtemp {}", tmpl));
    }
    dir_ = tmpl;
    try {
        // A private bind of the directory on itself: what is attached below it is not
        // propagated to any peer mount namespace.
        if (::mount(dir_.c_str(), dir_.c_str(), nullptr, MS_BIND, nullptr) != 0) {
            fail_errno(Errc::MountFailed, errno, fmt::format("bind {}", dir_.string()));
        }
        dir_bound_ = true;
        if (::mount(nullptr, dir_.c_str(), nullptr, MS_PRIVATE, nullptr) != 0) {
            fail_errno(Errc::MountFailed, errno, fmt::format("make {} private", dir_.string()));
        }
        for (std::size_t i = 0; i < mount_fds.size(); ++i) {
            auto target = dir_ / std::to_string(i);
            if (::mkdir(target.c_str(), 0700) != 0) {
                fail_errno(Errc::MountFailed, errno, fmt::format("mkdir {}", target.string()));
            }
            created_.push_back(target);
            if (::move_mount(mount_fds[i], "", AT_FDCWD, target.c_str(), MOVE_MOUNT_F_EMPTY_PATH) !=
                0) {
                fail_errno(Errc::MountFailed, errno,
                           fmt::format("attach layer {} on {} (kernel < 6.15 fallback)", i,
                                       target.string()));
            }
            attached_.push_back(target);
            UniqueFd fd(::open(target.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
            if (!fd) {
                fail_errno(Errc::MountFailed, errno, fmt::format("open {}", target.string()));
            }
            fds_.push_back(std::move(fd));
        }
    } catch (...) {
        unwind();
        throw;
    }
}

StagedLayers::~StagedLayers() {
    unwind();
}

std::vector<int> StagedLayers::fds() const {
    std::vector<int> out;
    out.reserve(fds_.size());
    for (const auto& fd : fds_) {
        out.push_back(fd.get());
    }
    return out;
}

void StagedLayers::unwind() noexcept {
    fds_.clear();
    for (auto it = attached_.rbegin(); it != attached_.rend(); ++it) {
        ::umount2(it->c_str(), MNT_DETACH);
    }
    attached_.clear();
    if (dir_bound_) {
        ::umount2(dir_.c_str(), MNT_DETACH);
        dir_bound_ = false;
    }
    // rmdir only: if an unmount above failed, nothing below a mount gets deleted.
    for (auto it = created_.rbegin(); it != created_.rend(); ++it) {
        ::rmdir(it->c_str());
    }
    created_.clear();
    if (!dir_.empty()) {
        ::rmdir(dir_.c_str());
        dir_.clear();
    }
}

int enter_private_mount_namespace() noexcept {
    if (::unshare(CLONE_NEWNS) != 0 ||
        ::mount(nullptr, "/", nullptr, MS_REC | MS_SLAVE, nullptr) != 0) {
        return errno;
    }
    return 0;
}

UniqueFd reopen_if_opath(int fd) {
    int flags = ::fcntl(fd, F_GETFL);
    if (flags < 0) {
        fail_errno(Errc::Internal, errno, fmt::format("fcntl F_GETFL on layer fd {}", fd));
    }
    if ((flags & O_PATH) == 0) {
        return {};
    }
    UniqueFd reopened(::openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!reopened) {
        fail_errno(Errc::MountFailed, errno,
                   fmt::format("reopen layer fd {} O_RDONLY (kernel < 6.15 fallback)", fd));
    }
    return reopened;
}

namespace {

void append_escaped(std::string& out, const std::string& path) {
    for (char c : path) {
        if (c == ':' || c == '\\') {
            out += '\\';
        }
        out += c;
    }
}

}  // namespace

std::string legacy_lowerdir(std::span<const std::string> metadata_paths,
                            std::span<const std::string> data_paths) {
    std::string out;
    for (std::size_t i = 0; i < metadata_paths.size(); ++i) {
        if (i > 0) {
            out += ':';
        }
        append_escaped(out, metadata_paths[i]);
    }
    for (const auto& path : data_paths) {
        out += "::";
        append_escaped(out, path);
    }
    return out;
}

}  // namespace vmd::mount
