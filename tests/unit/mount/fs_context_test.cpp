#include "mount/fs_context.hpp"

#include <gtest/gtest.h>
#include <linux/magic.h>
#include <sys/mount.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>

#include "mount_test_support.hpp"

namespace vmd::mount::test {
namespace {

using vmd::testing::TempDir;

TEST(FsContext, UnknownFilesystemIsKernelUnsupported) {
    try {
        FsContext ctx("verity-mountd-nofs");
        FAIL() << "fsopen of an unknown filesystem succeeded";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), Errc::KernelUnsupported);
        EXPECT_NE(e.message().find("verity-mountd-nofs"), std::string::npos) << e.message();
    }
}

TEST(FsContext, RefusalCarriesTheKernelsOwnMessage) {
    FsContext ctx("overlay");
    try {
        ctx.set_string("redirect_dir", "sideways");
        FAIL() << "a bad redirect_dir value was accepted";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), Errc::MountFailed);
        // "e overlay: Bad value for 'redirect_dir'" comes from the kernel, read off the fd.
        EXPECT_NE(e.message().find("e overlay: Bad value for 'redirect_dir'"), std::string::npos)
            << e.message();
        EXPECT_NE(e.message().find("Invalid argument"), std::string::npos) << e.message();
    }
    EXPECT_EQ(ctx.take_messages(), "") << "the message was consumed by the error";
}

TEST(FsContext, NotADirectoryLayerNamesThePath) {
    TempDir dir;
    vmd::testing::write_file(dir.path() / "file", "x");
    FsContext ctx("overlay");
    auto path = (dir.path() / "file").string();
    try {
        ctx.set_string("lowerdir+", path);
        FAIL() << "a regular file was accepted as a layer";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), Errc::MountFailed);
        EXPECT_NE(e.message().find(path + " is not a directory"), std::string::npos) << e.message();
    }
}

TEST(FsContext, OverlongStringIsRefusedBeforeTheKernel) {
    FsContext ctx("overlay");
    try {
        ctx.set_string("lowerdir", std::string(300, 'a'));
        FAIL() << "a 300-byte value was passed on";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), Errc::MountFailed);
        EXPECT_NE(e.message().find("at most 255 bytes"), std::string::npos) << e.message();
        EXPECT_NE(e.message().find("found 300"), std::string::npos) << e.message();
    }
    EXPECT_EQ(ctx.try_set_string("lowerdir", std::string(300, 'a')), EINVAL);
}

TEST(FsContext, TryVariantsReportErrnoAndKeepMessages) {
    FsContext ctx("overlay");
    EXPECT_EQ(ctx.try_set_string("no_such_option", "1"), EINVAL);
    EXPECT_EQ(ctx.take_messages(), "e overlay: Unknown parameter 'no_such_option'");
    EXPECT_EQ(ctx.take_messages(), "") << "taking the messages drains them";
    EXPECT_EQ(ctx.try_set_string("metacopy", "on"), 0);
    EXPECT_EQ(ctx.try_set_flag("ro"), 0);
    EXPECT_EQ(ctx.try_create(), EINVAL) << "an overlay without layers cannot be created";
}

TEST(FsContext, CreatesAndMountsADetachedFilesystem) {
    FsContext ctx("tmpfs");
    ctx.set_string("size", "1m");
    ctx.create();
    auto mnt = ctx.mount(MOUNT_ATTR_RDONLY | MOUNT_ATTR_NODEV);
    ASSERT_TRUE(mnt);
    struct statfs st {};
    ASSERT_EQ(::fstatfs(mnt.get(), &st), 0);
    EXPECT_EQ(st.f_type, TMPFS_MAGIC);
    EXPECT_NE(st.f_flags & ST_RDONLY, 0U);
    EXPECT_NE(st.f_flags & ST_NODEV, 0U);
}

TEST(FsContext, ProcFdPath) {
    EXPECT_EQ(proc_fd_path(17), "/proc/self/fd/17");
}

}  // namespace
}  // namespace vmd::mount::test
