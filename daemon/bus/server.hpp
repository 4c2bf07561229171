// The D-Bus front of verity-mountd (DESIGN §4, §8a, §9): serves io.containers.VerityMount1 on the
// system bus or peer-to-peer on a socket passed by systemd, and translates calls to the service.
#pragma once

#include <functional>
#include <string>

#include "bus/faults.hpp"
#include "service/service.hpp"

namespace vmd::bus {

/// How run() serves.
struct RunOptions {
    /// A listening AF_UNIX stream socket to serve peer-to-peer D-Bus on (see
    /// listen_fd_from_systemd()); run() makes it non-blocking and does not close it.
    /// -1: take the name io.containers.VerityMount1 on a bus instead.
    int listen_fd = -1;
    /// Without listen_fd: the D-Bus address of the bus to join ("unix:path=…"); empty means the
    /// system bus (sd_bus_open_system, which honours DBUS_SYSTEM_BUS_ADDRESS).
    std::string bus_address;
    /// When this fd becomes readable (e.g. an eventfd another thread writes), run() stops and
    /// returns 0. -1: none. Not read, not closed.
    int stop_fd = -1;
    /// Stop on SIGTERM/SIGINT. Blocks both in the calling thread (and in the workers it starts)
    /// for the duration of run(); leave off when run() is not on the main thread.
    bool handle_signals = true;
    /// Tell systemd READY=1 and STATUS= once serving (a no-op without NOTIFY_SOCKET).
    bool notify = true;
    /// Called on the bus thread once serving (the bus name owned, or the socket watched).
    std::function<void()> on_ready;
    /// Tests only: fails steps of each call (see FaultPoint). The daemon leaves it empty.
    FaultInjector inject_fault;
};

/// The listening socket that systemd passed (LISTEN_FDS; the variables are then unset), or -1
/// when none was passed. Throws Error(Internal) when what was passed is not exactly one
/// listening AF_UNIX stream socket.
int listen_fd_from_systemd();

/// Serves `service` until stopped (stop_fd, SIGTERM/SIGINT: 0), until idle for
/// config().idle_exit_seconds with nothing in flight (when > 0: 0), or until the bus
/// disconnects (1). A set-up failure (no bus, the name already owned, …) is logged and gives 1.
/// Mount/Verify run on up to config().max_concurrent worker threads; requests still in flight
/// when it stops are finished and answered before it returns.
int run(service::Service& service, const RunOptions& options);

}  // namespace vmd::bus
