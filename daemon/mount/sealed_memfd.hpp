// The digest level's copy of a composefs blob into memory nobody can change any more: the bytes
// mounted are exactly the bytes measured (DESIGN §7).
#pragma once

#include <cstdint>

#include "common/unique_fd.hpp"
#include "verity/digest.hpp"

namespace vmd::mount {

/// A copy of a file in a memfd sealed against any change, and the fs-verity digest of what the
/// memfd holds.
struct SealedCopy {
    UniqueFd memfd;
    verity::Sha256 digest{};
};

/// Copies the whole file behind `source_fd` (from offset 0; the fd's offset is not used) into a
/// memfd sealed with F_SEAL_WRITE|SHRINK|GROW|SEAL, then digests the sealed memfd. More than
/// `max_bytes` (by fstat, or read while the file grows): Error(StorageCorrupt) naming both
/// sizes; unreadable or non-regular source: Error(StorageCorrupt).
SealedCopy sealed_copy(int source_fd, std::uint64_t max_bytes);

}  // namespace vmd::mount
