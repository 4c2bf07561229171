#include "bus/peer.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <utility>

#include "bus/vtable.hpp"
#include "common/error.hpp"

namespace vmd::bus {
namespace {

constexpr std::uint64_t kResumeUsec = 1'000'000;
constexpr int kMaxCallsBehindBegin = 1024;
constexpr int kSendBufferBytes = 256 * 1024;  // the kernel doubles it

}  // namespace

struct PeerListener::Connection {
    PeerListener* listener = nullptr;
    std::string unique_name;
    Endpoint endpoint;
    bool closed = false;
    bool running = false;            // authenticated, and what came with BEGIN processed
    std::uint64_t last_message = 0;  // PeerListener::messages_ when it last sent one; 0: never
    BusPtr bus;
    SlotPtr object;
    SlotPtr driver;
    SlotPtr filter;

    Connection() = default;
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;
    ~Connection() {
        // Requests in flight may still hold the bus: make sure nothing reaches this object.
        object.reset();
        driver.reset();
        filter.reset();
        if (bus) {
            sd_bus_detach_event(bus.get());
        }
    }
};

namespace {

// The part of org.freedesktop.DBus that bus clients call on connecting (sd-bus: Hello; sd-bus and
// sdbus-c++ proxies: AddMatch/RemoveMatch for signals, which this daemon never emits). The
// userdata is the connection's unique name.
int hello(sd_bus_message* call, void* userdata, sd_bus_error* error);
int match(sd_bus_message* call, void* userdata, sd_bus_error* error);

const sd_bus_vtable kDriverVtable[] = {
    SD_BUS_VTABLE_START(0),
    SD_BUS_METHOD_WITH_NAMES("Hello", "", "", "s", SD_BUS_PARAM(name), hello,
                             SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_NAMES("AddMatch", "s", SD_BUS_PARAM(rule), "", "", match,
                             SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_NAMES("RemoveMatch", "s", SD_BUS_PARAM(rule), "", "", match,
                             SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_VTABLE_END,
};

}  // namespace

PeerListener::PeerListener(sd_event* event, int listen_fd, Dispatcher& dispatcher)
    : event_(event), listen_fd_(listen_fd), dispatcher_(dispatcher) {
    const int flags = ::fcntl(listen_fd_, F_GETFL);
    if (flags < 0 || ::fcntl(listen_fd_, F_SETFL, flags | O_NONBLOCK) < 0) {
        fail_errno(Errc::Internal, errno, "listening socket");
    }
    check(sd_id128_randomize(&server_id_), "server id");

    sd_event_source* source = nullptr;
    check(sd_event_add_io(event_, &source, listen_fd_, EPOLLIN, on_accept, this), "watch socket");
    accept_source_.reset(source);
    check(sd_event_add_time_relative(event_, &source, CLOCK_MONOTONIC, kResumeUsec, 0, on_resume,
                                     this),
          "resume timer");
    resume_source_.reset(source);
    check(sd_event_source_set_enabled(source, SD_EVENT_OFF), "resume timer");
    check(sd_event_add_defer(event_, &source, on_reap, this), "reaper");
    reap_source_.reset(source);
    check(sd_event_source_set_enabled(source, SD_EVENT_OFF), "reaper");
    check(sd_event_add_post(event_, &source, on_authenticated, this), "authentication watch");
    authenticated_source_.reset(source);
    check(sd_event_source_set_enabled(source, SD_EVENT_OFF), "authentication watch");
}

PeerListener::~PeerListener() = default;

int PeerListener::on_accept(sd_event_source*, int, uint32_t, void* userdata) {
    static_cast<PeerListener*>(userdata)->accept_all();
    return 0;
}

void PeerListener::accept_all() {
    for (;;) {
        UniqueFd fd(::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
        if (!fd) {
            const int err = errno;
            if (err == EAGAIN || err == EWOULDBLOCK) {
                return;
            }
            if (err == EINTR || err == ECONNABORTED || err == EPROTO) {
                continue;
            }
            // Out of fds or memory: the socket stays readable, so stop watching it for a while.
            spdlog::warn("accept: {}", std::strerror(err));
            pause_accepting();
            return;
        }
        if (connections_.size() >= kMaxPeers) {
            evict_one();
        }
        try {
            add(std::move(fd));
        } catch (const std::exception& error) {
            spdlog::warn("peer connection refused: {}", error.what());
        }
    }
}

void PeerListener::evict_one() {
    // Hung-up peers not yet reaped go first, then those that never sent a message (oldest
    // first), then the longest silent: a flood of connections that say nothing never locks out
    // a caller that does.
    const auto victim = std::min_element(
        connections_.begin(), connections_.end(), [](const auto& a, const auto& b) {
            return std::pair(!a->closed, a->last_message) < std::pair(!b->closed, b->last_message);
        });
    spdlog::debug("peer {} dropped: {} connections open, the most allowed", (*victim)->unique_name,
                  connections_.size());
    connections_.erase(victim);
}

void PeerListener::drop(Connection& connection) {
    connection.closed = true;
    sd_event_source_set_enabled(reap_source_.get(), SD_EVENT_ONESHOT);
}

void PeerListener::add(UniqueFd fd) {
    ucred peer{};
    socklen_t size = sizeof peer;
    if (::getsockopt(fd.get(), SOL_SOCKET, SO_PEERCRED, &peer, &size) < 0) {
        fail_errno(Errc::Internal, errno, "SO_PEERCRED");
    }
    auto connection = std::make_unique<Connection>();
    connection->listener = this;
    connection->endpoint = Endpoint{&dispatcher_, peer};
    connection->unique_name = fmt::format(":1.{}", next_peer_++);

    sd_bus* raw = nullptr;
    check(sd_bus_new(&raw), "sd_bus_new");
    connection->bus.reset(raw);
    sd_bus* bus = raw;
    check(sd_bus_set_fd(bus, fd.get(), fd.get()), "sd_bus_set_fd");
    [[maybe_unused]] int owned_by_bus = fd.release();
    check(sd_bus_set_server(bus, 1, server_id_), "sd_bus_set_server");
    check(sd_bus_negotiate_fds(bus, 1), "sd_bus_negotiate_fds");

    connection->object = add_verity_mount_object(bus, connection->endpoint);
    sd_bus_slot* slot = nullptr;
    check(sd_bus_add_object_vtable(bus, &slot, "/org/freedesktop/DBus", "org.freedesktop.DBus",
                                   kDriverVtable, &connection->unique_name),
          "register the bus driver");
    connection->driver.reset(slot);
    check(sd_bus_add_filter(bus, &slot, on_message, connection.get()), "add filter");
    connection->filter.reset(slot);

    check(sd_bus_start(bus), "sd_bus_start");
    // sd-bus raises the send buffer to 8 MiB: as much unread reply data per peer. Keep the
    // kernel's part small; what does not fit waits in sd-bus's queue, which on_message bounds.
    const int send_buffer = kSendBufferBytes;
    if (::setsockopt(sd_bus_get_fd(bus), SOL_SOCKET, SO_SNDBUF, &send_buffer, sizeof send_buffer) <
        0) {
        fail_errno(Errc::Internal, errno, "SO_SNDBUF");
    }
    check(sd_bus_attach_event(bus, event_, SD_EVENT_PRIORITY_NORMAL), "attach peer");
    spdlog::debug("peer {} connected (uid {}, pid {})", connection->unique_name, peer.uid,
                  peer.pid);
    connections_.push_back(std::move(connection));
    sd_event_source_set_enabled(authenticated_source_.get(), SD_EVENT_ON);
}

void PeerListener::pause_accepting() {
    sd_event_source_set_enabled(accept_source_.get(), SD_EVENT_OFF);
    if (sd_event_source_set_time_relative(resume_source_.get(), kResumeUsec) >= 0) {
        sd_event_source_set_enabled(resume_source_.get(), SD_EVENT_ONESHOT);
    }
}

int PeerListener::on_resume(sd_event_source*, uint64_t, void* userdata) {
    auto* self = static_cast<PeerListener*>(userdata);
    sd_event_source_set_enabled(self->accept_source_.get(), SD_EVENT_ON);
    return 0;
}

int PeerListener::on_message(sd_bus_message* message, void* userdata, sd_bus_error*) {
    auto* connection = static_cast<Connection*>(userdata);
    PeerListener& listener = *connection->listener;
    if (sd_bus_message_is_signal(message, "org.freedesktop.DBus.Local", "Disconnected") > 0) {
        listener.drop(*connection);
        return 0;
    }
    if (connection->closed) {
        return 1;  // being dropped: nothing more of it is dispatched
    }
    connection->last_message = ++listener.messages_;
    // sd-bus queues what the peer does not read, without a useful bound: a peer that keeps
    // calling but stops reading is dropped before its replies fill the daemon's memory.
    std::uint64_t queued = 0;
    if (sd_bus_get_n_queued_write(connection->bus.get(), &queued) >= 0 &&
        queued > kMaxQueuedReplies) {
        spdlog::warn("peer {} dropped: {} replies queued that it does not read",
                     connection->unique_name, queued);
        listener.drop(*connection);
        return 1;
    }
    return refuse_wrong_signature(message, connection->endpoint);
}

// sd-bus (252) reads the authentication lines in large chunks: a first call sent right behind
// BEGIN (libdbus and godbus clients do that) lands in its buffer, and it looks at that buffer
// again only when more bytes arrive — the caller would wait forever. So once a connection is
// authenticated, what it buffered is processed here, after the event loop turn that finished
// the authentication.
int PeerListener::on_authenticated(sd_event_source* source, void* userdata) {
    auto* self = static_cast<PeerListener*>(userdata);
    bool waiting = false;
    for (auto& connection : self->connections_) {
        if (connection->running || connection->closed) {
            continue;
        }
        sd_bus* bus = connection->bus.get();
        if (sd_bus_is_ready(bus) <= 0) {
            waiting = true;
            continue;
        }
        connection->running = true;
        // Only what was read with the authentication lines can be stuck (after them, sd-bus
        // reads one message at a time): a few KiB, far fewer messages than the bound.
        for (int i = 0; i < kMaxCallsBehindBegin && sd_bus_process(bus, nullptr) > 0; ++i) {
        }
    }
    if (!waiting) {
        sd_event_source_set_enabled(source, SD_EVENT_OFF);
    }
    return 0;
}

int PeerListener::on_reap(sd_event_source*, void* userdata) {
    static_cast<PeerListener*>(userdata)->reap();
    return 0;
}

void PeerListener::reap() {
    const std::size_t before = connections_.size();
    std::erase_if(connections_, [](const auto& connection) {
        if (connection->closed) {
            spdlog::debug("peer {} hung up", connection->unique_name);
        }
        return connection->closed;
    });
    if (connections_.size() < before) {
        sd_event_source_set_enabled(accept_source_.get(), SD_EVENT_ON);
    }
}

namespace {

int hello(sd_bus_message* call, void* userdata, sd_bus_error*) {
    const auto* unique_name = static_cast<const std::string*>(userdata);
    return sd_bus_reply_method_return(call, "s", unique_name->c_str());
}

int match(sd_bus_message* call, void*, sd_bus_error*) {
    return sd_bus_reply_method_return(call, "");
}

}  // namespace

}  // namespace vmd::bus
