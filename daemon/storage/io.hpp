// Internal to the storage module: opening, locking and reading untrusted store files.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/error.hpp"
#include "common/json.hpp"
#include "common/unique_fd.hpp"

namespace vmd::storage::detail {

/// Like open_beneath, but a missing file (ENOENT) yields an empty fd instead of an error.
UniqueFd try_open_beneath(int dirfd, std::string_view path, int flags,
                          Errc on_error = Errc::StorageCorrupt);

/// An open regular file and the size fstat gave for it.
struct RegularFile {
    UniqueFd fd;
    std::uint64_t size = 0;
};

/// Opens `path` beneath `dirfd` read-only and requires a regular file (a FIFO cannot block the
/// open: it is opened non-blocking, and O_NONBLOCK is cleared once the file is known to be
/// regular). Returns nullopt when `optional` and the file is missing; otherwise a missing or
/// non-regular file is Error(StorageCorrupt).
std::optional<RegularFile> open_regular(int dirfd, std::string_view path, bool optional);

/// Reads the whole of `file`, at most `limit` bytes (vmd::read_bounded, refusing with
/// Error(StorageCorrupt) named `what`), with `padding` spare bytes of capacity after the end.
std::string read_all(const RegularFile& file, std::uint64_t limit, std::string_view what,
                     std::size_t padding = 0);

/// Takes a whole-file shared lock (open file description lock) on `fd`, waiting for writers.
void lock_shared(int fd, std::string_view what);

/// Reads the store JSON file `dir`/`file` under a shared lock on `dir`/`lock` (when that lock
/// file exists; it is never created), bounded by `limit`, with simdjson padding after the
/// bytes. nullopt when the JSON file (or its directory) does not exist.
std::optional<std::string> read_locked_json(int root_fd, std::string_view dir,
                                            std::string_view file, std::string_view lock,
                                            std::uint64_t limit);

/// Throws Error(code, "<what>: expected 64 lowercase hex digits, found \"<id>\"") unless
/// `id` is a full ID: the check every ID passes before it becomes part of a path.
void require_full_id(std::string_view id, std::string_view what, Errc code);

/// `text` as a quoted JSON string for an error message, cut after 200 bytes.
using json::shown;

/// Standard base64 (RFC 4648, with padding).
std::string base64_encode(std::string_view bytes);

}  // namespace vmd::storage::detail
