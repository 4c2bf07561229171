#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include <random>

#include "common/error.hpp"
#include "mount/composefs.hpp"
#include "mount/sealed_memfd.hpp"
#include "mount_test_support.hpp"

namespace vmd::mount::test {
namespace {

using vmd::testing::read_file;
using vmd::testing::TempDir;

constexpr unsigned int kLoopMajor = 7;

class ErofsMount : public ::testing::Test {
  protected:
    void SetUp() override {
        tracked_roots().push_back(dir_.path());
        image_ = build_standard_layer(dir_.path() / "layer").image();
        blob_ = open_or_throw(image_, O_RDONLY);
    }

    // What every mounted standard layer must show: the image's own tree, not the objects.
    void expect_standard_tree(const fs::path& root) {
        EXPECT_EQ(read_file(root / "plain.txt"), "plain inline content\n");
        EXPECT_TRUE(fs::is_directory(root / "empty"));
        EXPECT_EQ(fs::read_symlink(root / "link"), "hello.txt");
        EXPECT_EQ(fs::file_size(root / "hello.txt"), standard_objects().at("hello.txt").size());
        std::array<char, 128> redirect{};
        auto n = ::getxattr((root / "sub" / "nested.txt").c_str(), "trusted.overlay.redirect",
                            redirect.data(), redirect.size());
        ASSERT_GT(n, 0);
        auto digest = verity::digest_bytes(
            {reinterpret_cast<const std::byte*>(standard_objects().at("sub/nested.txt").data()),
             standard_objects().at("sub/nested.txt").size()});
        auto hex = verity::to_hex(digest);
        EXPECT_EQ(std::string(redirect.data(), static_cast<std::size_t>(n)),
                  "/" + hex.substr(0, 2) + "/" + hex.substr(2));
    }

    static unsigned int device_major(const fs::path& path) {
        struct stat st {};
        EXPECT_EQ(::stat(path.c_str(), &st), 0);
        return major(st.st_dev);
    }

    TempDir dir_;
    fs::path image_;
    UniqueFd blob_;
    KernelFeatures kernel_ = probe_kernel_features(dir_.path());
};

TEST_F(ErofsMount, SealedCopyThroughLoopDevice) {
    auto copy = sealed_copy(blob_.get(), 1 << 20);
    EXPECT_EQ(copy.digest, verity::digest_fd(blob_.get()));
    auto mnt = mount_erofs(copy.memfd.get(), ErofsSourceKind::Loop, false, kernel_);
    AttachedMount attached(mnt.get(), dir_.path() / "mnt");
    expect_standard_tree(attached.path());
    EXPECT_EQ(device_major(attached.path()), kLoopMajor);
    EXPECT_EQ(::access(attached.path().c_str(), W_OK), -1);
    EXPECT_EQ(errno, EROFS);
}

TEST_F(ErofsMount, LoopDeviceOfAMemfdClearsWhenTheMountGoes) {
    auto copy = sealed_copy(blob_.get(), 1 << 20);
    int loop_number = -1;
    {
        auto mnt = mount_erofs(copy.memfd.get(), ErofsSourceKind::Loop, false, kernel_);
        struct stat st {};
        ASSERT_EQ(::fstat(mnt.get(), &st), 0);
        ASSERT_EQ(major(st.st_dev), kLoopMajor);
        loop_number = static_cast<int>(minor(st.st_dev));
        std::ifstream backing(fmt::format("/sys/block/loop{}/loop/backing_file", loop_number));
        std::string name;
        std::getline(backing, name);
        EXPECT_NE(name.find("memfd:verity-mountd-blob"), std::string::npos) << name;
    }
    std::ifstream backing(fmt::format("/sys/block/loop{}/loop/backing_file", loop_number));
    EXPECT_FALSE(backing.good()) << "loop" << loop_number << " still bound after the mount went";
}

TEST_F(ErofsMount, FileBackedStraightFromTheFd) {
    if (!kernel_.erofs_file_backed) {
        GTEST_SKIP() << "kernel " << kernel_.release << " has no file-backed EROFS (6.12)";
    }
    auto mnt = mount_erofs(blob_.get(), ErofsSourceKind::File, false, kernel_);
    AttachedMount attached(mnt.get(), dir_.path() / "mnt");
    expect_standard_tree(attached.path());
    EXPECT_NE(device_major(attached.path()), kLoopMajor) << "a loop device was used";
}

TEST_F(ErofsMount, FileWithoutFileBackedKernelGoesThroughLoop) {
    auto old_kernel = kernel_;
    old_kernel.erofs_file_backed = false;
    auto mnt = mount_erofs(blob_.get(), ErofsSourceKind::File, false, old_kernel);
    AttachedMount attached(mnt.get(), dir_.path() / "mnt");
    expect_standard_tree(attached.path());
    EXPECT_EQ(device_major(attached.path()), kLoopMajor);
}

TEST_F(ErofsMount, NoaclReachesTheSuperblock) {
    auto with_acl = mount_erofs(blob_.get(), ErofsSourceKind::File, false, kernel_);
    auto without_acl = mount_erofs(blob_.get(), ErofsSourceKind::File, true, kernel_);
    AttachedMount a(with_acl.get(), dir_.path() / "acl");
    AttachedMount b(without_acl.get(), dir_.path() / "noacl");
    EXPECT_NE(super_options(b.path()).find("noacl"), std::string::npos) << super_options(b.path());
    EXPECT_EQ(super_options(a.path()).find("noacl"), std::string::npos) << super_options(a.path());
    EXPECT_NE(super_options(a.path()).find("ro"), std::string::npos);
}

TEST_F(ErofsMount, MemfdIsRefusedAsAFileSource) {
    if (!kernel_.erofs_file_backed) {
        GTEST_SKIP() << "kernel " << kernel_.release << " has no file-backed EROFS (6.12)";
    }
    auto copy = sealed_copy(blob_.get(), 1 << 20);
    try {
        mount_erofs(copy.memfd.get(), ErofsSourceKind::File, false, kernel_);
        FAIL() << "EROFS mounted a memfd directly; DESIGN §7 says it refuses (ENOTBLK)";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), Errc::MountFailed);
        EXPECT_NE(e.message().find("Block device required"), std::string::npos) << e.message();
    }
}

TEST_F(ErofsMount, GarbageBlobIsMountFailedWithTheKernelsAnswer) {
    std::mt19937 gen(7);
    std::string garbage(16384, '\0');
    for (auto& c : garbage) {
        c = static_cast<char>(gen());
    }
    vmd::testing::write_file(dir_.path() / "garbage", garbage);
    auto fd = open_or_throw(dir_.path() / "garbage", O_RDONLY);
    for (auto kind : {ErofsSourceKind::File, ErofsSourceKind::Loop}) {
        try {
            mount_erofs(fd.get(), kind, false, kernel_);
            FAIL() << "random bytes mounted as EROFS";
        } catch (const Error& e) {
            EXPECT_EQ(e.code(), Errc::MountFailed);
            EXPECT_NE(e.message().find("erofs create"), std::string::npos) << e.message();
            EXPECT_NE(e.message().find("Invalid argument"), std::string::npos) << e.message();
            EXPECT_NE(e.message().find("kernel:"), std::string::npos) << e.message();
        }
    }
}

}  // namespace
}  // namespace vmd::mount::test
