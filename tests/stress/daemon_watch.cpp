#include "stress/daemon_watch.hpp"

#include <fstream>
#include <thread>

#include "stress/stress_bus.hpp"
#include "stress/stress_env.hpp"

namespace vmd::testing::stress {
namespace {

// Bounds of quiesce(): round trips while requests are still running (each a few µs to ms), and
// round trips once they are done for the bus thread to release what it still holds and the
// workers to close the layer mounts of their last Mount (each close waits out an RCU grace
// period, up to ~10 ms on a loaded machine).
constexpr int kMaxCounterRounds = 200000;
constexpr int kMaxReleaseRounds = 20000;

}  // namespace

Quiet quiesce(LoadTarget& target, pid_t pid) {
    Connection connection(target.address);
    Counters counters;
    int round = 0;
    for (; round < kMaxCounterRounds; ++round) {
        counters = connection.counters(kCallTimeout);
        if (counters.requests == counters.mounts + counters.refusals + target.verifies_ok.load()) {
            break;
        }
        std::this_thread::yield();
    }
    if (round == kMaxCounterRounds) {
        return {"requests still in flight: " + std::to_string(counters.requests) + " requests, " +
                    std::to_string(counters.mounts) + " mounts, " +
                    std::to_string(counters.refusals) + " refusals, " +
                    std::to_string(target.verifies_ok.load()) + " verified",
                holdings_of(pid)};
    }
    ProcessHoldings holdings;
    for (round = 0; round < kMaxReleaseRounds; ++round) {
        holdings = holdings_of(pid);
        if (holdings.memfds == 0 && holdings.loop_fds == 0 && holdings.mount_fds == 0 &&
            holdings.sockets <= target.idle_sockets) {
            return {"", holdings};
        }
        connection.counters(kCallTimeout);
    }
    return {"still holding after " + std::to_string(kMaxReleaseRounds) +
                " round trips: " + describe(holdings),
            holdings};
}

std::string describe(const ProcessHoldings& holdings) {
    return "fds " + std::to_string(holdings.fds) + " (memfds " + std::to_string(holdings.memfds) +
           ", loop devices " + std::to_string(holdings.loop_fds) + ", sockets " +
           std::to_string(holdings.sockets) + "), mounts " + std::to_string(holdings.mounts) +
           ", RSS " + std::to_string(holdings.rss_kib) + " KiB";
}

std::string load_average() {
    std::ifstream in("/proc/loadavg");
    std::string one;
    std::string five;
    std::string fifteen;
    in >> one >> five >> fifteen;
    return one + " " + five + " " + fifteen;
}

}  // namespace vmd::testing::stress
