// Both ways the system starts the daemon, run for real: socket activation (what
// verity-mountd.socket does, here by systemd-socket-activate) with busctl and verity-mountctl on
// the peer-to-peer socket, fd passing included; bus activation by a dbus-daemon from the
// generated activation file; and callers of another uid refused on both transports.
#include "daemon_env.hpp"
#include "fixtures/sample_images.hpp"
#include "system_support.hpp"

namespace vmd::testing::sys {
namespace {

constexpr unsigned kNobody = 65534;

RunResult ctl_at(const std::string& address, std::vector<std::string> args,
                 std::vector<std::string> prefix = {}) {
    prefix.push_back(built("client/verity-mountctl").string());
    prefix.insert(prefix.end(), {"--address", address});
    prefix.insert(prefix.end(), args.begin(), args.end());
    return run(prefix);
}

RunResult busctl_at(const std::string& address, std::vector<std::string> args,
                    std::vector<std::string> prefix = {}) {
    prefix.insert(prefix.end(),
                  {"busctl", "--address=" + address, "call", "io.containers.VerityMount1",
                   "/io/containers/VerityMount1", "io.containers.VerityMount1"});
    prefix.insert(prefix.end(), args.begin(), args.end());
    return run(prefix);
}

class SocketActivation : public ::testing::Test {
  protected:
    SocketActivation() {
        store_.emplace(build_store(sample_store(), dir_.path() / "fixture"));
        write_config(*store_, dir_.path() / "config.json");
    }
    TempDir dir_;
    std::optional<BuiltStore> store_;
};

TEST_F(SocketActivation, BusctlAndVerityMountctlOnThePeerToPeerSocket) {
    SocketActivated daemon(dir_.path(), dir_.path() / "config.json");
    // The first connection starts the daemon; busctl says Hello first, as on a bus.
    auto status = busctl_at(daemon.address(), {"GetStatus"});
    ASSERT_EQ(status.exit_code, 0) << status.err << daemon.log();
    EXPECT_TRUE(status.out.starts_with("a{sv} ")) << status.out;
    EXPECT_NE(status.out.find("\"storage_root\" s \"" + store_->paths.store.string() + "\""),
              std::string::npos)
        << status.out;
    const pid_t pid = daemon.daemon_pid();

    auto ctl_status = ctl_at(daemon.address(), {"status", "--json"});
    ASSERT_EQ(ctl_status.exit_code, 0) << ctl_status.err;
    EXPECT_NE(ctl_status.out.find("\"version\""), std::string::npos) << ctl_status.out;

    // Mount: the reply carries the rootfs fd; verity-mountctl attaches it.
    MountPoint target(dir_.path() / "rootfs");
    auto mount =
        ctl_at(daemon.address(), {"mount", std::string(kDemoName), "--target", target.str()});
    ASSERT_EQ(mount.exit_code, 0) << mount.err << daemon.log();
    EXPECT_EQ(read_file(target.path() / "etc/os-release"), kOsRelease);
    EXPECT_EQ(read_file(target.path() / "usr/share/demo/top.txt"), kTopText);
    // Detached: the daemon may still be closing its own copy of the mount fd (it does so right
    // after queueing the reply), which makes a plain umount EBUSY for that moment.
    ASSERT_EQ(::umount2(target.str().c_str(), MNT_DETACH), 0) << std::strerror(errno);
    EXPECT_FALSE(fs::exists(target.path() / "etc/os-release"));

    // busctl receives the fd too.
    auto busctl_mount =
        busctl_at(daemon.address(), {"Mount", "ssa{sv}", std::string(kDemoName), "", "0"});
    ASSERT_EQ(busctl_mount.exit_code, 0) << busctl_mount.err;
    EXPECT_TRUE(busctl_mount.out.starts_with("ha{sv} ")) << busctl_mount.out;
    EXPECT_NE(busctl_mount.out.find(store_->image().manifest_digest), std::string::npos);

    auto refused = ctl_at(daemon.address(), {"verify", "quay.io/example/missing:1"});
    expect_refused(refused, "ImageNotFound");
    // One daemon served every connection, and stops cleanly on SIGTERM.
    EXPECT_EQ(daemon.daemon_pid(), pid);
    EXPECT_EQ(daemon.stop(), 0) << daemon.log();
}

TEST_F(SocketActivation, UidNotAllowedIsRefusedByTheDaemon) {
    SocketActivated daemon(dir_.path(), dir_.path() / "config.json");
    // The unit's socket is 0600; here other users must be able to connect for the daemon's own
    // check to be what refuses them.
    fs::permissions(dir_.path(), fs::perms::owner_all | fs::perms::others_exec);
    fs::permissions(daemon.socket_path(), fs::perms::all);

    auto status = ctl_at(daemon.address(), {"status"}, as_uid(kNobody));
    expect_refused(status, "AccessDenied", "65534");
    auto busctl = busctl_at(daemon.address(), {"GetStatus"}, as_uid(kNobody));
    EXPECT_NE(busctl.exit_code, 0);
    EXPECT_NE(busctl.err.find("65534"), std::string::npos) << busctl.err;
    MountPoint target(dir_.path() / "rootfs");
    auto mount =
        ctl_at(daemon.address(), {"mount", std::string(kDemoName), "--target", target.str()},
               as_uid(kNobody));
    expect_refused(mount, "AccessDenied", "65534");
    EXPECT_FALSE(fs::exists(target.path() / "etc"));
    // Root still is served by the same daemon.
    EXPECT_EQ(ctl_at(daemon.address(), {"status"}).exit_code, 0);
    EXPECT_EQ(daemon.stop(), 0) << daemon.log();
}

/// The generated activation file as a test installs it: Exec= the built daemon with the test's
/// config; no SystemdService=, since no systemd serves this bus.
void install_activation_file(const fs::path& services, const fs::path& config) {
    fs::create_directories(services);
    auto text = read_file(generated("dbus/io.containers.VerityMount1.service"));
    text = replace_key(
        text, "Exec",
        "Exec=" + built("daemon/verity-mountd").string() + " --config " + config.string());
    write_file(services / "io.containers.VerityMount1.service",
               replace_key(text, "SystemdService", ""));
}

class BusActivation : public ::testing::Test {
  protected:
    BusActivation() {
        store_.emplace(build_store(sample_store(), dir_.path() / "fixture"));
        write_config(*store_, dir_.path() / "config.json", {{"idle_exit_seconds", "1"}});
        install_activation_file(dir_.path() / "services", dir_.path() / "config.json");
    }
    ~BusActivation() override {
        // An activated daemon is the bus's child, not ours. With idle_exit_seconds = 1 it leaves
        // on its own: wait for that through a pidfd (none to open: it is gone already).
        if (auto pid = bus_.owner_pid("io.containers.VerityMount1")) {
            try {
                PidFd(*pid).wait_exit();
            } catch (const std::runtime_error&) {
            }
        }
    }
    TempDir dir_;
    std::optional<BuiltStore> store_;
    PolicyBus bus_{dir_.path() / "services"};
};

TEST_F(BusActivation, FirstCallStartsTheDaemonWhichExitsWhenIdle) {
    ASSERT_FALSE(bus_.owner_pid("io.containers.VerityMount1"));
    auto status = ctl_at(bus_.address(), {"status"});
    ASSERT_EQ(status.exit_code, 0) << status.err << bus_.log();
    EXPECT_NE(status.out.find(store_->paths.store.string()), std::string::npos) << status.out;
    auto first = bus_.owner_pid("io.containers.VerityMount1");
    ASSERT_TRUE(first);
    PidFd daemon(*first);

    MountPoint target(dir_.path() / "rootfs");
    auto mount =
        ctl_at(bus_.address(), {"mount", std::string(kDemoName), "--target", target.str()});
    ASSERT_EQ(mount.exit_code, 0) << mount.err << bus_.log();
    EXPECT_EQ(read_file(target.path() / "etc/os-release"), kOsRelease);

    // idle_exit_seconds = 1: the daemon leaves on its own, and the next call starts a new one.
    ASSERT_TRUE(daemon.wait_exit()) << bus_.log();
    EXPECT_FALSE(bus_.owner_pid("io.containers.VerityMount1"));
    auto again = ctl_at(bus_.address(), {"status"});
    ASSERT_EQ(again.exit_code, 0) << again.err << bus_.log();
    auto second = bus_.owner_pid("io.containers.VerityMount1");
    ASSERT_TRUE(second);
    EXPECT_NE(*second, *first);
}

TEST_F(BusActivation, BusPolicyRefusesOtherUidsBeforeAnythingStarts) {
    // The installed policy denies every message from another uid to the name, so a refused call
    // does not even activate the daemon.
    auto status = ctl_at(bus_.address(), {"status"}, as_uid(kNobody));
    EXPECT_NE(status.exit_code, 0);
    EXPECT_NE(status.err.find("org.freedesktop.DBus.Error.AccessDenied"), std::string::npos)
        << status.err;
    auto busctl = busctl_at(bus_.address(), {"GetStatus"}, as_uid(kNobody));
    EXPECT_NE(busctl.exit_code, 0);
    EXPECT_NE(busctl.err.find("Access denied"), std::string::npos) << busctl.err;
    EXPECT_FALSE(bus_.owner_pid("io.containers.VerityMount1"));

    // Only root may own the name.
    auto own = run([&] {
        auto argv = as_uid(kNobody);
        argv.insert(argv.end(), {"dbus-send", "--bus=" + bus_.address(), "--print-reply",
                                 "--dest=org.freedesktop.DBus", "/org/freedesktop/DBus",
                                 "org.freedesktop.DBus.RequestName",
                                 "string:io.containers.VerityMount1", "uint32:0"});
        return argv;
    }());
    EXPECT_NE(own.exit_code, 0);
    EXPECT_NE(own.err.find("not allowed to own"), std::string::npos) << own.err;

    // Root may call, which activates the daemon.
    ASSERT_EQ(ctl_at(bus_.address(), {"status"}).exit_code, 0) << bus_.log();
    EXPECT_TRUE(bus_.owner_pid("io.containers.VerityMount1"));
}

}  // namespace
}  // namespace vmd::testing::sys
