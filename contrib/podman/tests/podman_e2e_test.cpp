// The patched podman against the real daemon on a private bus: every start of a container whose
// levels are set asks verity-mountd, runs on the overlay it returns, and is refused — with the
// daemon's words and nothing mounted — when the store was tampered with (DESIGN §10).
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "fixtures/process_probe.hpp"
#include "fixtures/sample_images.hpp"
#include "fixtures/store_files.hpp"
#include "podman_test.hpp"

namespace vmd::testing {
namespace {

TEST_F(PodmanTest, RunPrintsTheSignedFileFromTheDaemonsOverlayWithOneRequest) {
    auto before = env().requests();
    auto result = env().podman(
        concat(concat({"run", "--rm"}, verified_levels()),
               {env().image(), "sh", "-c", "cat /etc/os-release; " + std::string(kRootLine)}));
    ASSERT_EQ(result.exit_code, 0) << result.err;
    EXPECT_EQ(result.out.find(kOsRelease), 0u) << result.out;
    EXPECT_NE(result.out.find(kDaemonOverlay), std::string::npos) << result.out;
    EXPECT_EQ(env().requests(), before + 1);
    EXPECT_EQ(stray_mounts(), std::vector<fs::path>{});

    // Without levels, podman mounts through containers/storage and never asks the daemon.
    auto plain = env().podman({"run", "--rm", env().image(), "sh", "-c", std::string(kRootLine)});
    ASSERT_EQ(plain.exit_code, 0) << plain.err;
    EXPECT_NE(plain.out.find(kStorageOverlay), std::string::npos) << plain.out;
    EXPECT_EQ(env().requests(), before + 1);
}

TEST_F(PodmanTest, ReadWriteContainerKeepsItsWriteAcrossAVerifiedRestart) {
    auto before = env().requests();
    auto started =
        env().podman(concat(concat({"run", "--detach", "--name", "rw"}, verified_levels()),
                            {env().image(), "sleep", "1000000"}));
    ASSERT_EQ(started.exit_code, 0) << started.err;
    EXPECT_EQ(env().requests(), before + 1);
    auto mount_point = verified_mount_point("rw");
    EXPECT_EQ(PodmanEnv::mounts_at_or_below(mount_point), std::vector<fs::path>{mount_point});

    auto write = env().podman({"exec", "rw", "sh", "-c", "echo written > /written"});
    ASSERT_EQ(write.exit_code, 0) << write.err;
    auto diff = env().store().paths.store / "overlay" / env().container_layer("rw") / "diff";
    EXPECT_EQ(read_file(diff / "written"), "written\n");

    auto stopped = env().podman({"stop", "--time", "0", "rw"});
    ASSERT_EQ(stopped.exit_code, 0) << stopped.err;
    EXPECT_EQ(stray_mounts(), std::vector<fs::path>{});

    auto restarted = env().podman({"start", "rw"});
    ASSERT_EQ(restarted.exit_code, 0) << restarted.err;
    EXPECT_EQ(env().requests(), before + 2);
    auto read_back = env().podman({"exec", "rw", "cat", "/written"});
    EXPECT_EQ(read_back.out, "written\n") << read_back.err;
}

TEST_F(PodmanTest, MountCpExportAndCommitOfARunningContainerUseTheVerifiedMount) {
    auto started =
        env().podman(concat(concat({"run", "--detach", "--name", "busy"}, verified_levels()),
                            {env().image(), "sleep", "1000000"}));
    ASSERT_EQ(started.exit_code, 0) << started.err;
    auto before = env().requests();
    ASSERT_EQ(env().podman({"exec", "busy", "sh", "-c", "echo mine > /mine"}).exit_code, 0);

    auto mounted = env().podman({"mount", "busy"});
    ASSERT_EQ(mounted.exit_code, 0) << mounted.err;
    EXPECT_EQ(mounted.out, verified_mount_point("busy").string() + "\n");

    auto copied = env().podman({"cp", "busy:/mine", "-"});
    ASSERT_EQ(copied.exit_code, 0) << copied.err;
    EXPECT_NE(copied.out.find("mine\n"), std::string::npos);

    auto exported = env().podman({"export", "busy"});
    ASSERT_EQ(exported.exit_code, 0) << exported.err;
    EXPECT_NE(exported.out.find(kOsRelease), std::string::npos);
    EXPECT_NE(exported.out.find("mine\n"), std::string::npos);

    auto committed = env().podman({"commit", "busy", "localhost/committed:1"});
    ASSERT_EQ(committed.exit_code, 0) << committed.err;
    auto squashed = env().podman({"commit", "--squash", "busy", "localhost/squashed:1"});
    EXPECT_NE(squashed.exit_code, 0);
    EXPECT_NE(squashed.err.find("verified by verity-mountd"), std::string::npos) << squashed.err;

    // None of these asked for another mount.
    EXPECT_EQ(env().requests(), before);
}

struct Tampering {
    std::string what;   // vmd-fixture tamper --what
    std::string error;  // the daemon's refusal
};

// The name CTest shows beside each case.
void PrintTo(const Tampering& tampering, std::ostream* out) {
    *out << tampering.what;
}

class PodmanTamperTest : public PodmanTest, public ::testing::WithParamInterface<Tampering> {};

TEST_P(PodmanTamperTest, StartAfterTamperingIsRefusedWithTheDaemonsErrorAndMountsNothing) {
    auto created = env().podman(concat(concat({"create", "--name", "t"}, verified_levels()),
                                       {env().image(), "cat", "/etc/os-release"}));
    ASSERT_EQ(created.exit_code, 0) << created.err;
    auto id = full_id("t");
    auto tampered = tamper(GetParam().what);
    ASSERT_EQ(tampered.exit_code, 0) << tampered.err;

    auto started = env().podman({"start", "--attach", "t"});
    EXPECT_EQ(started.exit_code, 125);
    auto refusal = "verified rootfs for container " + id + ": io.containers.VerityMount1.Error." +
                   GetParam().error + ": ";
    // podman start says which container it could not start, then the refusal as it came.
    EXPECT_EQ(started.err.rfind("Error: unable to start container " + id + ": " + refusal, 0), 0u)
        << started.err;
    EXPECT_EQ(started.out.find("verity-mountd demo"), std::string::npos);
    EXPECT_EQ(stray_mounts(), std::vector<fs::path>{});

    auto ran = env().podman(concat(concat({"run", "--rm"}, verified_levels()),
                                   {env().image(), "cat", "/etc/os-release"}));
    EXPECT_EQ(ran.exit_code, 125);
    EXPECT_EQ(ran.err.rfind("Error: verified rootfs for container ", 0), 0u) << ran.err;
    EXPECT_NE(ran.err.find(": io.containers.VerityMount1.Error." + GetParam().error + ": "),
              std::string::npos)
        << ran.err;
    EXPECT_EQ(stray_mounts(), std::vector<fs::path>{});
}

INSTANTIATE_TEST_SUITE_P(Tamperings, PodmanTamperTest,
                         ::testing::Values(Tampering{"flip-blob-byte", "VerityMismatch"},
                                           Tampering{"modify-manifest", "SignatureInvalid"},
                                           Tampering{"drop-signatures", "SignatureRequired"}),
                         [](const auto& test) { return test.param.error; });

TEST_F(PodmanTest, ContainersConfDropinAppliesToOlderContainersAndCannotBeLowered) {
    auto old = env().podman({"create", "--name", "old", env().image(), "sh", "-c",
                             "cat /etc/os-release; " + std::string(kRootLine)});
    ASSERT_EQ(old.exit_code, 0) << old.err;
    env().write_dropin(kGlobalLevels);

    auto before = env().requests();
    auto started = env().podman({"start", "--attach", "old"});
    ASSERT_EQ(started.exit_code, 0) << started.err;
    EXPECT_EQ(started.out.find(kOsRelease), 0u) << started.out;
    EXPECT_NE(started.out.find(kDaemonOverlay), std::string::npos) << started.out;
    EXPECT_EQ(env().requests(), before + 1);

    auto lowered = env().podman({"create", "--name", "lowered", "--security-opt", "signature=off",
                                 "--security-opt", "verity=off", env().image(), "true"});
    ASSERT_EQ(lowered.exit_code, 0) << lowered.err;
    ASSERT_EQ(tamper("flip-blob-byte").exit_code, 0);
    for (const char* name : {"lowered", "old"}) {
        auto refused = env().podman({"start", "--attach", name});
        EXPECT_NE(refused.exit_code, 0) << name;
        EXPECT_NE(refused.err.find("io.containers.VerityMount1.Error.VerityMismatch"),
                  std::string::npos)
            << name << ": " << refused.err;
    }
    EXPECT_EQ(stray_mounts(), std::vector<fs::path>{});
}

TEST_F(PodmanTest, NoDaemonOnTheBusRefusesTheStartAndMountsNothing) {
    auto created = env().podman(
        concat(concat({"create", "--name", "lonely"}, verified_levels()), {env().image(), "true"}));
    ASSERT_EQ(created.exit_code, 0) << created.err;
    env().daemon_env().daemon().stop();

    auto no_daemon = env().podman({"start", "lonely"});
    EXPECT_NE(no_daemon.exit_code, 0);
    EXPECT_NE(no_daemon.err.find(": verified rootfs for container "), std::string::npos)
        << no_daemon.err;
    EXPECT_NE(no_daemon.err.find("org.freedesktop.DBus.Error.ServiceUnknown"), std::string::npos)
        << no_daemon.err;
    EXPECT_EQ(stray_mounts(), std::vector<fs::path>{});

    auto no_bus = env().podman({"start", "lonely"},
                               {"DBUS_SYSTEM_BUS_ADDRESS=unix:path=/nonexistent/vmd-bus"});
    EXPECT_NE(no_bus.exit_code, 0);
    EXPECT_NE(no_bus.err.find("connecting to the system bus"), std::string::npos) << no_bus.err;
    EXPECT_EQ(stray_mounts(), std::vector<fs::path>{});
}

TEST_F(PodmanTest, RmForceAndKillLeaveNoMountAndNoDaemonFd) {
    // The baseline is taken after one verified run, so that whatever the daemon opens once and
    // keeps is in it, and once the daemon let go of what a Mount holds: it closes the layer
    // mounts on its worker only after the reply was queued (DESIGN §8a), while podman goes on.
    auto warm_up =
        env().podman(concat(concat({"run", "--rm"}, verified_levels()), {env().image(), "true"}));
    ASSERT_EQ(warm_up.exit_code, 0) << warm_up.err;
    auto daemon_pid = env().daemon_env().daemon().pid();
    auto holds_no_mount = [&] {
        auto holdings = holdings_of(daemon_pid);
        return holdings.mount_fds == 0 && holdings.memfds == 0 && holdings.loop_fds == 0;
    };
    ASSERT_TRUE(PodmanEnv::eventually(holds_no_mount))
        << describe_growth({}, holdings_of(daemon_pid));
    auto baseline = holdings_of(daemon_pid).fd_links;
    for (const char* name : {"removed", "killed"}) {
        auto started =
            env().podman(concat(concat({"run", "--detach", "--name", name}, verified_levels()),
                                {env().image(), "sleep", "1000000"}));
        ASSERT_EQ(started.exit_code, 0) << started.err;
    }
    auto mount_point = verified_mount_point("killed");
    auto removed_point = verified_mount_point("removed");
    std::vector<fs::path> both = {removed_point, mount_point};
    std::sort(both.begin(), both.end());
    EXPECT_EQ(verified_mounts(), both);

    auto removed = env().podman({"rm", "--force", "--time", "0", "removed"});
    ASSERT_EQ(removed.exit_code, 0) << removed.err;
    EXPECT_EQ(verified_mounts(), std::vector<fs::path>{mount_point});

    ASSERT_EQ(env().podman({"kill", "killed"}).exit_code, 0);
    // The exit command that conmon runs once the container died detaches its rootfs.
    EXPECT_EQ(PodmanEnv::wait_for_no_mounts_below(mount_point), std::vector<fs::path>{});
    EXPECT_EQ(stray_mounts(), std::vector<fs::path>{});
    EXPECT_TRUE(PodmanEnv::eventually(holds_no_mount))
        << describe_growth({}, holdings_of(daemon_pid));
    EXPECT_EQ(holdings_of(daemon_pid).fd_links, baseline);
}

}  // namespace
}  // namespace vmd::testing
