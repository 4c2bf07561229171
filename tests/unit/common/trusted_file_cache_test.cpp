// TrustedFileCache: a value derived from trusted files is handed out again only while every file
// keeps its version and only once it was loaded well after the files last changed.
#include "common/trusted_file_cache.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <stdexcept>
#include <string>

#include "fixtures/test_env.hpp"

namespace vmd {
namespace {

namespace fs = std::filesystem;
using testing::read_file;
using testing::TempDir;
using testing::write_file;

constexpr std::int64_t kLater = 2'000'000'000;  // past the settle time of a fresh file

/// Counts loads and returns the file's content.
struct Loader {
    fs::path path;
    int loads = 0;
    std::string operator()() {
        ++loads;
        return read_file(path);
    }
};

/// A cache whose clock runs `offset_ns` ahead of the real one.
TrustedFileCache<std::string> cache_ahead_by(std::int64_t offset_ns) {
    return TrustedFileCache<std::string>([offset_ns] { return realtime_ns() + offset_ns; });
}

class TrustedFileCacheTest : public ::testing::Test {
  protected:
    fs::path file(const std::string& content) {
        write_file(path_, content);
        return path_;
    }
    std::shared_ptr<const std::string> get(TrustedFileCache<std::string>& cache, Loader& loader) {
        const fs::path files[] = {path_};
        return cache.get("key", files, [&] { return loader(); });
    }

    TempDir dir_;
    fs::path path_ = dir_.path() / "policy.json";
};

TEST_F(TrustedFileCacheTest, SettledUnchangedFileIsLoadedOnce) {
    auto cache = cache_ahead_by(kLater);
    Loader loader{file("one")};
    EXPECT_EQ(*get(cache, loader), "one");
    EXPECT_EQ(*get(cache, loader), "one");
    EXPECT_EQ(loader.loads, 1);
}

TEST_F(TrustedFileCacheTest, ReplacedFileIsLoadedAgain) {
    auto cache = cache_ahead_by(kLater);
    Loader loader{file("one")};
    ASSERT_EQ(*get(cache, loader), "one");
    // An editor's save: a new file renamed over the old one (a new inode).
    write_file(dir_.path() / "new", "two");
    fs::rename(dir_.path() / "new", path_);
    EXPECT_EQ(*get(cache, loader), "two");
    EXPECT_EQ(loader.loads, 2);
}

TEST_F(TrustedFileCacheTest, FileEditedInPlaceIsLoadedAgain) {
    auto cache = cache_ahead_by(kLater);
    Loader loader{file("one")};
    ASSERT_EQ(*get(cache, loader), "one");
    // Same inode, same size; a distinct mtime, as any later write within another clock tick.
    write_file(path_, "two");
    const timespec times[2] = {{0, UTIME_OMIT}, {1'000'000, 0}};
    ASSERT_EQ(::utimensat(AT_FDCWD, path_.c_str(), times, 0), 0);
    EXPECT_EQ(*get(cache, loader), "two");
    EXPECT_EQ(loader.loads, 2);
}

TEST_F(TrustedFileCacheTest, FreshFileIsLoadedEveryTime) {
    // Loaded within the settle time of its last change: a same-size rewrite in the same clock
    // tick would keep its version, so it is never handed out again.
    TrustedFileCache<std::string> cache;
    Loader loader{file("one")};
    EXPECT_EQ(*get(cache, loader), "one");
    EXPECT_EQ(*get(cache, loader), "one");
    EXPECT_EQ(loader.loads, 2);
}

TEST_F(TrustedFileCacheTest, FailedLoadIsNotKept) {
    auto cache = cache_ahead_by(kLater);
    file("one");
    const fs::path files[] = {path_};
    int attempts = 0;
    auto failing = [&]() -> std::string {
        ++attempts;
        throw std::runtime_error("bad key");
    };
    EXPECT_THROW(cache.get("key", files, failing), std::runtime_error);
    EXPECT_THROW(cache.get("key", files, failing), std::runtime_error);
    EXPECT_EQ(attempts, 2);
}

TEST_F(TrustedFileCacheTest, MissingFileIsNeverKept) {
    auto cache = cache_ahead_by(kLater);
    const fs::path files[] = {dir_.path() / "absent"};
    int loads = 0;
    auto load = [&] { return std::to_string(++loads); };
    EXPECT_EQ(*cache.get("key", files, load), "1");
    EXPECT_EQ(*cache.get("key", files, load), "2");
}

TEST_F(TrustedFileCacheTest, EveryFileOfAValueCounts) {
    auto cache = cache_ahead_by(kLater);
    Loader loader{file("one")};
    const fs::path other = dir_.path() / "key.pub";
    write_file(other, "key");
    const fs::path files[] = {path_, other};
    ASSERT_EQ(*cache.get("key", files, [&] { return loader(); }), "one");
    ASSERT_EQ(*cache.get("key", files, [&] { return loader(); }), "one");
    ASSERT_EQ(loader.loads, 1);
    write_file(dir_.path() / "new", "other key");
    fs::rename(dir_.path() / "new", other);
    EXPECT_EQ(*cache.get("key", files, [&] { return loader(); }), "one");
    EXPECT_EQ(loader.loads, 2);
}

}  // namespace
}  // namespace vmd
