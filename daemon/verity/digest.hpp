// fs-verity file digests computed in user space (SHA-256, 4096-byte blocks, no salt).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace vmd::verity {

inline constexpr std::size_t kBlockSize = 4096;
inline constexpr std::size_t kHashSize = 32;
using Sha256 = std::array<std::uint8_t, kHashSize>;

/// Streams a file's bytes into the fs-verity Merkle tree and yields the file digest,
/// equal to `fsverity digest --compact` and to FS_IOC_MEASURE_VERITY.
class FsVerityHasher {
  public:
    FsVerityHasher();
    ~FsVerityHasher();
    FsVerityHasher(FsVerityHasher&&) noexcept;
    FsVerityHasher& operator=(FsVerityHasher&&) noexcept;

    /// Feeds the next bytes of the file.
    void update(std::span<const std::byte> data);
    /// The digest of everything fed so far; the hasher is spent afterwards.
    Sha256 finish();

  private:
    struct State;
    std::unique_ptr<State> state_;
};

/// The fs-verity digest of `data`.
Sha256 digest_bytes(std::span<const std::byte> data);
/// The fs-verity digest of the whole file behind `fd`, read with pread from offset 0. A file
/// longer than `max_bytes` is refused after reading at most max_bytes + 1 bytes, never digested
/// in part. Unreadable or too long: Error(StorageCorrupt).
Sha256 digest_fd(int fd, std::uint64_t max_bytes = std::numeric_limits<std::uint64_t>::max());

/// "sha256:<64 lowercase hex>".
std::string to_string(const Sha256& digest);
/// Lowercase hex of `bytes`.
std::string to_hex(std::span<const std::uint8_t> bytes);

}  // namespace vmd::verity
