// The bounded whole-file reader every module uses: stale sizes, growth past the bound, file
// types, missing files.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "common/file_read.hpp"
#include "common/unique_fd.hpp"
#include "fixtures/test_env.hpp"

namespace vmd {
namespace {

namespace fs = std::filesystem;

void expect_error(auto&& call, Errc code, std::string_view message) {
    try {
        call();
        ADD_FAILURE() << "no error; expected " << message;
    } catch (const Error& error) {
        EXPECT_EQ(error.code(), code) << error.message();
        EXPECT_EQ(error.message(), message);
    }
}

// A pipe stands in for a file whose fstat size is stale: the reader must trust what it reads.
class ReadBounded : public ::testing::Test {
  protected:
    void SetUp() override {
        int fds[2];
        ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
        read_end.reset(fds[0]);
        write_end.reset(fds[1]);
    }
    void feed(std::size_t bytes) {
        std::string data(bytes, 'g');
        ASSERT_EQ(::write(write_end.get(), data.data(), data.size()),
                  static_cast<ssize_t>(data.size()));
        write_end.reset();
    }

    UniqueFd read_end;
    UniqueFd write_end;
};

TEST_F(ReadBounded, ReadsPastAStaleSizeUpToTheLimit) {
    feed(5000);
    auto bytes = read_bounded(read_end.get(), 0, {"pipe", 5000, Errc::StorageCorrupt, 64});
    EXPECT_EQ(bytes, std::string(5000, 'g'));
    EXPECT_GE(bytes.capacity(), bytes.size() + 64);
}

TEST_F(ReadBounded, RefusesAFileThatGrowsPastTheLimit) {
    feed(5001);
    expect_error(
        [&] {
            read_bounded(read_end.get(), 10, {"pipe", 5000, Errc::PolicyInvalid});
        },
        Errc::PolicyInvalid,
        "pipe: expected at most 5000 bytes, found more (it grew while being read)");
}

TEST_F(ReadBounded, RefusesByStatSizeBeforeReading) {
    feed(1);
    expect_error(
        [&] {
            read_bounded(read_end.get(), 5001, {"pipe", 5000, Errc::StorageCorrupt});
        },
        Errc::StorageCorrupt, "pipe: expected at most 5000 bytes, found 5001");
    char byte = 0;
    EXPECT_EQ(::read(read_end.get(), &byte, 1), 1);  // nothing was consumed
}

class ReadRegularFile : public ::testing::Test {
  protected:
    ReadBound bound(std::uint64_t max_bytes = 100) const {
        return {"config x", max_bytes, Errc::InvalidArgument};
    }
    testing::TempDir dir_;
};

TEST_F(ReadRegularFile, ReadsTheWholeFileUpToTheBound) {
    testing::write_file(dir_.path() / "f", std::string(100, 'c'));
    EXPECT_EQ(read_regular_file(dir_.path() / "f", bound()), std::string(100, 'c'));
    expect_error([&] { read_regular_file(dir_.path() / "f", bound(99)); }, Errc::InvalidArgument,
                 "config x: expected at most 99 bytes, found 100");
}

TEST_F(ReadRegularFile, EmptyFileIsEmptyNotMissing) {
    testing::write_file(dir_.path() / "f", "");
    EXPECT_EQ(read_regular_file(dir_.path() / "f", bound(), true), std::string());
}

TEST_F(ReadRegularFile, MissingIsNulloptOnlyWhenAllowed) {
    EXPECT_EQ(read_regular_file(dir_.path() / "absent", bound(), true), std::nullopt);
    expect_error([&] { read_regular_file(dir_.path() / "absent", bound()); }, Errc::InvalidArgument,
                 "config x: open: No such file or directory");
}

TEST_F(ReadRegularFile, OtherFileTypesAreRefusedWithoutBlocking) {
    ASSERT_EQ(::mkfifo((dir_.path() / "fifo").c_str(), 0600), 0);
    expect_error([&] { read_regular_file(dir_.path() / "fifo", bound()); }, Errc::InvalidArgument,
                 "config x: expected a regular file, found a FIFO");
    expect_error([&] { read_regular_file(dir_.path(), bound(), true); }, Errc::InvalidArgument,
                 "config x: expected a regular file, found a directory");
    expect_error([&] { read_regular_file("/dev/null", bound()); }, Errc::InvalidArgument,
                 "config x: expected a regular file, found a character device");
}

TEST_F(ReadRegularFile, FollowsSymlinksForTrustedPaths) {
    testing::write_file(dir_.path() / "target", "data");
    fs::create_symlink("target", dir_.path() / "link");
    EXPECT_EQ(read_regular_file(dir_.path() / "link", bound()), "data");
}

}  // namespace
}  // namespace vmd
