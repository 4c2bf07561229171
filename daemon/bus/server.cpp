#include "bus/server.hpp"

#include <pthread.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <memory>
#include <string>

#include "bus/dispatcher.hpp"
#include "bus/peer.hpp"
#include "bus/sd_ptr.hpp"
#include "bus/vtable.hpp"
#include "common/error.hpp"

namespace vmd::bus {
namespace {

constexpr std::uint64_t kUsecPerSecond = 1'000'000;

/// Blocks SIGTERM and SIGINT in this thread (sd-event reads them from a signalfd) and restores
/// the previous mask on destruction.
class BlockedSignals {
  public:
    BlockedSignals() {
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGTERM);
        sigaddset(&set, SIGINT);
        ::pthread_sigmask(SIG_BLOCK, &set, &previous_);
    }
    BlockedSignals(const BlockedSignals&) = delete;
    BlockedSignals& operator=(const BlockedSignals&) = delete;
    ~BlockedSignals() { ::pthread_sigmask(SIG_SETMASK, &previous_, nullptr); }

  private:
    sigset_t previous_{};
};

/// One run of the daemon: the event loop and everything attached to it, in destruction order.
class Server {
  public:
    Server(service::Service& service, const RunOptions& options)
        : service_(service), options_(options) {
        if (options.handle_signals) {
            signals_ = std::make_unique<BlockedSignals>();
        }
        sd_event* event = nullptr;
        check(sd_event_new(&event), "sd_event_new");
        event_.reset(event);
        if (options.handle_signals) {
            watch_signal(SIGTERM, signal_term_);
            watch_signal(SIGINT, signal_int_);
        }
        sd_event_source* source = nullptr;
        if (options.stop_fd >= 0) {
            check(sd_event_add_io(event, &source, options.stop_fd, EPOLLIN, on_stop, nullptr),
                  "watch stop fd");
            stop_source_.reset(source);
        }
        dispatcher_ = std::make_unique<Dispatcher>(service, event, options.inject_fault);
        if (options.listen_fd >= 0) {
            peers_ = std::make_unique<PeerListener>(event, options.listen_fd, *dispatcher_);
            description_ =
                "peer-to-peer on the listening socket fd " + std::to_string(options.listen_fd);
        } else {
            join_bus();
        }
        if (const unsigned idle = service.config().idle_exit_seconds; idle > 0) {
            check(sd_event_add_time_relative(event, &source, CLOCK_MONOTONIC, idle * kUsecPerSecond,
                                             0, on_idle_timer, this),
                  "idle timer");
            idle_source_.reset(source);
        }
    }

    int loop() {
        if (options_.notify) {
            sd_notifyf(0, "READY=1\nSTATUS=Serving %s", description_.c_str());
        }
        spdlog::info("serving {}", description_);
        if (options_.on_ready) {
            options_.on_ready();
        }
        int r = sd_event_loop(event_.get());
        if (options_.notify) {
            sd_notify(0, "STOPPING=1\nSTATUS=Stopping");
        }
        dispatcher_->drain();
        if (bus_) {
            sd_bus_flush(bus_.get());
        }
        if (r < 0) {
            spdlog::error("event loop: {}", std::strerror(-r));
            return 1;
        }
        return r;
    }

  private:
    void watch_signal(int signal, SourcePtr& slot) {
        sd_event_source* source = nullptr;
        check(sd_event_add_signal(event_.get(), &source, signal, on_signal, nullptr),
              "watch signal");
        slot.reset(source);
    }

