#include "verity/measure.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>

#include "common/error.hpp"
#include "common/unique_fd.hpp"
#include "fixtures/test_env.hpp"

namespace vmd::verity {
namespace {

using vmd::testing::run;
using vmd::testing::TempDir;

Errc measure_error(int fd) {
    try {
        measure_verity(fd);
    } catch (const Error& e) {
        return e.code();
    }
    ADD_FAILURE() << "measure_verity returned a digest";
    return Errc::Internal;
}

TEST(MeasureVerity, FilesystemWithoutFsVerityIsKernelUnsupported) {
    // tmpfs (a memfd) never implements FS_IOC_MEASURE_VERITY: ENOTTY.
    UniqueFd memfd(::memfd_create("measure", MFD_CLOEXEC));
    ASSERT_TRUE(memfd);
    try {
        measure_verity(memfd.get());
        FAIL() << "a memfd was measured";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), Errc::KernelUnsupported);
        EXPECT_NE(e.message().find("FS_IOC_MEASURE_VERITY"), std::string::npos) << e.message();
        EXPECT_NE(e.message().find("fs-verity"), std::string::npos) << e.message();
    }
}

TEST(MeasureVerity, DiskFileWithoutVerityIsTyped) {
    TempDir dir;
    vmd::testing::write_file(dir.path() / "plain", "no verity here");
    UniqueFd fd(::open((dir.path() / "plain").c_str(), O_RDONLY | O_CLOEXEC));
    ASSERT_TRUE(fd);
    // ENODATA where the filesystem has fs-verity, EOPNOTSUPP/ENOTTY where it has not.
    auto code = measure_error(fd.get());
    bool tool_works = run({"fsverity", "enable", (dir.path() / "plain").string()}).exit_code == 0;
    if (tool_works) {
        EXPECT_EQ(code, Errc::VerityMissing);
    } else {
        EXPECT_EQ(code, Errc::KernelUnsupported) << "no fs-verity here, so not VerityMissing";
    }
}

TEST(MeasureVerity, ClosedFdIsABugNotARefusal) {
    EXPECT_EQ(measure_error(-1), Errc::Internal);
}

TEST(MeasureVerity, EnabledFileMatchesTheUserSpaceDigest) {
    TempDir dir;
    auto path = dir.path() / "data";
    vmd::testing::write_file(path, std::string(3 * 4096 + 17, 'v'));
    auto enable = run({"fsverity", "enable", path.string()});
    if (enable.exit_code != 0) {
        GTEST_SKIP() << "no fs-verity on " << dir.path() << " (fsverity enable: " << enable.err
                     << "); the VM tests cover the measured digest";
    }
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    ASSERT_TRUE(fd);
    EXPECT_EQ(measure_verity(fd.get()), digest_fd(fd.get()));
}

}  // namespace
}  // namespace vmd::verity
