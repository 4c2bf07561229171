// The client library and verity-mountctl against a stand-in daemon on a private dbus-daemon. The
// stand-in implements the adaptor generated from the same interface XML as the client's proxy.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mount.h>
#include <sys/wait.h>

#include <gtest/gtest.h>

#include <sdbus-c++/sdbus-c++.h>
#include <cstring>
#include <mutex>

#include "client/verity_mount_client.hpp"
#include "common/json.hpp"
#include "common/unique_fd.hpp"
#include "ctl_path.hpp"
#include "fixtures/test_env.hpp"
#include "reply_maps.hpp"
#include "verity_mount1_adaptor.h"

extern char** environ;

namespace vmd::client {
namespace {

namespace fs = std::filesystem;
using test::report_map;
using test::status_map;
using test::VariantMap;
using vmd::testing::TempDir;

constexpr const char* kRefusedName = "io.containers.VerityMount1.Error.VerityMismatch";
constexpr const char* kRefusedMessage =
    "layer 1 blob: expected one of sha256:aa…, found sha256:bb…";

// A dbus-daemon of its own on a socket in `dir`, stopped on destruction.
class PrivateBus {
  public:
    explicit PrivateBus(const fs::path& dir) {
        auto config = dir / "bus.conf";
        vmd::testing::write_file(
            config, "<busconfig><type>session</type><listen>unix:path=" + (dir / "bus").string() +
                        "</listen><auth>EXTERNAL</auth>"
                        "<policy context=\"default\"><allow own=\"*\"/>"
                        "<allow send_destination=\"*\"/>"
                        "<allow receive_sender=\"*\"/></policy>"
                        "</busconfig>");
        int pipe_fds[2];
        if (::pipe2(pipe_fds, O_CLOEXEC) != 0) {
            throw std::runtime_error("pipe2 failed");
        }
        UniqueFd read_end(pipe_fds[0]), write_end(pipe_fds[1]);
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_adddup2(&actions, write_end.get(), 1);
        // Its complaints about fd limits it may not raise here are noise.
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
        std::string config_arg = "--config-file=" + config.string();
        std::vector<char*> argv = {const_cast<char*>("dbus-daemon"), config_arg.data(),
                                   const_cast<char*>("--nofork"),
                                   const_cast<char*>("--print-address=1"), nullptr};
        int rc = ::posix_spawnp(&pid_, "dbus-daemon", &actions, nullptr, argv.data(), environ);
        posix_spawn_file_actions_destroy(&actions);
        if (rc != 0) {
            pid_ = -1;
            return;  // the fixture's assertion on the empty address reports it
        }
        write_end.reset();
        // The address is printed once the daemon listens: no waiting beyond this read.
        char c = 0;
        while (::read(read_end.get(), &c, 1) == 1 && c != '\n') {
            address_.push_back(c);
        }
    }
    ~PrivateBus() {
        if (pid_ > 0) {
            ::kill(pid_, SIGTERM);
            ::waitpid(pid_, nullptr, 0);
        }
    }
    PrivateBus(const PrivateBus&) = delete;
    PrivateBus& operator=(const PrivateBus&) = delete;

    /// Empty when dbus-daemon could not be started.
    const std::string& address() const { return address_; }

  private:
    pid_t pid_ = -1;
    std::string address_;
};

// Answers like verity-mountd would, refusing the image "refused"; Mount hands out a detached
// bind mount of `source`.
class StandInDaemon final : public sdbus::AdaptorInterfaces<io::containers::VerityMount1_adaptor> {
  public:
    StandInDaemon(sdbus::IConnection& connection, fs::path source)
        : AdaptorInterfaces(connection, kObjectPath), source_(std::move(source)) {
        registerAdaptor();
    }
    ~StandInDaemon() { unregisterAdaptor(); }

    /// The last request's image, container and options, as received.
    std::tuple<std::string, std::string, VariantMap> last_request() {
        std::lock_guard lock(mutex_);
        return last_;
    }

  private:
    void record(const std::string& image, const std::string& container, const VariantMap& opts) {
        std::lock_guard lock(mutex_);
        last_ = {image, container, opts};
        if (image == "refused") {
            throw sdbus::Error(kRefusedName, kRefusedMessage);
        }
    }

