#include "mount/sealed_memfd.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>

#include "common/error.hpp"

namespace vmd::mount {
namespace {

constexpr std::size_t kChunk = 1 << 20;
constexpr unsigned int kSeals = F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL;

[[noreturn]] void too_large(std::uint64_t max_bytes, std::uint64_t found) {
    fail(Errc::StorageCorrupt, "blob copy: expected at most {} bytes, found at least {} bytes",
         max_bytes, found);
}

// How the bytes move; each falls back to the next when the kernel refuses this pair of files.
enum class CopyMethod { CopyFileRange, Sendfile, ReadWrite };

// One step of the copy: up to `want` bytes from source offset `*offset` appended to the memfd.
// Returns the bytes copied (0 at end of file).
std::size_t copy_step(int source_fd, int memfd, off_t* offset, std::size_t want,
                      CopyMethod& method) {
    while (method != CopyMethod::ReadWrite) {
        ssize_t n = method == CopyMethod::CopyFileRange
                        ? ::copy_file_range(source_fd, offset, memfd, nullptr, want, 0)
                        : ::sendfile(memfd, source_fd, offset, want);
        if (n >= 0) {
            return static_cast<std::size_t>(n);
        }
        if (errno == EINTR) {
            continue;
        }
        // EXDEV, EINVAL, ENOSYS, EOPNOTSUPP...: this pair of files needs the next method.
        method = method == CopyMethod::CopyFileRange ? CopyMethod::Sendfile : CopyMethod::ReadWrite;
    }
    std::array<char, std::size_t{64} * 1024> buffer{};
    ssize_t n = 0;
    do {
        n = ::pread(source_fd, buffer.data(), std::min(want, buffer.size()), *offset);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        fail_errno(Errc::StorageCorrupt, errno, "blob copy: read the source");
    }
    std::size_t done = 0;
    while (done < static_cast<std::size_t>(n)) {
        ssize_t w = ::write(memfd, buffer.data() + done, static_cast<std::size_t>(n) - done);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            fail_errno(Errc::Internal, errno, "blob copy: write the memfd");
        }
        done += static_cast<std::size_t>(w);
    }
    *offset += n;
    return static_cast<std::size_t>(n);
}

}  // namespace

SealedCopy sealed_copy(int source_fd, std::uint64_t max_bytes) {
    struct stat st {};
    if (::fstat(source_fd, &st) != 0) {
        fail_errno(Errc::StorageCorrupt, errno, "blob copy: fstat the source");
    }
    if (!S_ISREG(st.st_mode)) {
        fail(Errc::StorageCorrupt, "blob copy: expected a regular file, found mode {:o}",
             st.st_mode & S_IFMT);
    }
    if (static_cast<std::uint64_t>(st.st_size) > max_bytes) {
        too_large(max_bytes, static_cast<std::uint64_t>(st.st_size));
    }

    SealedCopy copy;
    copy.memfd.reset(::memfd_create("verity-mountd-blob", MFD_CLOEXEC | MFD_ALLOW_SEALING));
    if (!copy.memfd) {
        fail_errno(Errc::Internal, errno, "memfd_create");
    }
    // The file may still grow while we copy (the store is untrusted): read one byte past the
    // bound so a larger file is refused, never truncated.
    off_t offset = 0;
    std::uint64_t total = 0;
    auto method = CopyMethod::CopyFileRange;
    for (;;) {
        std::uint64_t room = max_bytes - total + 1;
        auto want = static_cast<std::size_t>(std::min<std::uint64_t>(room, kChunk));
        std::size_t n = copy_step(source_fd, copy.memfd.get(), &offset, want, method);
        if (n == 0) {
            break;
        }
        total += n;
        if (total > max_bytes) {
            too_large(max_bytes, total);
        }
    }
    if (::fcntl(copy.memfd.get(), F_ADD_SEALS, kSeals) != 0) {
        fail_errno(Errc::Internal, errno, "seal the blob memfd");
    }
    copy.digest = verity::digest_fd(copy.memfd.get());
    return copy;
}

}  // namespace vmd::mount
