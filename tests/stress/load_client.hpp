// One client of the load test: a loop of randomly chosen calls — good mounts (read-only and of
// its own containers) whose fds it checks and closes, Verify calls, every refusal that bad input
// can cause, bursts past max_concurrent, calls it hangs up on — each reply checked in full.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "fixtures/store_builder.hpp"

namespace vmd::testing::stress {

/// What the clients of one daemon share.
struct LoadTarget {
    std::string address;  // the private bus, or the daemon's peer-to-peer socket
    /// Calls sent to this daemon that ended in a successful Verify: with the daemon's counters,
    /// this tells when nothing is in flight (requests == mounts + refusals + verifies).
    std::atomic<std::uint64_t> verifies_ok{0};
    /// Whether the daemon's kernel and store have fs-verity (then enforce is not refused).
    bool fs_verity = false;
    /// max_concurrent of this daemon: bursts send more than that at once.
    unsigned max_concurrent = 0;
    /// The sockets the daemon holds when no client is connected: its bus connection, or its
    /// listening socket and the one connection that looks (see quiesce()).
    std::size_t idle_sockets = 0;
};

/// What one client saw.
struct ClientTally {
    std::map<std::string, std::uint64_t> outcomes;  // "ok Mount", "ok Verify" or an error name
    std::uint64_t calls = 0;
    std::uint64_t busy_retries = 0;  // Busy answers to calls sent one at a time, then retried
    std::uint64_t burst_busy = 0;    // Busy answers within bursts
    std::uint64_t hang_ups = 0;      // calls whose caller left before the reply
    std::vector<std::string> failures;

    /// Adds `other` into this tally.
    void add(const ClientTally& other);
};

/// Runs client `index` against `target` until `calls` (shared by all clients) reaches `until`.
/// Never throws: a broken expectation is a failure in the tally.
void run_load_client(const BuiltStore& store, LoadTarget& target, std::size_t index,
                     std::uint64_t seed, std::atomic<std::size_t>& calls, std::size_t until,
                     ClientTally& tally);

}  // namespace vmd::testing::stress
