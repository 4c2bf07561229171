// `verity-mountctl digest`: fs-verity digests of local files, one file per core at a time.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "client/ctl/format.hpp"

namespace vmd::ctl {

/// The fs-verity digest of each file in `paths`, in the same order. Files are shared out over
/// `threads` threads (0 = one per core). A file that cannot be read, or is not a regular file,
/// gets `error` set instead of a digest; the others are still computed.
std::vector<FileDigest> digest_files(std::span<const std::string> paths, unsigned threads = 0);

}  // namespace vmd::ctl
