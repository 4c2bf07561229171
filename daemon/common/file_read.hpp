// Reading a whole file under a size bound: the one reader behind store items, the config,
// policy.json and key files. A file over its bound is refused, never truncated.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "common/error.hpp"

namespace vmd {

/// How one bounded read names its file in messages and how it refuses.
struct ReadBound {
    std::string_view what;        // how messages name the file, e.g. "config /etc/x.json"
    std::uint64_t max_bytes = 0;  // a larger file is refused
    Errc error = Errc::Internal;  // the code of every refusal
    std::size_t padding = 0;      // spare capacity after the bytes (simdjson reads past the end)
};

/// "a regular file", "a directory", "a symlink", "a FIFO", ... for the file type in `mode`.
std::string_view file_type_name(mode_t mode);

/// Reads `fd` from its offset to end of file. `stat_size` is what fstat said: above the bound
/// it is refused before anything is read; a file that grows past the bound while being read is
/// refused too. The result has at least `padding` spare bytes of capacity after its end.
/// Refusals and read errors: Error(bound.error) starting with `bound.what`.
std::string read_bounded(int fd, std::uint64_t stat_size, const ReadBound& bound);

/// Opens `path` (a trusted path: symlinks are followed), requires a regular file (a FIFO
/// cannot block the open) and reads it with read_bounded. A missing file gives nullopt when
/// `missing_ok`; any other failure is Error(bound.error) starting with `bound.what`.
std::optional<std::string> read_regular_file(const std::filesystem::path& path,
                                             const ReadBound& bound, bool missing_ok = false);

}  // namespace vmd
