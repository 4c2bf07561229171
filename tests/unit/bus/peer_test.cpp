// Peer-to-peer D-Bus on a listening socket (as verity-mountd.socket passes it): busctl and sd-bus
// clients with and without Hello, authorization by SO_PEERCRED, and peers that misbehave.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "bus_fixture.hpp"

namespace vmd::bus {
namespace {

using ::testing::HasSubstr;
using testing::run;
using testing::bus_fixture::call;
using testing::bus_fixture::CallResult;
using testing::bus_fixture::connect;
using testing::bus_fixture::Dict;
using testing::bus_fixture::open_fds;
using testing::bus_fixture::read_dict;
using testing::bus_fixture::ServerThread;
using testing::bus_fixture::test_kernel;
using testing::bus_fixture::TestStore;

const std::string kError = "io.containers.VerityMount1.Error.";
const std::string kMissingId(64, 'e');

/// A raw AF_UNIX connection to `path`, for peers that do not speak D-Bus properly.
UniqueFd raw_connect(const std::filesystem::path& path) {
    UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strncpy(address.sun_path, path.c_str(), sizeof address.sun_path - 1);
    if (!fd || ::connect(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
        throw std::runtime_error("connect " + path.string());
    }
    return fd;
}

/// The server on a listening socket in a temporary directory.
class PeerTest : public ::testing::Test {
  protected:
    void start(const config::Config& config) {
        std::filesystem::permissions(dir_.path(), std::filesystem::perms(0755));
        listener_.reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
        ASSERT_TRUE(listener_.valid());
        sockaddr_un address{};
        address.sun_family = AF_UNIX;
        std::strncpy(address.sun_path, socket_path_.c_str(), sizeof address.sun_path - 1);
        ASSERT_EQ(::bind(listener_.get(), reinterpret_cast<sockaddr*>(&address), sizeof address),
                  0);
        ASSERT_EQ(::listen(listener_.get(), 16), 0);
        std::filesystem::permissions(socket_path_, std::filesystem::perms(0777));

        service_ = std::make_unique<service::Service>(config, test_kernel());
        RunOptions options;
        options.listen_fd = listener_.get();
        server_ = std::make_unique<ServerThread>(*service_, options);
        ASSERT_TRUE(server_->ready());
    }
    void start() { start(store_.config()); }

    void TearDown() override {
        if (server_) {
            EXPECT_EQ(server_->stop(), 0);
        }
    }

    std::string address() const { return "unix:path=" + socket_path_.string(); }

    testing::RunResult busctl(std::vector<std::string> args) {
        args.insert(args.begin(), {"busctl", "--address=" + address()});
        return run(args);
    }

    testing::TempDir dir_;
    std::filesystem::path socket_path_ = dir_.path() / "io.socket";
    TestStore store_;
    UniqueFd listener_;
    std::unique_ptr<service::Service> service_;
    std::unique_ptr<ServerThread> server_;
};

TEST_F(PeerTest, BusctlWorksUnchanged) {
    start();
    auto out = busctl({"call", "io.containers.VerityMount1", "/io/containers/VerityMount1",
                       "io.containers.VerityMount1", "GetStatus"});
    ASSERT_EQ(out.exit_code, 0) << out.err;
    EXPECT_THAT(out.out, HasSubstr("\"version\" s"));
    EXPECT_THAT(out.out, HasSubstr("\"detached_layers\" b true"));

    out = busctl({"call", "io.containers.VerityMount1", "/io/containers/VerityMount1",
                  "io.containers.VerityMount1", "Verify", "sa{sv}", kMissingId, "0"});
    EXPECT_NE(out.exit_code, 0);
    EXPECT_THAT(out.err, HasSubstr(kMissingId.substr(0, 12)));

    out = busctl({"introspect", "io.containers.VerityMount1", "/io/containers/VerityMount1"});
    ASSERT_EQ(out.exit_code, 0) << out.err;
    EXPECT_THAT(out.out, HasSubstr(".Mount"));
}

TEST_F(PeerTest, BusClientGetsAUniqueNameFromHello) {
    start();
    auto client = connect(address(), /*bus_client=*/true);
    const char* unique = nullptr;
    ASSERT_GE(sd_bus_get_unique_name(client.get(), &unique), 0);
    EXPECT_THAT(unique, ::testing::StartsWith(":1."));
    // AddMatch / RemoveMatch are accepted (proxies add matches for signals).
    sd_bus_slot* slot = nullptr;
    ASSERT_GE(
        sd_bus_add_match(client.get(), &slot, "type='signal',interface='x.y'", nullptr, nullptr),
        0);
    sd_bus_slot_unref(slot);

    auto status = call(client.get(), "GetStatus");
    ASSERT_EQ(status.error_name, "") << status.error_message;
    Dict dict = read_dict(status.reply.get());
    EXPECT_EQ(dict["config"].dict["storage_root"].text, store_.config().storage_root.string());

    auto result = call(client.get(), "Verify", [](sd_bus_message* m) {
        check(sd_bus_message_append(m, "sa{sv}", kMissingId.c_str(), 0), "append");
    });
    EXPECT_EQ(result.error_name, kError + "ImageNotFound");
}

// A client is accepted as it connects, before it authenticates and calls: the daemon exiting idle
// meanwhile reset verity-mountctl's connection under systemd (tests/vm/system, check 4). While a
// peer is connected the daemon stays; once it hangs up, the daemon exits by itself.
TEST_F(PeerTest, IdleExitWaitsWhileAPeerIsConnected) {
    auto config = store_.config();
    config.idle_exit_seconds = 1;
    start(config);
    {
        auto peer = raw_connect(socket_path_);
        // Three idle periods pass (the timer fires every second): the input of this test, not a
        // synchronisation. A starved machine can only make it pass without the fix, never fail.
        EXPECT_EQ(server_->wait_for(std::chrono::seconds(3)), std::nullopt);
    }
    EXPECT_EQ(server_->wait(), 0);
    server_.reset();
}

TEST_F(PeerTest, DirectClientWithoutHelloWorks) {
    start();
    auto client = connect(address(), /*bus_client=*/false);
    EXPECT_EQ(call(client.get(), "GetStatus").error_name, "");
    auto result = call(client.get(), "Verify", [](sd_bus_message* m) {
        check(sd_bus_message_append(m, "sa{sv}", kMissingId.c_str(), 1, "oops", "s", "x"), "a");
    });
    EXPECT_EQ(result.error_name, kError + "InvalidArgument");
    EXPECT_THAT(result.error_message, HasSubstr("\"oops\""));
}

TEST_F(PeerTest, MountNeedsAConnectionThatPassesFds) {
    start();
    auto client = connect(address(), true, /*fds=*/false);
    auto result = call(client.get(), "Mount", [](sd_bus_message* m) {
        check(sd_bus_message_append(m, "ssa{sv}", kMissingId.c_str(), "", 0), "append");
    });
    EXPECT_EQ(result.error_name, kError + "InvalidArgument");
    EXPECT_THAT(result.error_message, HasSubstr("file descriptors"));
    // Refused before the pipeline, and still counted as a request refused.
    EXPECT_EQ(service_->counters().requests, 1u);
    EXPECT_EQ(service_->counters().refusals, 1u);
    EXPECT_EQ(service_->counters().mounts, 0u);
}

TEST_F(PeerTest, PeerCredentialsAreAuthorized) {
    auto config = store_.config();
    config.allowed_uids = {4242};
    start(config);
    auto client = connect(address());
    auto result = call(client.get(), "GetStatus");
    EXPECT_EQ(result.error_name, kError + "AccessDenied");
    EXPECT_THAT(result.error_message, HasSubstr("uid 0"));
}

TEST_F(PeerTest, AnotherRealUidIsDenied) {
    start();  // allowed_uids [0]
    auto out = run({"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "busctl",
                    "--address=" + address(), "call", "io.containers.VerityMount1",
                    "/io/containers/VerityMount1", "io.containers.VerityMount1", "GetStatus"});
    EXPECT_NE(out.exit_code, 0);
    EXPECT_THAT(out.err, HasSubstr("uid 65534"));
}

TEST_F(PeerTest, MisbehavingPeersOnlyLoseTheirOwnConnection) {
    start();
    auto client = connect(address());
    ASSERT_EQ(call(client.get(), "GetStatus").error_name, "");
    const std::size_t baseline = open_fds();
    {
        // Hangs up before saying anything.
        auto silent = raw_connect(socket_path_);
        // Garbage instead of the authentication protocol.
        auto garbage = raw_connect(socket_path_);
        const std::string junk("\0GARBAGE\r\nBEGIN\r\n\x01\x02\x03", 19);
        ASSERT_EQ(::write(garbage.get(), junk.data(), junk.size()),
                  static_cast<ssize_t>(junk.size()));
        // Authenticates, then sends a message header that lies about its size.
        auto liar = raw_connect(socket_path_);
        const std::string auth("\0AUTH EXTERNAL 30\r\nBEGIN\r\n", 25);
        const std::string header("l\x01\x00\x01\xff\xff\xff\x7f\x01\x00\x00\x00\x00\x00\x00\x00",
                                 16);
        ASSERT_EQ(::write(liar.get(), auth.data(), auth.size()), static_cast<ssize_t>(auth.size()));
        ASSERT_EQ(::write(liar.get(), header.data(), header.size()),
                  static_cast<ssize_t>(header.size()));
        // A real client that hangs up with its request in flight.
        auto quitter = connect(address());
        sd_bus_message* raw = nullptr;
        ASSERT_GE(sd_bus_message_new_method_call(quitter.get(), &raw, "io.containers.VerityMount1",
                                                 "/io/containers/VerityMount1",
                                                 "io.containers.VerityMount1", "Verify"),
                  0);
        MessagePtr message(raw);
        ASSERT_GE(sd_bus_message_append(raw, "sa{sv}", kMissingId.c_str(), 0), 0);
        ASSERT_GE(sd_bus_send(quitter.get(), raw, nullptr), 0);
        ASSERT_GE(sd_bus_flush(quitter.get()), 0);
    }
    // The server keeps serving; every connection above is closed on its side too: the process's
    // fd count comes back to what it was (each call is a round trip through its event loop).
    bool back_to_baseline = false;
    for (int i = 0; i < 200 && !back_to_baseline; ++i) {
        ASSERT_EQ(call(client.get(), "GetStatus").error_name, "");
        back_to_baseline = open_fds() == baseline;
    }
    EXPECT_TRUE(back_to_baseline) << open_fds() << " fds open, " << baseline << " before";
    auto result = call(client.get(), "Verify", [](sd_bus_message* m) {
        check(sd_bus_message_append(m, "sa{sv}", kMissingId.c_str(), 0), "append");
    });
    EXPECT_EQ(result.error_name, kError + "ImageNotFound");
}

/// A bound AF_UNIX socket of `type` at `path`.
UniqueFd bound_socket(const std::filesystem::path& path, int type) {
    UniqueFd fd(::socket(AF_UNIX, type | SOCK_CLOEXEC, 0));
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strncpy(address.sun_path, path.c_str(), sizeof address.sun_path - 1);
    if (!fd || ::bind(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
        throw std::runtime_error("bind " + path.string());
    }
    return fd;
}

// run() on this very thread, as the daemon's main() calls it: it tells systemd it is ready, and
// SIGTERM (blocked here, read from sd-event's signalfd) ends it with 0.
TEST(PeerRun, NotifiesReadinessAndStopsOnSigterm) {
    testing::TempDir dir;
    TestStore store;
    auto notify = bound_socket(dir.path() / "notify", SOCK_DGRAM);
    auto listener = bound_socket(dir.path() / "io.socket", SOCK_STREAM);
    ASSERT_EQ(::listen(listener.get(), 4), 0);
    ASSERT_EQ(::setenv("NOTIFY_SOCKET", (dir.path() / "notify").c_str(), 1), 0);

    service::Service service(store.config(), test_kernel());
    RunOptions options;
    options.listen_fd = listener.get();
    options.handle_signals = true;
    options.notify = true;
    bool ready = false;
    options.on_ready = [&] {
        ready = true;
        // Directed at this thread, where run() blocks it: only the event loop can take it.
        ::pthread_kill(::pthread_self(), SIGTERM);
    };
    const int code = run(service, options);
    ::unsetenv("NOTIFY_SOCKET");
    EXPECT_TRUE(ready);
    EXPECT_EQ(code, 0);

    std::vector<std::string> messages;
    char buffer[4096];
    ssize_t n = 0;
    while ((n = ::recv(notify.get(), buffer, sizeof buffer, MSG_DONTWAIT)) > 0) {
        messages.emplace_back(buffer, static_cast<std::size_t>(n));
    }
    ASSERT_EQ(messages.size(), 2u);
    EXPECT_THAT(messages[0], HasSubstr("READY=1\nSTATUS=Serving peer-to-peer"));
    EXPECT_THAT(messages[1], HasSubstr("STOPPING=1"));
}

}  // namespace
}  // namespace vmd::bus
