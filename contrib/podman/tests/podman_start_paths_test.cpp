// Every way podman starts a container asks verity-mountd again (DESIGN §10 "At every start"):
// podman restart, podman init before podman start, and a restart by the container's restart
// policy (conmon's exit command, `podman container cleanup`, restarts it). Each is refused with
// nothing mounted once the store was tampered with.
#include <gtest/gtest.h>

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "podman_test.hpp"

namespace vmd::testing {
namespace {

TEST_F(PodmanTest, RestartVerifiesAgainAndIsRefusedAfterTampering) {
    auto before = env().requests();
    auto started =
        env().podman(concat(concat({"run", "--detach", "--name", "again"}, verified_levels()),
                            {env().image(), "sleep", "1000000"}));
    ASSERT_EQ(started.exit_code, 0) << started.err;
    auto restarted = env().podman({"restart", "--time", "0", "again"});
    ASSERT_EQ(restarted.exit_code, 0) << restarted.err;
    EXPECT_EQ(env().requests(), before + 2);
    EXPECT_NE(root_line("again").find(kDaemonOverlay), std::string::npos);
    auto mount_point = verified_mount_point("again");
    EXPECT_EQ(PodmanEnv::mounts_at_or_below(mount_point), std::vector<fs::path>{mount_point});

    ASSERT_EQ(tamper("flip-blob-byte").exit_code, 0);
    auto refused = env().podman({"restart", "--time", "0", "again"});
    EXPECT_EQ(refused.exit_code, 125);
    EXPECT_NE(refused.err.find("verified rootfs for container " + full_id("again") +
                               ": io.containers.VerityMount1.Error.VerityMismatch: "),
              std::string::npos)
        << refused.err;
    EXPECT_EQ(env().requests(), before + 3);
    EXPECT_EQ(inspect("again", "{{.State.Status}}"), "exited");
    EXPECT_EQ(stray_mounts(), std::vector<fs::path>{});
}

TEST_F(PodmanTest, InitVerifiesAndStartRunsOnTheMountInitMade) {
    auto created = env().podman(concat(concat({"create", "--name", "early"}, verified_levels()),
                                       {env().image(), "sh", "-c", std::string(kRootLine)}));
    ASSERT_EQ(created.exit_code, 0) << created.err;
    auto before = env().requests();
    auto initialized = env().podman({"init", "early"});
    ASSERT_EQ(initialized.exit_code, 0) << initialized.err;
    EXPECT_EQ(env().requests(), before + 1);
    auto mount_point = verified_mount_point("early");
    EXPECT_EQ(PodmanEnv::mounts_at_or_below(mount_point), std::vector<fs::path>{mount_point});

    // The OCI runtime created the container on that mount at init: start runs it there and has
    // nothing to ask (a new mount could not become the root of the created container).
    auto started = env().podman({"start", "--attach", "early"});
    ASSERT_EQ(started.exit_code, 0) << started.err;
    EXPECT_NE(started.out.find(kDaemonOverlay), std::string::npos) << started.out;
    EXPECT_EQ(env().requests(), before + 1);
    EXPECT_EQ(PodmanEnv::wait_for_no_mounts_below(mount_point), std::vector<fs::path>{});

    auto late = env().podman(
        concat(concat({"create", "--name", "late"}, verified_levels()), {env().image(), "true"}));
    ASSERT_EQ(late.exit_code, 0) << late.err;
    ASSERT_EQ(tamper("flip-blob-byte").exit_code, 0);
    auto refused = env().podman({"init", "late"});
    EXPECT_EQ(refused.exit_code, 125);
    EXPECT_NE(refused.err.find("io.containers.VerityMount1.Error.VerityMismatch: "),
              std::string::npos)
        << refused.err;
    EXPECT_EQ(env().requests(), before + 2);
    EXPECT_EQ(stray_mounts(), std::vector<fs::path>{});
}

struct RestartPolicy {
    std::string policy;  // --restart
    int exit_code;       // the container's command exits with it
};

// The name CTest shows beside each case.
void PrintTo(const RestartPolicy& policy, std::ostream* out) {
    *out << policy.policy;
}

class PodmanRestartPolicyTest : public PodmanTest,
                                public ::testing::WithParamInterface<RestartPolicy> {
  protected:
    // The container's command waits on a FIFO in its own layer and exits when a line comes:
    // `release()` opens the FIFO's other end, which blocks until the command reads it.
    std::string command() const {
        return "test -p /release || busybox mkfifo /release; read line < /release; exit " +
               std::to_string(GetParam().exit_code);
    }
    void release(const std::string& container) {
        // Its exit status is not checked: the container may exit, taking this exec with it,
        // before the exec reports; what the test checks is the restart that follows.
        env().podman({"exec", container, "sh", "-c", "echo > /release"});
    }
    std::string restarts_and_status(const std::string& container) {
        return inspect(container, "{{.RestartCount}} {{.State.Status}}");
    }
};

TEST_P(PodmanRestartPolicyTest, RestartByPolicyVerifiesAgainAndIsRefusedAfterTampering) {
    auto before = env().requests();
    auto started = env().podman(
        concat(concat({"run", "--detach", "--name", "policy", "--restart", GetParam().policy},
                      verified_levels()),
               {env().image(), "sh", "-c", command()}));
    ASSERT_EQ(started.exit_code, 0) << started.err;
    EXPECT_EQ(env().requests(), before + 1);

    release("policy");
    ASSERT_TRUE(PodmanEnv::eventually([&] { return restarts_and_status("policy") == "1 running"; }))
        << restarts_and_status("policy");
    EXPECT_EQ(env().requests(), before + 2);
    EXPECT_NE(root_line("policy").find(kDaemonOverlay), std::string::npos);

    ASSERT_EQ(tamper("flip-blob-byte").exit_code, 0);
    auto refusals = env().refusals();
    release("policy");
    // podman container cleanup counts the restart, asks the daemon, is refused, and cleans up.
    ASSERT_TRUE(PodmanEnv::eventually([&] {
        return restarts_and_status("policy") == "2 exited" && stray_mounts().empty();
    })) << restarts_and_status("policy");
    EXPECT_EQ(env().refusals(), refusals + 1);
    EXPECT_EQ(env().requests(), before + 3);
}

INSTANTIATE_TEST_SUITE_P(Policies, PodmanRestartPolicyTest,
                         ::testing::Values(RestartPolicy{"on-failure", 3},
                                           RestartPolicy{"always", 0}),
                         [](const auto& test) {
                             return test.param.policy == "always" ? std::string("Always")
                                                                  : std::string("OnFailure");
                         });

}  // namespace
}  // namespace vmd::testing