    void join_bus() {
        sd_bus* raw = nullptr;
        if (options_.bus_address.empty()) {
            check(sd_bus_open_system(&raw), "connect to the system bus");
            bus_.reset(raw);
            description_ = "on the system bus";
        } else {
            check(sd_bus_new(&raw), "sd_bus_new");
            bus_.reset(raw);
            check(sd_bus_set_address(raw, options_.bus_address.c_str()), "bus address");
            check(sd_bus_set_bus_client(raw, 1), "bus client");
            check(sd_bus_negotiate_fds(raw, 1), "fd passing");
            check(sd_bus_start(raw), "connect to the bus");
            description_ = "on the bus at " + options_.bus_address;
        }
        check(sd_bus_set_exit_on_disconnect(raw, 1), "exit on disconnect");
        endpoint_ = Endpoint{dispatcher_.get(), std::nullopt};
        object_ = add_verity_mount_object(raw, endpoint_);
        filter_ = add_bus_filter(raw, endpoint_);
        check(sd_bus_attach_event(raw, event_.get(), SD_EVENT_PRIORITY_NORMAL), "attach bus");
        const int r = sd_bus_request_name(raw, kBusName.data(), 0);
        if (r < 0) {
            fail(Errc::Internal, "bus name {}: expected to own it, found {}", kBusName,
                 std::strerror(-r));
        }
    }

    static int on_stop(sd_event_source* source, int, uint32_t, void*) {
        spdlog::info("stop requested");
        return sd_event_exit(sd_event_source_get_event(source), 0);
    }

    static int on_signal(sd_event_source* source, const signalfd_siginfo* info, void*) {
        spdlog::info("SIG{} received, stopping", sigabbrev_np(static_cast<int>(info->ssi_signo)));
        return sd_event_exit(sd_event_source_get_event(source), 0);
    }

    /// Exits when idle long enough with nothing in flight and no peer connected; otherwise fires
    /// again when it could be.
    static int on_idle_timer(sd_event_source* source, uint64_t, void* userdata) {
        auto* self = static_cast<Server*>(userdata);
        const std::uint64_t limit = self->service_.config().idle_exit_seconds;
        std::uint64_t wait = limit;
        // A peer is accepted as it connects, before it has authenticated and sent its call:
        // exiting then would reset its connection. (A peer still in the listening socket's
        // backlog is fine: systemd starts the service again for it.)
        const bool peer_connected = self->peers_ && self->peers_->connections() > 0;
        if (!self->dispatcher_->busy() && !peer_connected) {
            const auto since_reply = std::chrono::duration_cast<std::chrono::seconds>(
                std::chrono::steady_clock::now() - self->dispatcher_->last_reply());
            const std::uint64_t idle = std::min<std::uint64_t>(
                self->service_.idle_seconds(), static_cast<std::uint64_t>(since_reply.count()));
            if (idle >= limit) {
                spdlog::info("idle for {} s, exiting", idle);
                return sd_event_exit(sd_event_source_get_event(source), 0);
            }
            wait = limit - idle;
        }
        sd_event_source_set_time_relative(source, wait * kUsecPerSecond);
        return sd_event_source_set_enabled(source, SD_EVENT_ONESHOT);
    }

    service::Service& service_;
    const RunOptions& options_;
    std::string description_;
    std::unique_ptr<BlockedSignals> signals_;  // first: the workers inherit the mask
    EventPtr event_;
    SourcePtr signal_term_;
    SourcePtr signal_int_;
    SourcePtr stop_source_;
    std::unique_ptr<Dispatcher> dispatcher_;
    std::unique_ptr<PeerListener> peers_;
    BusPtr bus_;
    Endpoint endpoint_;
    SlotPtr object_;
    SlotPtr filter_;
    SourcePtr idle_source_;
};

}  // namespace

int listen_fd_from_systemd() {
    const int n = sd_listen_fds(1);
    if (n == 0) {
        return -1;
    }
    if (n != 1) {
        fail(Errc::Internal, "LISTEN_FDS: expected one socket, found {}",
             n < 0 ? std::string(std::strerror(-n)) : std::to_string(n));
    }
    const int fd = SD_LISTEN_FDS_START;
    if (sd_is_socket_unix(fd, SOCK_STREAM, 1, nullptr, 0) <= 0) {
        fail(Errc::Internal,
             "LISTEN_FDS: expected a listening AF_UNIX stream socket, found another kind of fd");
    }
    return fd;
}

int run(service::Service& service, const RunOptions& options) {
    try {
        Server server(service, options);
        return server.loop();
    } catch (const std::exception& error) {
        spdlog::error("{}", error.what());
        return 1;
    }
}

}  // namespace vmd::bus
