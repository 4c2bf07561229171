// Pods with the containers.conf keys on (contrib/podman/README.md "Pods"): a pod's default infra
// container runs on the root file system podman makes for it — an empty directory on /run with
// the host's catatonit bind-mounted — which holds nothing from the store, so it needs no request
// to the daemon; every container of the pod made from an image is verified at each start.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "podman_test.hpp"

namespace vmd::testing {
namespace {

TEST_F(PodmanTest, PodStartsItsInfraContainerWithoutTheDaemonAndVerifiesItsContainers) {
    env().write_dropin(kGlobalLevels);
    auto created = env().podman({"pod", "create", "--name", "pod"});
    ASSERT_EQ(created.exit_code, 0) << created.err;
    auto infra = env().podman({"pod", "inspect", "--format", "{{.InfraContainerID}}", "pod"});
    ASSERT_EQ(infra.exit_code, 0) << infra.err;
    auto infra_id = infra.out.substr(0, infra.out.find('\n'));

    auto before = env().requests();
    auto ran = env().podman(
        {"run", "--rm", "--pod", "pod", env().image(), "sh", "-c", std::string(kRootLine)});
    ASSERT_EQ(ran.exit_code, 0) << ran.err;
    EXPECT_NE(ran.out.find(kDaemonOverlay), std::string::npos) << ran.out;
    // The pod's infra container started first, without a request; the container asked once.
    EXPECT_EQ(inspect(infra_id, "{{.State.Status}}"), "running");
    EXPECT_EQ(env().requests(), before + 1);

    ASSERT_EQ(tamper("flip-blob-byte").exit_code, 0);
    auto refused = env().podman({"run", "--rm", "--pod", "pod", env().image(), "true"});
    EXPECT_EQ(refused.exit_code, 125);
    EXPECT_NE(refused.err.find("io.containers.VerityMount1.Error.VerityMismatch: "),
              std::string::npos)
        << refused.err;
    EXPECT_EQ(env().requests(), before + 2);

    auto removed = env().podman({"pod", "rm", "--force", "--time", "0", "pod"});
    ASSERT_EQ(removed.exit_code, 0) << removed.err;
    EXPECT_EQ(stray_mounts(), std::vector<fs::path>{});
}

}  // namespace
}  // namespace vmd::testing
