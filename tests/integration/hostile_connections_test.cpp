// Hostile connections, over the system bus and the peer-to-peer socket: floods of connections
// that never say anything, a caller that keeps calling but stops reading its socket, callers
// that leave before their reply, that want no reply, that cannot receive the rootfs fd. Each is
// answered with a typed error or dropped; the daemon keeps serving others and holds nothing of
// them afterwards.
#include <gmock/gmock.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cstring>
#include <list>

#include "hostile_support.hpp"

namespace vmd::testing::hostile {
namespace {

class HostileConnections : public HostileCallers {};

using ::testing::HasSubstr;

/// A plain AF_UNIX connection to `path` that says nothing.
UniqueFd silent_connection(const std::filesystem::path& path) {
    UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strncpy(address.sun_path, path.c_str(), sizeof address.sun_path - 1);
    if (!fd || ::connect(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
        throw std::runtime_error("connect " + path.string() + ": " + std::strerror(errno));
    }
    return fd;
}

/// Sends Mount of the sample image on `bus` expecting a reply, and returns without waiting.
void send_mount(sd_bus* bus) {
    bc::MessagePtr call(new_call(bus, "Mount"));
    ok(sd_bus_message_append(call.get(), "ssa{sv}", std::string(kDemoName).c_str(), "", 0),
       "append");
    std::uint64_t cookie = 0;  // a cookie: the call expects a reply
    ok(sd_bus_send(bus, call.get(), &cookie), "send");
    ok(sd_bus_flush(bus), "flush");
}

TEST_P(HostileConnections, FloodOfSilentConnectionsLocksNobodyOut) {
    // The peer-to-peer listener holds at most 256 connections: 400 arrive there, half of them
    // not even authenticating. On the bus, dbus-daemon guards itself (at most 64 connections
    // in authentication, 256 per user): stay below its limits, the daemon is not involved.
    const bool peer = GetParam() == Transport::PeerToPeer;
    const std::size_t silent_count = peer ? 200 : 40;
    const std::size_t authenticated_count = peer ? 200 : 150;
    rlimit limit{};
    ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &limit), 0);
    ASSERT_GT(limit.rlim_cur, silent_count + authenticated_count + 100)
        << "raise the fd limit to run this test";
    {
        std::list<UniqueFd> silent;
        std::list<wire::RawPeer> authenticated;
        for (std::size_t i = 0; i < silent_count; ++i) {
            silent.push_back(silent_connection(socket()));
        }
        for (std::size_t i = 0; i < authenticated_count; ++i) {
            authenticated.push_back(raw_peer());
        }
        expect_mount_works();
        if (peer) {
            EXPECT_LE(open_fd_count(pid_), baseline_fds_ + 256);
        } else {
            EXPECT_LE(open_fd_count(pid_), baseline_fds_);  // the bus holds them, not the daemon
        }
    }
    expect_unharmed();
}

TEST_P(HostileConnections, CallerThatStopsReadingIsDroppedOrQueuedElsewhere) {
    const bool peer = GetParam() == Transport::PeerToPeer;
    {
        auto reader_on_strike = raw_peer();
        wire::Call get_status;
        get_status.member = "GetStatus";
        std::size_t sent = 0;
        if (peer) {
            // Blocking sends: the daemon reads each call and queues its reply, until it drops
            // this connection (the send that fails).
            try {
                for (; sent < 5000; ++sent) {
                    reader_on_strike.send(get_status);
                }
            } catch (const std::runtime_error&) {
            }
        } else {
            // dbus-daemon pushes back on a reader on strike: it stops reading from it in turn.
            while (sent < 5000 && reader_on_strike.try_send(get_status)) {
                ++sent;
            }
        }
        // The daemon's own loop was never blocked: another caller is served meanwhile.
        expect_mount_works();
        if (peer) {
            // Dropped once its unread replies passed the bound, long before 5000.
            EXPECT_LT(sent, 5000u);
            EXPECT_TRUE(reader_on_strike.closed_by_peer());
        } else {
            EXPECT_GT(sent, 100u);
        }
    }
    expect_unharmed();
}

TEST_P(HostileConnections, CallersThatLeaveBeforeTheirReplyLeaveNothing) {
    const auto requests = counter("requests");
    constexpr int kLeavers = 10;
    for (int i = 0; i < kLeavers; ++i) {
        auto leaver = bc::connect(address());
        send_mount(leaver.get());
    }  // each connection closed right after its call
    // Every Mount ran to its end (a mount made, its reply undeliverable) and nothing remains.
    EXPECT_TRUE(until([&] { return counter("requests") >= requests + kLeavers; }))
        << counter("requests") - requests << " of " << kLeavers << " answered";
    expect_unharmed();
}

TEST_P(HostileConnections, MountThatWantsNoReplyLeavesNothing) {
    const auto mounts = counter("mounts");
    {
        auto peer = raw_peer();
        wire::Writer body;
        body.string(kDemoName);
        body.string("");
        body.empty_array(8);
        wire::Call call;
        call.member = "Mount";
        call.signature = "ssa{sv}";
        call.body = body.bytes();
        call.expect_reply = false;
        peer.send(call);
        EXPECT_TRUE(until([&] { return counter("mounts") > mounts; }));
    }
    expect_unharmed();
}

TEST_P(HostileConnections, MountOverAConnectionWithoutFdPassingIsRefused) {
    auto no_fds = bc::connect(address(), true, /*fds=*/false);
    auto result = bc::call(no_fds.get(), "Mount", [](sd_bus_message* m) {
        ok(sd_bus_message_append(m, "ssa{sv}", std::string(kDemoName).c_str(), "", 0), "append");
    });
    // Peer-to-peer, the daemon sees it before it starts; on a bus only dbus-daemon knows, and
    // refuses the reply that carries the rootfs: the daemon answers the call again, with this.
    EXPECT_EQ(result.error_name, kError + "InvalidArgument");
    EXPECT_THAT(result.error_message,
                HasSubstr("expected one that passes file descriptors, found one that does not"));
    // Verify needs no fd and works over the same connection.
    result = bc::call(no_fds.get(), "Verify", [](sd_bus_message* m) {
        ok(sd_bus_message_append(m, "sa{sv}", std::string(kDemoName).c_str(), 0), "append");
    });
    EXPECT_EQ(result.error_name, "") << result.error_message;
    no_fds.reset();
    expect_unharmed();
}

INSTANTIATE_TEST_SUITE_P(Hostile, HostileConnections,
                         ::testing::Values(Transport::SystemBus, Transport::PeerToPeer),
                         transport_name);

}  // namespace
}  // namespace vmd::testing::hostile
