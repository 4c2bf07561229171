// Debian's unpatched podman on a rootfs that verity-mountctl mounted and attached (DESIGN §10
// "Stock podman"): the mount belongs to whoever attached it, podman only runs the container.
#include <gtest/gtest.h>
#include <unistd.h>

#include "fixtures/sample_images.hpp"
#include "podman_env.hpp"

namespace vmd::testing {
namespace {

TEST(PodmanStockTest, DebianPodmanRunsOnARootfsMountedByVerityMountctl) {
    if (::geteuid() != 0) {
        GTEST_SKIP() << "podman end-to-end tests run as root (they mount and run containers)";
    }
    // Debian's podman, runc and conmon are installed by scripts/install-deps.sh: this test needs
    // no patched podman, so it runs wherever the test command does.
    auto missing = missing_podman_runtime();
    ASSERT_EQ(missing, "");
    PodmanEnv env({{"stock", 0}});
    MountPoint rootfs(env.daemon_env().dir() / "rootfs");
    auto before = env.requests();
    auto mounted = env.daemon_env().ctl({"mount", env.image(), "stock", "--target", rootfs.str(),
                                         "--signature", "require", "--verity", "digest"});
    ASSERT_EQ(mounted.exit_code, 0) << mounted.err;
    EXPECT_EQ(env.requests(), before + 1);

    auto ran = env.podman_binary(stock_podman(), {"run", "--rm", "--rootfs", rootfs.str(), "sh",
                                                  "-c", "cat /etc/os-release; touch /stock"});
    ASSERT_EQ(ran.exit_code, 0) << ran.err;
    EXPECT_EQ(ran.out, kOsRelease);
    // The container wrote into the fixture container's layer, through the verified overlay.
    const auto& container = env.store().containers.at(0);
    EXPECT_TRUE(std::filesystem::exists(env.store().paths.store / "overlay" / container.layer_id /
                                        "diff" / "stock"));
}

}  // namespace
}  // namespace vmd::testing
