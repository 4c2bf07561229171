// What every stress test shares: the size of the run (short for CI, full for the figures), the
// random seed (printed, and replayable with VMD_STRESS_SEED) and the run's nonce.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

namespace vmd::testing::stress {

/// The size of a run: VMD_STRESS=full gives the figures of the issue, anything else the short
/// variant that CI runs.
struct Scale {
    bool full = false;
    std::size_t load_requests = 0;  // calls of the load test, all clients together
    std::size_t kills = 0;          // kill -9 of the crash test
    std::size_t race_calls = 0;     // calls of the race test, all clients together
};

/// The scale of this run.
const Scale& scale();
/// The seed of this run's random choices (VMD_STRESS_SEED, else random; printed once).
std::uint64_t seed();
/// 16 hex digits unique to this run, written into every layer of the stress store.
const std::string& nonce();

/// Why the stress tests cannot run here ("" when they can): each test skips with this reason.
const std::string& namespace_problem();

/// How long a client waits for one reply before it calls the daemon hung.
inline constexpr std::chrono::microseconds kCallTimeout = std::chrono::seconds(120);

}  // namespace vmd::testing::stress