    std::tuple<sdbus::UnixFd, VariantMap> Mount(const std::string& image,
                                                const std::string& container,
                                                const VariantMap& options) override {
        record(image, container, options);
        int fd = ::open_tree(AT_FDCWD, source_.c_str(), OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
        if (fd < 0) {
            throw sdbus::Error("io.containers.VerityMount1.Error.MountFailed",
                               std::string("open_tree: ") + std::strerror(errno));
        }
        return {sdbus::UnixFd(fd, sdbus::adopt_fd), report_map(image)};
    }
    VariantMap Verify(const std::string& image, const VariantMap& options) override {
        record(image, "", options);
        return report_map(image);
    }
    VariantMap GetStatus() override { return status_map(); }

    fs::path source_;
    std::mutex mutex_;
    std::tuple<std::string, std::string, VariantMap> last_;
};

class ClientOnPrivateBus : public ::testing::Test {
  protected:
    void SetUp() override {
        ASSERT_TRUE(vmd::testing::have_program("dbus-daemon"))
            << vmd::testing::missing_program("dbus-daemon", "dbus");
        bus_ = std::make_unique<PrivateBus>(dir_.path());
        ASSERT_FALSE(bus_->address().empty()) << "dbus-daemon did not print its address";
        fs::create_directory(dir_.path() / "source");
        vmd::testing::write_file(dir_.path() / "source" / "hello", "verified content\n");
    }
    void TearDown() override {
        if (server_) {
            server_->leaveEventLoop();
        }
        daemon_.reset();
        server_.reset();
        bus_.reset();
    }

    // Takes the service's name on the bus and serves it from a thread of sdbus-c++.
    void start_daemon() {
        server_ = sdbus::createSessionBusConnectionWithAddress(bus_->address());
        server_->requestName(kBusName);
        daemon_ = std::make_unique<StandInDaemon>(*server_, dir_.path() / "source");
        server_->enterEventLoopAsync();
    }

    vmd::testing::RunResult ctl(std::vector<std::string> args) {
        args.insert(args.begin(), vmd::testing::ctl_path().string());
        args.push_back("--address=" + bus_->address());
        return vmd::testing::run(args);
    }

