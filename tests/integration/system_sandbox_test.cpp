// The daemon inside a stand-in for verity-mountd.service's sandbox (see system_sandbox.hpp): the
// unit's capabilities, writable paths, /proc and device ACL must still let it verify, mount
// read-only and read-write, and let a container's root use its rootfs; every system call it
// makes must pass the unit's SystemCallFilter=.
#include <sys/stat.h>
#include <sys/xattr.h>

#include <bitset>
#include <iostream>

#include "daemon_env.hpp"
#include "fixtures/sample_images.hpp"
#include "system_sandbox.hpp"

namespace vmd::testing::sys {
namespace {

void expect_ok(int rc, const std::string& what) {
    EXPECT_EQ(rc, 0) << what << ": " << std::strerror(errno);
}

/// What a container's root does to its rootfs that overlayfs performs with the credentials of the
/// mount's creator (the daemon): copy-up, chown, setgid kept, setcap, utimes, whiteouts, mknod,
/// renames, writes into a directory owned by another uid. Each needs one of the unit's
/// capabilities.
void use_like_a_container(const fs::path& root) {
    auto motd = (root / "etc/motd").string();
    expect_ok(::chown(motd.c_str(), 1234, 1234), "chown a lower file (CAP_CHOWN)");
    write_file(motd, "written in the container\n");  // owned by 1234 now: CAP_DAC_OVERRIDE
    EXPECT_EQ(read_file(motd), "written in the container\n");
    expect_ok(::chmod(motd.c_str(), 02755), "chmod another uid's file (CAP_FOWNER)");
    struct stat st {};
    ASSERT_EQ(::stat(motd.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 02755u) << "setgid of a foreign group kept (CAP_FSETID)";
    const unsigned char fcap[20] = {0x01, 0x00, 0x00, 0x02, 0x00, 0x20};  // v2, cap_net_raw
    expect_ok(
        ::setxattr((root / "etc/hostname").c_str(), "security.capability", fcap, sizeof fcap, 0),
        "setcap (CAP_SETFCAP)");
    const timespec times[2] = {{978307200, 0}, {978307200, 0}};
    expect_ok(::utimensat(AT_FDCWD, motd.c_str(), times, 0), "utimes (CAP_FOWNER)");
    expect_ok(::mknod((root / "null").c_str(), S_IFCHR | 0666, makedev(1, 3)), "mknod (CAP_MKNOD)");
    expect_ok(::unlink((root / "usr/share/demo/hello.txt").c_str()), "unlink: a whiteout");
    EXPECT_FALSE(fs::exists(root / "usr/share/demo/hello.txt"));
    expect_ok(::rename((root / "usr/share/demo").c_str(), (root / "usr/share/demo2").c_str()),
              "rename a lower directory (redirect_dir)");
    EXPECT_EQ(read_file(root / "usr/share/demo2/top.txt"), kTopText);
    expect_ok(::chown((root / "etc").c_str(), 1234, 1234), "chown a lower directory");
    write_file(root / "etc/new-file", "new\n");  // in a directory of uid 1234
    EXPECT_EQ(read_file(root / "etc/new-file"), "new\n");
}

class InUnitSandbox : public ::testing::Test {
  protected:
    void SetUp() override {
        box_ = parse_sandbox(read_file(generated("units/verity-mountd.service")));
        ASSERT_FALSE(box_.capabilities.empty());
        auto spec = sample_store();
        spec.containers.push_back({"web", 0});
        store_.emplace(build_store(spec, dir_.path() / "fixture"));
        write_config(*store_, dir_.path() / "config.json");
        rules_ = device_rules(box_);
        if (DeviceCgroup::controller()) {
            cgroup_.emplace(rules_);
        } else {
            std::cout << "[ NOTE     ] no cgroup v1 devices controller: DeviceAllow= is checked "
                         "on the strace log only\n";
        }
    }

    std::vector<std::string> prefix() {
        return sandbox_prefix(box_, store_->paths.store, cgroup_ ? &*cgroup_ : nullptr);
    }

    RunResult ctl(SocketActivated& daemon, std::vector<std::string> args) {
        args.insert(args.begin(),
                    {built("client/verity-mountctl").string(), "--address", daemon.address()});
        return run(args);
    }

    /// Read-only and read-write mounts through the sandboxed daemon, the container's rootfs used.
    void mount_and_use(SocketActivated& daemon) {
        MountPoint image_root(dir_.path() / "image");
        auto ro = ctl(daemon, {"mount", std::string(kDemoName), "--target", image_root.str()});
        ASSERT_EQ(ro.exit_code, 0) << ro.err << daemon.log();
        EXPECT_EQ(read_file(image_root.path() / "etc/os-release"), kOsRelease);

        MountPoint container_root(dir_.path() / "container");
        auto rw =
            ctl(daemon, {"mount", std::string(kDemoName), "web", "--target", container_root.str()});
        ASSERT_EQ(rw.exit_code, 0) << rw.err << daemon.log();
        use_like_a_container(container_root.path());
        auto missing = ctl(daemon, {"verify", "quay.io/example/missing:1"});
        expect_refused(missing, "ImageNotFound");
    }

    TempDir dir_;
    UnitSandbox box_;
    std::optional<BuiltStore> store_;
    std::vector<DeviceRule> rules_;
    std::optional<DeviceCgroup> cgroup_;  // outlives the daemons of the test
};

TEST_F(InUnitSandbox, MountsAndContainerWritesWorkWithTheUnitsSettings) {
    SocketActivated daemon(dir_.path(), dir_.path() / "config.json", prefix());
    mount_and_use(daemon);

    // The sandbox was in force: the unit's bounding set, no_new_privs, a read-only store with a
    // writable overlay/.
    auto status = read_file("/proc/" + std::to_string(daemon.daemon_pid()) + "/status");
    EXPECT_NE(status.find("NoNewPrivs:\t1"), std::string::npos) << status;
    auto bnd = status.substr(status.find("CapBnd:\t") + 8, 16);
    EXPECT_EQ(std::bitset<64>(std::stoull(bnd, nullptr, 16)).count(), box_.capabilities.size())
        << bnd;
    auto mountinfo = read_file("/proc/" + std::to_string(daemon.daemon_pid()) + "/mountinfo");
    const auto store = store_->paths.store.string();
    EXPECT_NE(mountinfo.find(" " + store + " ro,"), std::string::npos) << mountinfo;
    EXPECT_NE(mountinfo.find(" " + store + "/overlay rw,"), std::string::npos) << mountinfo;
    EXPECT_EQ(daemon.stop(), 0) << daemon.log();
}

TEST_F(InUnitSandbox, EverySystemCallAndDeviceIsAllowedByTheUnit) {
    ASSERT_TRUE(have_program("strace")) << missing_program("strace", "strace");
    auto log_path = dir_.path() / "strace.log";
    auto argv = prefix();
    argv.insert(argv.begin(), {"strace", "-f", "-qq", "-o", log_path.string()});
    {
        // LeakSanitizer (in -DVMD_SANITIZE=ON builds) cannot work under ptrace and would fail
        // the daemon's exit; the other tests check leaks.
        SocketActivated daemon(dir_.path(), dir_.path() / "config.json", argv,
                               {"ASAN_OPTIONS=detect_leaks=0"});
        auto status = ctl(daemon, {"status"});
        ASSERT_EQ(status.exit_code, 0) << status.err << daemon.log();
        mount_and_use(daemon);
        EXPECT_EQ(daemon.stop(), 0) << daemon.log();
    }
    auto lines = daemon_trace(read_file(log_path), built("daemon/verity-mountd"));
    ASSERT_FALSE(lines.empty()) << "the daemon's execve is not in the strace log";

    const auto allowed = allowed_syscalls(box_.syscall_filter);
    const auto used = traced_syscalls(lines);
    std::string denied;
    for (const auto& name : used) {
        if (!allowed.contains(name)) {
            denied += " " + name;
        }
    }
    EXPECT_TRUE(denied.empty()) << "system calls SystemCallFilter= denies:" << denied;
    // The filter is not vacuous: it allows what the daemon needs and not much more.
    EXPECT_TRUE(used.contains("fsmount") && used.contains("openat2") && used.contains("ioctl"));
    EXPECT_FALSE(allowed.contains("chroot") || allowed.contains("init_module") ||
                 allowed.contains("setuid") || allowed.contains("kexec_load"));
    std::cout << "[ SYSCALLS ] the daemon made " << used.size() << " distinct system calls; the "
              << "unit allows " << allowed.size() << "\n";

    for (const auto& [path, access] : traced_device_opens(lines)) {
        EXPECT_TRUE(device_allowed(rules_, path, access))
            << path << " opened " << access << " but DeviceAllow= does not permit it";
    }
}

}  // namespace
}  // namespace vmd::testing::sys
