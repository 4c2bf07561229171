#include "mount/kernel_features.hpp"

#include <gtest/gtest.h>

#include <cstdio>

#include "mount_test_support.hpp"

namespace vmd::mount::test {
namespace {

using vmd::testing::TempDir;

// (major, minor) of a release string like "6.18.44-foo".
std::pair<int, int> version_of(const std::string& release) {
    int major = 0;
    int minor = 0;
    std::sscanf(release.c_str(), "%d.%d", &major, &minor);
    return {major, minor};
}

bool at_least(const std::string& release, int major, int minor) {
    return version_of(release) >= std::make_pair(major, minor);
}

TEST(ProbeKernelFeatures, MatchesThisKernel) {
    TempDir dir;
    auto features = probe_kernel_features(dir.path());
    EXPECT_FALSE(features.release.empty());
    const auto& release = features.release;
    std::printf(
        "kernel %s: fs_verity=%d overlay_verity=%d lowerdir_plus=%d erofs_file=%d "
        "by_fd=%d by_opath_fd=%d detached=%d\n",
        release.c_str(), features.fs_verity, features.overlay_verity,
        features.overlay_lowerdir_plus, features.erofs_file_backed, features.layers_by_fd,
        features.layers_by_opath_fd, features.detached_layers);
    // Mainline kernels have each feature from its release on (DESIGN §6 "Kernel floor").
    if (at_least(release, 6, 6)) {
        EXPECT_TRUE(features.overlay_verity);
    }
    if (at_least(release, 6, 8)) {
        EXPECT_TRUE(features.overlay_lowerdir_plus);
    }
    if (at_least(release, 6, 12)) {
        EXPECT_TRUE(features.erofs_file_backed);
    }
    if (at_least(release, 6, 13)) {
        EXPECT_TRUE(features.layers_by_fd);
    }
    if (at_least(release, 6, 15)) {
        EXPECT_TRUE(features.layers_by_opath_fd);
        EXPECT_TRUE(features.detached_layers);
    }
    // Features imply their predecessors.
    EXPECT_TRUE(!features.layers_by_opath_fd || features.layers_by_fd);
    EXPECT_TRUE(!features.layers_by_fd || features.overlay_lowerdir_plus);
}

TEST(ProbeKernelFeatures, FsVerityAgreesWithTheFsverityTool) {
    ASSERT_TRUE(vmd::testing::have_program("fsverity"))
        << vmd::testing::missing_program("fsverity", "fsverity");
    TempDir dir;
    vmd::testing::write_file(dir.path() / "f", "data");
    bool tool_can_enable =
        vmd::testing::run({"fsverity", "enable", (dir.path() / "f").string()}).exit_code == 0;
    EXPECT_EQ(probe_kernel_features(dir.path()).fs_verity, tool_can_enable);
}

TEST(ProbeKernelFeatures, LeavesNothingBehind) {
    TempDir dir;
    auto fds_before = count_open_fds();
    probe_kernel_features(dir.path());
    EXPECT_EQ(count_open_fds(), fds_before);
    EXPECT_TRUE(fs::is_empty(dir.path())) << "a probe file stayed in the probe dir";
    // Probes never attach anything (a concurrent test elsewhere could, so only ours count).
    EXPECT_TRUE(mounts_below({dir.path()}).empty());
}

TEST(ProbeKernelFeatures, MissingStoreRootOnlyLosesTheStoreFilesystemProbes) {
    TempDir dir;
    auto features = probe_kernel_features(dir.path() / "does-not-exist");
    EXPECT_FALSE(features.fs_verity);
    auto reference = probe_kernel_features(dir.path());
    // File-backed EROFS is probed in /tmp first, so a missing store root does not hide it.
    EXPECT_EQ(features.erofs_file_backed, reference.erofs_file_backed);
    EXPECT_EQ(features.overlay_verity, reference.overlay_verity);
    EXPECT_EQ(features.overlay_lowerdir_plus, reference.overlay_lowerdir_plus);
    EXPECT_EQ(features.detached_layers, reference.detached_layers);
}

}  // namespace
}  // namespace vmd::mount::test
