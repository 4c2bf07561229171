// Where verity-mountd cannot give a container its root file system, a container whose levels are
// on — its own or containers.conf's — is refused at start with a clear error, exit 125, without a
// request to the daemon and with nothing mounted; podman never falls back to an unverified root
// (DESIGN §10 "Fail closed"): --rootfs DIR, UID/GID mappings, a storage driver other than overlay,
// rootless podman.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "fixtures/sample_images.hpp"
#include "podman_test.hpp"

namespace vmd::testing {
namespace {

// A root file system directory that only needs /bin/sh: busybox under that name.
void make_plain_rootfs(const fs::path& dir) {
    fs::create_directories(dir / "bin");
    fs::copy_file(kBusyboxPath, dir / "bin" / "sh");
}

void change_owner(const fs::path& path, uid_t uid) {
    if (::chown(path.c_str(), uid, uid) != 0) {
        throw std::runtime_error("chown " + path.string() + ": " + std::strerror(errno));
    }
}

class PodmanFailClosedTest : public PodmanTest {
  protected:
    // The refusal: podman's exit status for its own errors, the reason, and no request to the
    // daemon (requests() was `requests_before` before the attempt).
    void expect_refused(const RunResult& result, const std::string& reason,
                        std::uint64_t requests_before) {
        EXPECT_EQ(result.exit_code, 125) << result.err;
        EXPECT_NE(result.err.find("Error: verified rootfs for container "), std::string::npos)
            << result.err;
        EXPECT_NE(result.err.find(reason), std::string::npos) << result.err;
        EXPECT_EQ(result.out.find("ran"), std::string::npos) << result.out;
        EXPECT_EQ(env().requests(), requests_before);
        EXPECT_EQ(stray_mounts(), std::vector<fs::path>{});
    }
};

TEST_F(PodmanFailClosedTest, RootfsDirectoryIsRefused) {
    auto rootfs = env().daemon_env().dir() / "plain-rootfs";
    make_plain_rootfs(rootfs);
    const std::vector<std::string> command = {"--rootfs", rootfs.string(), "sh", "-c", "echo ran"};
    auto plain = env().podman(concat({"run", "--rm"}, command));
    ASSERT_EQ(plain.exit_code, 0) << plain.err;
    EXPECT_EQ(plain.out, "ran\n");

    auto before = env().requests();
    auto reason = "--rootfs " + rootfs.string() + " is not an image that verity-mountd can verify";
    expect_refused(env().podman(concat(concat({"run", "--rm"}, verified_levels()), command)),
                   reason, before);
    env().write_dropin(kGlobalLevels);
    expect_refused(env().podman(concat({"run", "--rm"}, command)), reason, before);
    EXPECT_EQ(PodmanEnv::mounts_at_or_below(rootfs), std::vector<fs::path>{});
}

TEST_F(PodmanFailClosedTest, UidAndGidMappingsAreRefused) {
    const std::vector<std::string> run_mapped = {
        "run", "--rm", "--uidmap", "0:100000:65536", "--gidmap", "0:100000:65536"};
    const std::vector<std::string> command = {env().image(), "sh", "-c", "echo ran"};
    auto before = env().requests();
    const std::string reason =
        "a container in a user namespace cannot use a root file system verified by verity-mountd";
    expect_refused(env().podman(concat(concat(run_mapped, verified_levels()), command)), reason,
                   before);
    env().write_dropin(kGlobalLevels);
    expect_refused(env().podman(concat(run_mapped, command)), reason, before);
}

TEST_F(PodmanFailClosedTest, StorageDriverOtherThanOverlayIsRefused) {
    // A store of the vfs driver with an image imported from a plain root file system; podman
    // runs it when no level is on.
    auto dir = env().daemon_env().dir();
    make_plain_rootfs(dir / "plain-rootfs");
    auto archive = dir / "plain-rootfs.tar";
    auto packed = run({"tar", "-C", (dir / "plain-rootfs").string(), "-cf", archive.string(), "."});
    ASSERT_EQ(packed.exit_code, 0) << packed.err;
    // Given after PodmanEnv's own --root and --runroot, these win.
    auto vfs = [&](const std::vector<std::string>& args) {
        return env().podman(concat({"--root", (dir / "vfs-store").string(), "--runroot",
                                    (dir / "vfs-run").string(), "--storage-driver", "vfs"},
                                   args));
    };
    auto imported = vfs({"import", archive.string(), "localhost/plain:1"});
    ASSERT_EQ(imported.exit_code, 0) << imported.err;
    const std::vector<std::string> command = {"localhost/plain:1", "sh", "-c", "echo ran"};
    auto plain = vfs(concat({"run", "--rm"}, command));
    ASSERT_EQ(plain.exit_code, 0) << plain.err;
    EXPECT_EQ(plain.out, "ran\n");

    auto before = env().requests();
    const std::string reason = R"(storage driver "vfs": verity-mountd mounts overlay stores only)";
    expect_refused(vfs(concat(concat({"run", "--rm"}, verified_levels()), command)), reason,
                   before);
    env().write_dropin(kGlobalLevels);
    expect_refused(vfs(concat({"run", "--rm"}, command)), reason, before);
    EXPECT_EQ(PodmanEnv::mounts_at_or_below(dir / "vfs-store"), std::vector<fs::path>{});
}

TEST_F(PodmanFailClosedTest, RootlessPodmanIsRefused) {
    // nobody, with a single UID mapping (no subordinate IDs here), a home and a runtime dir of
    // its own, and a root file system directory it owns.
    constexpr uid_t kNobody = 65534;
    auto userns =
        run({"setpriv", "--reuid", std::to_string(kNobody), "--regid", std::to_string(kNobody),
             "--clear-groups", "unshare", "--user", "--map-root-user", "true"});
    if (userns.exit_code != 0) {
        GTEST_SKIP() << "rootless podman cannot run here: an unprivileged user cannot create a "
                        "user namespace (unshare --user as nobody: "
                     << userns.err << ")";
    }
    TempDir top;
    fs::permissions(top.path(),
                    fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec);
    auto home = top.path() / "home";
    auto runtime_dir = top.path() / "xdg";
    auto rootfs = top.path() / "rootfs";
    // The build tree may sit below a folder only root can enter (CI clones into a 0700 mktemp
    // folder): nobody runs its own copy of podman, from its home (runc enters the caller's
    // working directory).
    auto podman = top.path() / "podman";
    fs::copy_file(patched_podman(), podman);
    fs::permissions(podman, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                fs::perms::others_read | fs::perms::others_exec);
    fs::create_directories(home);
    fs::create_directories(runtime_dir);
    make_plain_rootfs(rootfs);
    for (const auto& path : {home, runtime_dir, rootfs, rootfs / "bin", rootfs / "bin" / "sh"}) {
        change_owner(path, kNobody);
    }
    auto rootless = [&](const std::vector<std::string>& levels) {
        std::vector<std::string> argv = {"setpriv",
                                         "--reuid",
                                         std::to_string(kNobody),
                                         "--regid",
                                         std::to_string(kNobody),
                                         "--clear-groups",
                                         "env",
                                         "--chdir",
                                         home.string(),
                                         "HOME=" + home.string(),
                                         "XDG_RUNTIME_DIR=" + runtime_dir.string(),
                                         "DBUS_SYSTEM_BUS_ADDRESS=" + env().daemon_env().address(),
                                         "PODMAN_IGNORE_CGROUPSV1_WARNING=1",
                                         podman.string(),
                                         "--root",
                                         (home / "store").string(),
                                         "--runroot",
                                         (runtime_dir / "run").string(),
                                         "run",
                                         "--rm"};
        argv.insert(argv.end(), levels.begin(), levels.end());
        argv.insert(argv.end(), {"--rootfs", rootfs.string(), "sh", "-c", "echo ran"});
        return run(argv);
    };
    auto plain = rootless({});
    // Rootless podman keeps its user and mount namespaces in a pause process: ours to end.
    auto pause_pid_file = runtime_dir / "libpod" / "tmp" / "pause.pid";
    struct PauseProcess {
        fs::path pid_file;
        ~PauseProcess() {
            if (fs::exists(pid_file)) {
                ::kill(std::stoi(read_file(pid_file)), SIGKILL);
            }
        }
    } pause{pause_pid_file};
    ASSERT_EQ(plain.exit_code, 0) << plain.err;
    EXPECT_EQ(plain.out, "ran\n");

    auto before = env().requests();
    const std::string reason =
        "rootless podman cannot ask verity-mountd for a verified root file system";
    expect_refused(rootless(verified_levels()), reason, before);
    env().write_dropin(kGlobalLevels);
    expect_refused(rootless({}), reason, before);
}

}  // namespace
}  // namespace vmd::testing