    TempDir dir_;
    std::unique_ptr<PrivateBus> bus_;
    std::unique_ptr<sdbus::IConnection> server_;
    std::unique_ptr<StandInDaemon> daemon_;
};

TEST_F(ClientOnPrivateBus, StatusDecodesNestedMaps) {
    start_daemon();
    auto status = Client::at_address(bus_->address()).status();
    EXPECT_FALSE(status.kernel.fs_verity);
    EXPECT_TRUE(status.kernel.overlay_verity);
    EXPECT_EQ(status.config.allowed_uids, (std::vector<std::uint32_t>{0, 4242}));
    EXPECT_EQ(status.requests, 3U);
    EXPECT_EQ(status.version, "0.1.0");
}

TEST_F(ClientOnPrivateBus, VerifySendsOnlyTheGivenOptionsAndReturnsTheReport) {
    start_daemon();
    CheckOptions options;
    options.signature = SignatureLevel::Require;
    auto got = Client::at_address(bus_->address()).verify("busybox", options);
    EXPECT_EQ(got.image_id, "busybox");
    EXPECT_EQ(got.policy_scope, "docker.io/library");
    EXPECT_EQ(got.elapsed_us, 42U);
    ASSERT_EQ(got.layers.size(), 1U);
    EXPECT_EQ(got.layers[0].allowed, (std::vector<std::string>{"sha256:aa", "sha256:cc"}));

    auto [image, container, sent] = daemon_->last_request();
    ASSERT_EQ(sent.size(), 1U);
    EXPECT_EQ(sent.at("signature").get<std::string>(), "require");
}

TEST_F(ClientOnPrivateBus, MountReturnsACloseOnExecFdAndSendsFlagsAsBooleans) {
    start_daemon();
    MountOptions options;
    options.readonly = true;
    options.verity = VerityLevel::Enforce;
    auto result = Client::at_address(bus_->address()).mount("busybox", "ctr", options);
    if (!result.rootfs) {
        FAIL() << "no rootfs fd";
    }
    EXPECT_EQ(::fcntl(result.rootfs.get(), F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
    EXPECT_EQ(result.info.identity, "docker.io/library/busybox:latest");
    // The fd is the mount's root: the source's file is visible through it.
    UniqueFd hello(::openat(result.rootfs.get(), "hello", O_RDONLY | O_CLOEXEC));
    EXPECT_TRUE(hello) << std::strerror(errno);

    auto [image, container, sent] = daemon_->last_request();
    EXPECT_EQ(container, "ctr");
    EXPECT_EQ(sent.at("readonly").get<bool>(), true);
    EXPECT_EQ(sent.at("verity").get<std::string>(), "enforce");
    EXPECT_EQ(sent.count("nodev"), 0U);
}

TEST_F(ClientOnPrivateBus, RefusalKeepsTheDaemonsNameAndMessage) {
    start_daemon();
    try {
        Client::at_address(bus_->address()).verify("refused");
        FAIL() << "the refusal was not reported";
    } catch (const ClientError& error) {
        EXPECT_EQ(error.kind(), ErrorKind::Refused);
        EXPECT_EQ(error.name(), kRefusedName);
        EXPECT_EQ(error.message(), kRefusedMessage);
        EXPECT_EQ(error.daemon_error(), Errc::VerityMismatch);
    }
    auto result = ctl({"verify", "refused"});
    EXPECT_EQ(result.exit_code, 1);
    EXPECT_EQ(result.err, std::string(kRefusedName) + ": " + kRefusedMessage + "\n");
}

TEST_F(ClientOnPrivateBus, NameWithoutOwnerIsUnreachable) {
    try {
        Client::at_address(bus_->address()).status();
        FAIL() << "a call to a name nobody owns succeeded";
    } catch (const ClientError& error) {
        EXPECT_EQ(error.kind(), ErrorKind::Unreachable) << error.what();
        EXPECT_EQ(error.name(), "org.freedesktop.DBus.Error.ServiceUnknown");
    }
    EXPECT_EQ(ctl({"status"}).exit_code, 3);
}

TEST_F(ClientOnPrivateBus, CtlJsonOutputsParse) {
    start_daemon();
    const json::Context ctx{Errc::Internal, "verity-mountctl --json output"};
    auto status = ctl({"status", "--json"});
    ASSERT_EQ(status.exit_code, 0) << status.err;
    auto status_doc = json::Document::parse(status.out, ctx.code, ctx.what);
    auto kernel = json::expect_object(
        json::require(json::expect_object(status_doc.root(), ctx), "kernel", ctx), ctx);
    EXPECT_FALSE(json::expect_bool(json::require(kernel, "fs_verity", ctx), ctx));

    auto verify = ctl({"verify", "--json", "busybox", "--verity", "digest"});
    ASSERT_EQ(verify.exit_code, 0) << verify.err;
    auto verify_doc = json::Document::parse(verify.out, ctx.code, ctx.what);
    auto report = json::expect_object(verify_doc.root(), ctx);
    EXPECT_EQ(json::expect_uint(json::require(report, "elapsed_us", ctx), ctx), 42U);
}

TEST_F(ClientOnPrivateBus, CtlMountAttachesTheReturnedMountOnTheTarget) {
    start_daemon();
    auto target = dir_.path() / "target";
    fs::create_directory(target);
    auto result = ctl({"mount", "busybox", "--target", target.string()});
    ASSERT_EQ(result.exit_code, 0) << result.err;
    std::string seen;
    try {
        seen = vmd::testing::read_file(target / "hello");
    } catch (const std::runtime_error&) {
    }
    // Clean up before checking. Detached: the serving side may not have closed its own copy of
    // the mount fd yet, which makes a plain umount EBUSY (EINVAL still says nothing was there).
    bool mounted = ::umount2(target.c_str(), MNT_DETACH) == 0;
    ASSERT_TRUE(mounted) << "nothing was mounted on the target: " << std::strerror(errno);
    EXPECT_EQ(seen, "verified content\n");
    EXPECT_NE(result.out.find("mounted on       " + target.string()), std::string::npos)
        << result.out;
    EXPECT_NE(result.out.find("layer 1          111111111111  sha256:aa"), std::string::npos)
        << result.out;
}

}  // namespace
}  // namespace vmd::client
