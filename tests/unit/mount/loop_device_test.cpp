#include "mount/loop_device.hpp"

#include "common/error.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/fs.h>
#include <linux/loop.h>
#include <sys/ioctl.h>
#include <sys/sysmacros.h>

#include "mount_test_support.hpp"

namespace vmd::mount::test {
namespace {

using vmd::testing::TempDir;

// The backing file the kernel reports for /dev/loopN; empty once the device is cleared.
std::string backing_file(int number) {
    std::ifstream in(fmt::format("/sys/block/loop{}/loop/backing_file", number));
    std::string line;
    std::getline(in, line);
    return line;
}

TEST(LoopDevice, BindsReadOnlyAndClearsItselfWhenClosed) {
    TempDir dir;
    tracked_roots().push_back(dir.path());
    auto blob = dir.path() / "blob";
    vmd::testing::write_file(blob, std::string(8192, 'b'));
    auto file = open_or_throw(blob, O_RDONLY);

    int number = -1;
    {
        auto loop = LoopDevice::attach(file.get());
        number = loop.number();
        EXPECT_EQ(backing_file(number), blob.string());
        int read_only = 0;
        ASSERT_EQ(::ioctl(loop.fd(), BLKROGET, &read_only), 0);
        EXPECT_EQ(read_only, 1);
        loop_info64 info{};
        ASSERT_EQ(::ioctl(loop.fd(), LOOP_GET_STATUS64, &info), 0);
        EXPECT_NE(info.lo_flags & LO_FLAGS_AUTOCLEAR, 0U);
        EXPECT_NE(info.lo_flags & LO_FLAGS_READ_ONLY, 0U);
        std::uint64_t size = 0;
        ASSERT_EQ(::ioctl(loop.fd(), BLKGETSIZE64, &size), 0);
        EXPECT_EQ(size, 8192U);
    }
    // Another process may take the freed device at once: only our file must be gone from it.
    EXPECT_NE(backing_file(number), blob.string())
        << "autoclear left /dev/loop" << number << " bound";
}

TEST(LoopDevice, ConcurrentDevicesAreDistinct) {
    TempDir dir;
    tracked_roots().push_back(dir.path());
    vmd::testing::write_file(dir.path() / "blob", std::string(4096, 'b'));
    auto file = open_or_throw(dir.path() / "blob", O_RDONLY);
    auto first = LoopDevice::attach(file.get());
    auto second = LoopDevice::attach(file.get());
    EXPECT_NE(first.number(), second.number());
}

TEST(LoopDevice, BadBackingFdIsMountFailed) {
    try {
        LoopDevice::attach(-1);
        FAIL() << "a loop device was bound to fd -1";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), Errc::MountFailed);
        EXPECT_NE(e.message().find("LOOP_CONFIGURE"), std::string::npos) << e.message();
    }
}

}  // namespace
}  // namespace vmd::mount::test
