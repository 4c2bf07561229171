// What the daemon parses from trusted files (/etc: policy.json, the keys it names), kept between
// requests while the files stay the same. DESIGN §1 allows this for /etc only; nothing read from
// the store may ever go through here.
#pragma once

#include <sys/types.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace vmd {

/// One version of a file as stat(2) reports it: any change of content, size, owner, mode or
/// name (a new inode behind the path) changes one of these.
struct FileVersion {
    dev_t device = 0;
    ino_t inode = 0;
    off_t size = 0;
    std::int64_t mtime_ns = 0;
    std::int64_t ctime_ns = 0;

    bool operator==(const FileVersion&) const = default;
};

/// stat(2) of `path` (following symlinks, as opening it does); nullopt when that fails.
std::optional<FileVersion> file_version(const std::filesystem::path& path);

/// CLOCK_REALTIME in nanoseconds, the clock file timestamps come from.
std::int64_t realtime_ns();

/// Values derived from trusted files, each kept under a key with the versions of the files it
/// was read from. A kept value is handed out again only while every file still has the same
/// version, and only if it was loaded at least kSettleNs after the files last changed: file
/// timestamps are coarse (a clock tick), so a file rewritten in place with the same size within
/// the tick it was read in keeps its version. Until then, and after any change, it is loaded
/// anew. Thread-safe.
template <typename T>
class TrustedFileCache {
  public:
    static constexpr std::int64_t kSettleNs = 1'000'000'000;
    static constexpr std::size_t kMaxEntries = 64;

    /// `now_ns` tells the time (tests pass their own clock).
    explicit TrustedFileCache(std::function<std::int64_t()> now_ns = realtime_ns)
        : now_ns_(std::move(now_ns)) {}

    /// The value for `key`, which `load()` derives from `files` and nothing else: the kept one
    /// when allowed (see above), else a new `load()`, kept for later when allowed. Whatever
    /// `load()` throws propagates, and nothing is kept.
    template <typename Load>
    std::shared_ptr<const T> get(const std::string& key,
                                 std::span<const std::filesystem::path> files, Load&& load) {
        const auto before = versions(files);
        {
            std::lock_guard lock(mutex_);
            if (auto kept = entries_.find(key);
                kept != entries_.end() && kept->second.versions == before) {
                return kept->second.value;
            }
        }
        const std::int64_t loaded_at = now_ns_();
        auto value = std::make_shared<const T>(load());
        // A file that changed while it was read, or too recently, is read again next time.
        const bool keep = settled(before, loaded_at) && versions(files) == before;
        std::lock_guard lock(mutex_);
        if (!keep) {
            entries_.erase(key);
        } else {
            if (entries_.size() >= kMaxEntries) {
                entries_.clear();
            }
            entries_.insert_or_assign(key, Entry{before, value});
        }
        return value;
    }

  private:
    using Versions = std::vector<std::optional<FileVersion>>;

    struct Entry {
        Versions versions;
        std::shared_ptr<const T> value;
    };

    static Versions versions(std::span<const std::filesystem::path> files) {
        Versions out;
        out.reserve(files.size());
        for (const auto& file : files) {
            out.push_back(file_version(file));
        }
        return out;
    }

    static bool settled(const Versions& versions, std::int64_t loaded_at) {
        for (const auto& version : versions) {
            if (!version ||
                loaded_at - std::max(version->mtime_ns, version->ctime_ns) < kSettleNs) {
                return false;
            }
        }
        return true;
    }

    std::function<std::int64_t()> now_ns_;
    std::mutex mutex_;
    std::unordered_map<std::string, Entry> entries_;
};

}  // namespace vmd
