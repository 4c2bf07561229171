// Peer-to-peer D-Bus on a listening socket (the one verity-mountd.socket passes): every accepted
// connection is an sd-bus server connection with the VerityMount1 object and a minimal bus driver.
#pragma once

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>
#include <systemd/sd-id128.h>

#include <cstdint>
#include <list>
#include <memory>

#include "bus/dispatcher.hpp"
#include "bus/sd_ptr.hpp"
#include "common/unique_fd.hpp"

namespace vmd::bus {

/// Accepts connections on a listening AF_UNIX stream socket and serves each one until its peer
/// hangs up. A peer that misbehaves only loses its own connection: at most kMaxPeers are open
/// (one more evicts the one silent longest), and a peer with more than kMaxQueuedReplies
/// replies it does not read is dropped.
class PeerListener {
  public:
    static constexpr std::size_t kMaxPeers = 256;
    static constexpr std::uint64_t kMaxQueuedReplies = 64;

    /// Watches `listen_fd` (made non-blocking; not closed here) on `event`. Throws Error(Internal).
    PeerListener(sd_event* event, int listen_fd, Dispatcher& dispatcher);
    PeerListener(const PeerListener&) = delete;
    PeerListener& operator=(const PeerListener&) = delete;
    ~PeerListener();

    /// The number of open connections.
    std::size_t connections() const { return connections_.size(); }

  private:
    struct Connection;

    void accept_all();
    void add(UniqueFd fd);
    void evict_one();
    void drop(Connection& connection);
    void pause_accepting();
    void reap();
    static int on_accept(sd_event_source* source, int fd, uint32_t events, void* userdata);
    static int on_resume(sd_event_source* source, uint64_t usec, void* userdata);
    static int on_reap(sd_event_source* source, void* userdata);
    static int on_authenticated(sd_event_source* source, void* userdata);
    static int on_message(sd_bus_message* message, void* userdata, sd_bus_error* error);

    sd_event* event_;
    int listen_fd_;
    Dispatcher& dispatcher_;
    sd_id128_t server_id_{};
    std::uint64_t next_peer_ = 1;
    std::uint64_t messages_ = 0;  // messages received on every connection
    std::list<std::unique_ptr<Connection>> connections_;
    SourcePtr accept_source_;
    SourcePtr resume_source_;         // re-enables accepting after a pause (fd or peer limit)
    SourcePtr reap_source_;           // frees hung-up connections outside their own callbacks
    SourcePtr authenticated_source_;  // a post source while a connection authenticates
};

}  // namespace vmd::bus
