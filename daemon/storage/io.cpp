#include "storage/io.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <simdjson.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/file_read.hpp"
#include "storage/store.hpp"

namespace vmd::storage {
namespace {

constexpr int kEagainRetries = 16;

// openat2 answers EAGAIN when a concurrent rename could have let ".." escape; retry a few times.
int raw_openat2(int dirfd, const std::string& path, int flags) {
    // openat2, unlike open, refuses O_PATH combined with flags such as O_NOCTTY (EINVAL).
    if (!(flags & O_PATH)) {
        flags |= O_NOCTTY;
    }
    open_how how{};
    how.flags = static_cast<std::uint64_t>(flags | O_CLOEXEC);
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
    for (int attempt = 0;; ++attempt) {
        long fd = ::syscall(SYS_openat2, dirfd, path.c_str(), &how, sizeof(how));
        if (fd >= 0) {
            return static_cast<int>(fd);
        }
        if ((errno != EAGAIN && errno != EINTR) || attempt >= kEagainRetries) {
            return -1;
        }
    }
}

std::string_view expected_kind(int flags) {
    return (flags & O_DIRECTORY) ? "a directory" : "a regular file";
}

// What sits at `path` itself (not following it), looked at only through a parent opened
// beneath `dirfd`, so describing an error never resolves outside the store either.
std::optional<mode_t> final_component_type(int dirfd, std::string_view path) {
    auto slash = path.rfind('/');
    std::string_view base = slash == std::string_view::npos ? path : path.substr(slash + 1);
    if (base.empty() || base == "." || base == "..") {
        return std::nullopt;
    }
    UniqueFd parent;
    int parent_fd = dirfd;
    if (slash != std::string_view::npos && slash > 0) {
        parent.reset(raw_openat2(dirfd, std::string(path.substr(0, slash)), O_PATH | O_DIRECTORY));
        if (!parent) {
            return std::nullopt;
        }
        parent_fd = parent.get();
    }
    struct stat st {};
    if (::fstatat(parent_fd, std::string(base).c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
        return std::nullopt;
    }
    return st.st_mode;
}

[[noreturn]] void fail_open(int err, int dirfd, std::string_view path, int flags, Errc code) {
    auto expected = expected_kind(flags);
    switch (err) {
        case ENOENT:
            fail(code, "{}: expected {}, found nothing", path, expected);
        case ELOOP:
        case ENOTDIR: {
            auto mode = final_component_type(dirfd, path);
            if (mode && ((err == ELOOP && S_ISLNK(*mode)) || err == ENOTDIR)) {
                fail(code, "{}: expected {}, found {}", path, expected, file_type_name(*mode));
            }
            fail(code, "{}: expected {} reached through plain directories, found {} in its path",
                 path, expected, err == ELOOP ? "a symlink" : "a non-directory");
        }
        case EXDEV:
            fail(code, "{}: expected a path beneath the store root, found one that leaves it",
                 path);
        case ENOSYS:
            fail(Errc::KernelUnsupported,
                 "{}: expected a kernel with openat2 (Linux 5.6), found none", path);
        default:
            fail(code, "{}: expected {} that can be opened, found an error ({})", path, expected,
                 std::strerror(err));
    }
}

}  // namespace

UniqueFd open_beneath(int dirfd, std::string_view path, int flags, Errc on_error) {
    UniqueFd fd(raw_openat2(dirfd, std::string(path), flags));
    if (!fd) {
        fail_open(errno, dirfd, path, flags, on_error);
    }
    return fd;
}

namespace detail {

UniqueFd try_open_beneath(int dirfd, std::string_view path, int flags, Errc on_error) {
    UniqueFd fd(raw_openat2(dirfd, std::string(path), flags));
    if (!fd && errno != ENOENT) {
        fail_open(errno, dirfd, path, flags, on_error);
    }
    return fd;
}

std::optional<RegularFile> open_regular(int dirfd, std::string_view path, bool optional) {
    constexpr int kFlags = O_RDONLY | O_NONBLOCK;
    UniqueFd fd =
        optional ? try_open_beneath(dirfd, path, kFlags) : open_beneath(dirfd, path, kFlags);
    if (!fd) {
        return std::nullopt;
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) {
        fail_errno(Errc::StorageCorrupt, errno, fmt::format("{}: fstat", path));
    }
    if (!S_ISREG(st.st_mode)) {
        fail(Errc::StorageCorrupt, "{}: expected a regular file, found {}", path,
             file_type_name(st.st_mode));
    }
    // Of the flags F_SETFL changes, only O_NONBLOCK was set at open: 0 clears just that.
    if (::fcntl(fd.get(), F_SETFL, 0) != 0) {
        fail_errno(Errc::StorageCorrupt, errno, fmt::format("{}: clearing O_NONBLOCK", path));
    }
    return RegularFile{std::move(fd), static_cast<std::uint64_t>(st.st_size)};
}

std::string read_all(const RegularFile& file, std::uint64_t limit, std::string_view what,
                     std::size_t padding) {
    return read_bounded(file.fd.get(), file.size, {what, limit, Errc::StorageCorrupt, padding});
}

void lock_shared(int fd, std::string_view what) {
    struct flock lock {};
    lock.l_type = F_RDLCK;
    lock.l_whence = SEEK_SET;  // l_start = l_len = 0: the whole file
    while (::fcntl(fd, F_OFD_SETLKW, &lock) != 0) {
        if (errno != EINTR) {
            fail_errno(Errc::StorageCorrupt, errno, fmt::format("{}: taking a read lock", what));
        }
    }
}

std::optional<std::string> read_locked_json(int root_fd, std::string_view dir,
                                            std::string_view file, std::string_view lock,
                                            std::uint64_t limit) {
    auto lock_path = fmt::format("{}/{}", dir, lock);
    auto lock_file = open_regular(root_fd, lock_path, true);
    if (lock_file) {
        lock_shared(lock_file->fd.get(), lock_path);
    }
    auto path = fmt::format("{}/{}", dir, file);
    auto json = open_regular(root_fd, path, true);
    if (!json) {
        return std::nullopt;
    }
    return read_all(*json, limit, path, simdjson::SIMDJSON_PADDING);
}

}  // namespace detail
}  // namespace vmd::storage
