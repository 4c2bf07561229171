#include "common/file_read.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <limits>

#include "common/unique_fd.hpp"

namespace vmd {

std::string_view file_type_name(mode_t mode) {
    switch (mode & S_IFMT) {
        case S_IFREG:
            return "a regular file";
        case S_IFDIR:
            return "a directory";
        case S_IFLNK:
            return "a symlink";
        case S_IFIFO:
            return "a FIFO";
        case S_IFSOCK:
            return "a socket";
        case S_IFCHR:
            return "a character device";
        case S_IFBLK:
            return "a block device";
        default:
            return "a file of unknown type";
    }
}

std::string read_bounded(int fd, std::uint64_t stat_size, const ReadBound& bound) {
    if (stat_size > bound.max_bytes) {
        fail(bound.error, "{}: expected at most {} bytes, found {}", bound.what, bound.max_bytes,
             stat_size);
    }
    // One spare byte lets the read that sees end-of-file happen without growing the buffer.
    std::string out;
    out.reserve(stat_size + std::max<std::size_t>(bound.padding, 1));
    out.resize(stat_size + 1);
    std::uint64_t got = 0;
    for (;;) {
        if (got == out.size()) {
            // The file grew since fstat: keep reading, but never past max_bytes + 1 bytes.
            const std::uint64_t cap = bound.max_bytes < std::numeric_limits<std::uint64_t>::max()
                                          ? bound.max_bytes + 1
                                          : bound.max_bytes;
            out.resize(std::min<std::uint64_t>(cap, std::max<std::uint64_t>(got * 2, 4096)));
        }
        ssize_t n = ::read(fd, out.data() + got, out.size() - got);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            fail_errno(bound.error, errno, fmt::format("{}: read", bound.what));
        }
        if (n == 0) {
            break;
        }
        got += static_cast<std::uint64_t>(n);
        if (got > bound.max_bytes) {
            fail(bound.error,
                 "{}: expected at most {} bytes, found more (it grew while being read)", bound.what,
                 bound.max_bytes);
        }
    }
    out.resize(got);
    out.reserve(got + bound.padding);
    return out;
}

std::optional<std::string> read_regular_file(const std::filesystem::path& path,
                                             const ReadBound& bound, bool missing_ok) {
    // O_NONBLOCK: opening a FIFO must not wait for a writer; regular files ignore the flag.
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
    if (!fd) {
        if (errno == ENOENT && missing_ok) {
            return std::nullopt;
        }
        fail_errno(bound.error, errno, fmt::format("{}: open", bound.what));
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) {
        fail_errno(bound.error, errno, fmt::format("{}: fstat", bound.what));
    }
    if (!S_ISREG(st.st_mode)) {
        fail(bound.error, "{}: expected a regular file, found {}", bound.what,
             file_type_name(st.st_mode));
    }
    return read_bounded(fd.get(), static_cast<std::uint64_t>(st.st_size), bound);
}

}  // namespace vmd
