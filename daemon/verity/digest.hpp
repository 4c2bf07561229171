// fs-verity file digests computed in user space (SHA-256, 4096-byte blocks, no salt).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
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
/// The fs-verity digest of the whole file behind `fd`, read with pread from offset 0.
/// Throws Error(StorageCorrupt) when the file cannot be read.
Sha256 digest_fd(int fd);

/// "sha256:<64 lowercase hex>".
std::string to_string(const Sha256& digest);
/// Lowercase hex of `bytes`.
std::string to_hex(std::span<const std::uint8_t> bytes);

}  // namespace vmd::verity
