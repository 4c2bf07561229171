#include "verity/measure.hpp"

#include <linux/fsverity.h>
#include <sys/ioctl.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>

#include "common/error.hpp"

namespace vmd::verity {
namespace {

constexpr std::size_t kMaxDigestSize = 64;  // room for any algorithm, so EOVERFLOW cannot happen

}  // namespace

Sha256 measure_verity(int fd) {
    // fsverity_digest ends in a flexible array: give it a buffer with room behind the header.
    alignas(fsverity_digest) std::array<std::uint8_t, sizeof(fsverity_digest) + kMaxDigestSize>
        buffer{};
    auto* answer = reinterpret_cast<fsverity_digest*>(buffer.data());
    answer->digest_size = kMaxDigestSize;
    int rc = 0;
    do {
        rc = ::ioctl(fd, FS_IOC_MEASURE_VERITY, answer);
    } while (rc != 0 && errno == EINTR);
    if (rc != 0) {
        int err = errno;
        switch (err) {
            case ENODATA:
                fail(Errc::VerityMissing,
                     "FS_IOC_MEASURE_VERITY: expected a file with fs-verity enabled, found one "
                     "without ({})",
                     std::strerror(err));
            case ENOTTY:
            case EOPNOTSUPP:
                fail(Errc::KernelUnsupported,
                     "FS_IOC_MEASURE_VERITY: expected fs-verity support in the kernel and in the "
                     "file's filesystem, found it missing ({})",
                     std::strerror(err));
            default:
                fail_errno(Errc::Internal, err, "FS_IOC_MEASURE_VERITY");
        }
    }
    if (answer->digest_algorithm != FS_VERITY_HASH_ALG_SHA256 || answer->digest_size != kHashSize) {
        fail(Errc::VerityMismatch,
             "FS_IOC_MEASURE_VERITY: expected a SHA-256 digest (algorithm {}, {} bytes), found "
             "algorithm {} with {} bytes",
             FS_VERITY_HASH_ALG_SHA256, kHashSize, answer->digest_algorithm, answer->digest_size);
    }
    Sha256 digest{};
    const std::uint8_t* bytes = buffer.data() + sizeof(fsverity_digest);
    std::copy(bytes, bytes + kHashSize, digest.begin());
    return digest;
}

}  // namespace vmd::verity
