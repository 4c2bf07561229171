// The bus side of a request: who is calling, decoding, a request slot, a worker thread for the
// service call, and the reply back on the bus thread.
#pragma once

#include <sys/socket.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "bus/faults.hpp"
#include "bus/sd_ptr.hpp"
#include "bus/worker_pool.hpp"
#include "common/error.hpp"
#include "common/unique_fd.hpp"
#include "service/service.hpp"

namespace vmd::bus {

class Dispatcher;

/// One connection's view of its callers: the vtable userdata of the VerityMount1 object.
struct Endpoint {
    Dispatcher* dispatcher = nullptr;
    /// Peer-to-peer: the socket's SO_PEERCRED, taken at accept. Unset on the system bus, where
    /// each message's sender is asked about.
    std::optional<ucred> peer;
};

/// Runs the methods of io.containers.VerityMount1. Every member is called on the bus thread,
/// except the service calls, which run on the worker threads and touch no sd-bus object.
///
/// Every call read is answered exactly once and audited exactly once, with one elapsed_us
/// (from reading the call to sending the reply). Whatever fails on the way — a thread that
/// cannot start, an allocation, a reply that cannot be built or sent — the call leaves no
/// pending entry, request slot or rootfs fd behind.
class Dispatcher {
  public:
    /// Registers the completion eventfd with `event`; `inject` fails steps in tests (empty:
    /// never). Throws Error(Internal) on failure.
    Dispatcher(service::Service& service, sd_event* event, FaultInjector inject = {});
    Dispatcher(const Dispatcher&) = delete;
    Dispatcher& operator=(const Dispatcher&) = delete;
    ~Dispatcher();

    /// Mount(s image, s container, a{sv} options) -> (h rootfs, a{sv} info), answered later.
    int mount(sd_bus_message* call, const Endpoint& endpoint) noexcept;
    /// Verify(s image, a{sv} options) -> a{sv} report, answered later.
    int verify(sd_bus_message* call, const Endpoint& endpoint) noexcept;
    /// GetStatus() -> a{sv} status, answered at once (not a counted request).
    int get_status(sd_bus_message* call, const Endpoint& endpoint) noexcept;

    /// Refuses a call of `method` whose arguments are not `expected` (a D-Bus signature):
    /// InvalidArgument, audited and counted like any refusal. Returns 1.
    int wrong_signature(sd_bus_message* call, const Endpoint& endpoint, std::string_view method,
                        std::string_view expected) noexcept;

    /// dbus-daemon refused to pass on the reply `reply_cookie` (a Mount reply: its fd, to a
    /// caller whose connection cannot receive fds). Answers that Mount with InvalidArgument, as
    /// peer-to-peer does up front (on a bus only the bus knows what the caller negotiated).
    void reply_refused(std::uint64_t reply_cookie) noexcept;

    /// Whether a request is in flight (its reply not yet sent).
    bool busy() const { return !pending_.empty(); }
    /// When the last request in flight was answered (or when this was created).
    std::chrono::steady_clock::time_point last_reply() const { return last_reply_; }

    /// Lets every request in flight finish and sends its reply; no request may follow.
    void drain();

  private:
    struct Work;
    using Clock = std::chrono::steady_clock;

    /// The caller of `call`: the socket's peer on peer-to-peer; on a bus, the sender's
    /// credentials, asked of the bus once per connection (unique name).
    service::Caller caller_of(sd_bus_message* call, const Endpoint& endpoint);
    /// Authorizes and decodes `call`, takes a slot and hands it to a worker; a refusal is
    /// answered at once.
    int start(sd_bus_message* call, const Endpoint& endpoint, std::string_view method) noexcept;
    void submit(sd_bus_message* call, const std::shared_ptr<Work>& work);
    void run(Work& work) noexcept;
    void finished(std::shared_ptr<Work> work) noexcept;
    void send_replies() noexcept;
    void answer(sd_bus_message* call, Work& work) noexcept;
    void send_result(sd_bus_message* call, Work& work);
    void remember_fd_reply(std::uint64_t cookie, sd_bus_message* call) noexcept;
    /// Audits and counts `error` as the end of `request`, then sends it to `call`.
    void refuse(sd_bus_message* call, const service::Request& request, const Error& error,
                Clock::time_point started) noexcept;
    static int on_completion(sd_event_source* source, int fd, uint32_t events, void* userdata);
    static int on_trim_timer(sd_event_source* source, uint64_t usec, void* userdata);

    service::Service& service_;
    FaultInjector inject_;
    UniqueFd completion_fd_;
    SourcePtr completion_source_;
    static constexpr std::uint64_t kTrimAfterUsec = 1'000'000;
    SourcePtr trim_source_;  // malloc_trim once idle for kTrimAfterUsec
    std::uint64_t next_id_ = 1;
    std::unordered_map<std::uint64_t, MessagePtr> pending_;  // id -> the call to answer
    static constexpr std::size_t kMaxKnownCallers = 256;
    std::unordered_map<std::string, service::Caller> callers_;  // unique bus name -> caller
    Clock::time_point last_reply_;
    // Mount replies sent with an fd on a bus, newest last: dbus-daemon may refuse to pass one on.
    std::deque<std::pair<std::uint64_t, MessagePtr>> fd_replies_;  // reply cookie -> the call
    std::mutex done_mutex_;
    std::shared_ptr<Work> done_;  // finished by the workers, not yet answered: a list
    WorkerPool pool_;             // last: joined before the rest is destroyed
};

/// Sends `error` as the reply to `call` (when it expects one); returns 1. Never throws: when
/// even that cannot be built, sd-bus's own out-of-memory error goes instead.
int reply_error(sd_bus_message* call, const Error& error) noexcept;

}  // namespace vmd::bus
