#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <random>

#include "common/error.hpp"
#include "mount/sealed_memfd.hpp"
#include "mount_test_support.hpp"

namespace vmd::mount::test {
namespace {

using vmd::testing::TempDir;

std::string random_bytes(std::size_t size, unsigned seed) {
    std::mt19937 gen(seed);
    std::string out(size, '\0');
    for (auto& c : out) {
        c = static_cast<char>(gen());
    }
    return out;
}

std::string read_all(int fd) {
    std::string out;
    std::array<char, 8192> buffer{};
    off_t offset = 0;
    for (;;) {
        ssize_t n = ::pread(fd, buffer.data(), buffer.size(), offset);
        if (n <= 0) {
            return out;
        }
        out.append(buffer.data(), static_cast<std::size_t>(n));
        offset += n;
    }
}

verity::Sha256 digest_of(const std::string& bytes) {
    return verity::digest_bytes({reinterpret_cast<const std::byte*>(bytes.data()), bytes.size()});
}

// Sources on the disk filesystem of /tmp and in a memfd, so copy_file_range, sendfile and the
// read/write fallback all get their turn.
enum class SourceKind { DiskFile, Memfd };

class SealedCopyTest : public ::testing::TestWithParam<std::tuple<SourceKind, std::size_t>> {
  protected:
    UniqueFd make_source(const std::string& content) {
        if (std::get<0>(GetParam()) == SourceKind::Memfd) {
            UniqueFd fd(::memfd_create("source", MFD_CLOEXEC));
            EXPECT_EQ(::write(fd.get(), content.data(), content.size()),
                      static_cast<ssize_t>(content.size()));
            return fd;
        }
        auto path = dir_.path() / "blob";
        vmd::testing::write_file(path, content);
        return open_or_throw(path, O_RDONLY);
    }

    TempDir dir_;
};

TEST_P(SealedCopyTest, CopiesEveryByteAndDigestsTheCopy) {
    auto size = std::get<1>(GetParam());
    auto content = random_bytes(size, static_cast<unsigned>(size));
    auto source = make_source(content);
    // The source's own offset must not matter.
    ASSERT_GE(::lseek(source.get(), static_cast<off_t>(size / 2), SEEK_SET), 0);

    auto copy = sealed_copy(source.get(), size);

    EXPECT_EQ(read_all(copy.memfd.get()), content);
    EXPECT_EQ(copy.digest, digest_of(content));
    EXPECT_EQ(copy.digest, verity::digest_fd(source.get()));
}

INSTANTIATE_TEST_SUITE_P(
    Sizes, SealedCopyTest,
    ::testing::Combine(::testing::Values(SourceKind::DiskFile, SourceKind::Memfd),
                       ::testing::Values(0, 1, 4096, 4097, 3 << 20)),
    [](const auto& param_info) {
        auto kind = std::get<0>(param_info.param) == SourceKind::Memfd ? "Memfd" : "DiskFile";
        return fmt::format("{}_{}", kind, std::get<1>(param_info.param));
    });

TEST(SealedCopy, MemfdIsSealedAgainstEveryChange) {
    TempDir dir;
    vmd::testing::write_file(dir.path() / "blob", "sealed bytes");
    auto source = open_or_throw(dir.path() / "blob", O_RDONLY);
    auto copy = sealed_copy(source.get(), 1024);
    int fd = copy.memfd.get();

    EXPECT_EQ(::fcntl(fd, F_GET_SEALS), F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL);
    errno = 0;
    EXPECT_EQ(::pwrite(fd, "X", 1, 0), -1);
    EXPECT_EQ(errno, EPERM);
    EXPECT_NE(::ftruncate(fd, 1), 0);
    EXPECT_NE(::ftruncate(fd, 4096), 0);
    EXPECT_NE(::fcntl(fd, F_ADD_SEALS, F_SEAL_FUTURE_WRITE), 0);
    EXPECT_EQ(::mmap(nullptr, 4096, PROT_WRITE, MAP_SHARED, fd, 0), MAP_FAILED);
    // Reopening through /proc for writing gives no way around the seals either.
    UniqueFd reopened(::open(fmt::format("/proc/self/fd/{}", fd).c_str(), O_WRONLY | O_CLOEXEC));
    ASSERT_TRUE(reopened);
    EXPECT_EQ(::write(reopened.get(), "X", 1), -1);
    EXPECT_EQ(read_all(fd), "sealed bytes");
}

TEST(SealedCopy, OversizedSourceIsRefusedNamingBothSizes) {
    TempDir dir;
    vmd::testing::write_file(dir.path() / "blob", std::string(5000, 'x'));
    auto source = open_or_throw(dir.path() / "blob", O_RDONLY);
    try {
        sealed_copy(source.get(), 4096);
        FAIL() << "a 5000-byte blob passed a 4096-byte bound";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), Errc::StorageCorrupt);
        EXPECT_NE(e.message().find("4096"), std::string::npos) << e.message();
        EXPECT_NE(e.message().find("5000"), std::string::npos) << e.message();
    }
}

TEST(SealedCopy, ExactlyTheBoundIsAccepted) {
    TempDir dir;
    vmd::testing::write_file(dir.path() / "blob", std::string(4096, 'x'));
    auto source = open_or_throw(dir.path() / "blob", O_RDONLY);
    EXPECT_EQ(sealed_copy(source.get(), 4096).digest, digest_of(std::string(4096, 'x')));
}

TEST(SealedCopy, NonRegularSourcesAreRefused) {
    TempDir dir;
    auto directory = open_or_throw(dir.path(), O_RDONLY | O_DIRECTORY);
    std::array<int, 2> pipe_fds{};
    ASSERT_EQ(::pipe2(pipe_fds.data(), O_CLOEXEC), 0);
    UniqueFd read_end(pipe_fds[0]), write_end(pipe_fds[1]);

    for (int fd : {directory.get(), read_end.get(), -1}) {
        try {
            sealed_copy(fd, 4096);
            FAIL() << "fd " << fd << " was copied";
        } catch (const Error& e) {
            EXPECT_EQ(e.code(), Errc::StorageCorrupt) << e.message();
        }
    }
}

}  // namespace
}  // namespace vmd::mount::test
