// Waiting for a daemon to have nothing in flight, and judging what it holds afterwards.
#pragma once

#include <sys/types.h>

#include <string>

#include "fixtures/process_probe.hpp"
#include "stress/load_client.hpp"

namespace vmd::testing::stress {

/// Where a daemon stands once nothing is in flight.
struct Quiet {
    std::string problem;  // "" when it got there
    ProcessHoldings holdings;
};

/// Waits until every call sent to `target` has been answered or abandoned by the daemon (pid
/// `pid`): its counters say requests == mounts + refusals + successful verifies, and it holds no
/// memfd, no loop device and no socket beyond target.idle_sockets (each check is one GetStatus
/// round trip, which also lets its bus thread send what workers finished and drop peers that hung
/// up). The holdings are taken while the connection this uses is open: on the peer-to-peer
/// socket it is one of the daemon's fds.
Quiet quiesce(LoadTarget& target, pid_t pid);

/// The figures of one daemon at one moment, for the report.
std::string describe(const ProcessHoldings& holdings);

/// The load average, as /proc/loadavg says it (figures measured now are noisy; print it beside).
std::string load_average();

}  // namespace vmd::testing::stress
