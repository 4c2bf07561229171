// Load (issue 10 item 5): 8 clients — 6 on a real dbus-daemon, 2 on the daemon's peer-to-peer
// socket — send a mix of good mounts, Verify calls, every refusal that bad input can cause, bursts
// past max_concurrent and calls they hang up on. Every reply is checked; at the end neither daemon
// holds an fd, memfd, loop device or mount more than after the warm-up, no loop device serves the
// store's blobs, and RSS grew at most 1 MiB over the second half of the run.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <iostream>
#include <thread>

#include "daemon_env.hpp"
#include "integration/system_support.hpp"
#include "stress/daemon_watch.hpp"
#include "stress/load_client.hpp"
#include "stress/stress_bus.hpp"
#include "stress/stress_env.hpp"
#include "stress/stress_store.hpp"

namespace vmd::testing::stress {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t kClients = 8;
constexpr std::size_t kPeerClients = 2;
constexpr unsigned kBusMaxConcurrent = 8;
constexpr unsigned kPeerMaxConcurrent = 4;
constexpr std::uint64_t kMaxRssGrowthKib = 1024;

/// One daemon under load: where to reach it, its pid, and what it held at each checkpoint.
struct Served {
    std::string name;
    LoadTarget target;
    pid_t pid = -1;
    ProcessHoldings baseline;
    ProcessHoldings half;
    ProcessHoldings end;
    std::vector<std::uint64_t> rss_kib;  // at the end of each tenth of the run
};

class Load : public ::testing::Test {
  protected:
    void SetUp() override {
        if (!namespace_problem().empty()) {
            GTEST_SKIP() << namespace_problem();
        }
        env_.emplace(
            stress_store_spec(nonce(), kClients),
            std::vector<std::pair<std::string, std::string>>{
                {"verity", "\"off\""}, {"max_concurrent", std::to_string(kBusMaxConcurrent)}});
        damage_store(env_->store());
        // The peer daemon: the same store, its own config, a socket uid 65534 may reach too.
        const auto peer_dir = env_->dir() / "peer";
        fs::create_directories(peer_dir);
        // The thread that calls as uid 65534 keeps gid 0: the group bits count too.
        for (const auto& dir : {env_->dir(), peer_dir}) {
            fs::permissions(dir,
                            fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec);
        }
        sys::write_config(
            env_->store(), peer_dir / "verity-mountd.json",
            {{"verity", "\"off\""}, {"max_concurrent", std::to_string(kPeerMaxConcurrent)}});
        peer_.emplace(peer_dir, peer_dir / "verity-mountd.json", std::vector<std::string>{},
                      std::vector<std::string>{}, peer_dir / "daemon.log");
        fs::permissions(peer_->socket_path(), fs::perms::all);

        bus_.name = "daemon on the bus";
        bus_.target.address = env_->address();
        bus_.target.max_concurrent = kBusMaxConcurrent;
        bus_.target.idle_sockets = 1;
        bus_.pid = env_->daemon().pid();
        peer_served_.name = "daemon on the peer-to-peer socket";
        peer_served_.target.address = peer_->address();
        peer_served_.target.max_concurrent = kPeerMaxConcurrent;
        peer_served_.target.idle_sockets = 2;
        bus_.target.fs_verity = Connection(bus_.target.address).kernel_fs_verity(kCallTimeout);
        // The first connection starts the peer daemon, as systemd's socket unit would.
        peer_served_.target.fs_verity =
            Connection(peer_served_.target.address).kernel_fs_verity(kCallTimeout);
        peer_served_.pid = peer_->daemon_pid();
    }

    /// Runs every client until `calls` reaches `until`; returns what they saw.
    ClientTally run_phase(std::size_t until, std::uint64_t phase) {
        std::vector<ClientTally> tallies(kClients);
        std::vector<std::thread> threads;
        for (std::size_t i = 0; i < kClients; ++i) {
            auto& served = i < kClients - kPeerClients ? bus_ : peer_served_;
            threads.emplace_back([&, i] {
                run_load_client(env_->store(), served.target, i, seed() + phase * 1000 + i, calls_,
                                until, tallies[i]);
            });
        }
        for (auto& thread : threads) {
            thread.join();
        }
        ClientTally total;
        for (const auto& tally : tallies) {
            total.add(tally);
        }
        return total;
    }

    /// Waits until nothing is in flight at either daemon, then records what each holds (into
    /// `slot`, unless null) and, after the warm-up, its RSS.
    void checkpoint(ProcessHoldings Served::*slot) {
        for (Served* served : {&bus_, &peer_served_}) {
            auto quiet = quiesce(served->target, served->pid);
            EXPECT_EQ(quiet.problem, "") << served->name;
            if (slot != &Served::baseline) {
                served->rss_kib.push_back(quiet.holdings.rss_kib);
            }
            if (slot != nullptr) {
                served->*slot = std::move(quiet.holdings);
            }
        }
    }

    std::optional<DaemonEnv> env_;
    std::optional<sys::SocketActivated> peer_;
    Served bus_;
    Served peer_served_;
    std::atomic<std::size_t> calls_{0};
};

void print_tally(const ClientTally& tally) {
    std::cout << "  outcomes:";
    for (const auto& [key, n] : tally.outcomes) {
        std::cout << " " << key << " " << n << ";";
    }
    std::cout << "\n  Busy in bursts " << tally.burst_busy << ", Busy then sent again "
              << tally.busy_retries << ", callers that hung up before the reply " << tally.hang_ups
              << "\n";
}

TEST_F(Load, EightClientsMixedCallsEveryReplyRightNothingLeaked) {
    const std::size_t total = scale().load_requests;
    const auto started = std::chrono::steady_clock::now();
    ClientTally all = run_phase(std::max<std::size_t>(total / 50, 200), 0);
    checkpoint(&Served::baseline);
    constexpr std::size_t kTenths = 10;
    for (std::size_t tenth = 1; tenth <= kTenths; ++tenth) {
        all.add(run_phase(total * tenth / kTenths, tenth));
        checkpoint(tenth == kTenths / 2 ? &Served::half
                   : tenth == kTenths   ? &Served::end
                                        : nullptr);
    }
    const auto seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

    std::cout << "stress load: " << all.calls << " calls from " << kClients << " clients ("
              << kPeerClients << " on the peer-to-peer socket) in " << seconds << " s, "
              << static_cast<double>(all.calls) / seconds << " calls/s; load average "
              << load_average() << "\n";
    print_tally(all);
    for (const Served* served : {&bus_, &peer_served_}) {
        std::cout << "  " << served->name << ": after warm-up " << describe(served->baseline)
                  << "\n    at half " << describe(served->half) << "\n    at end  "
                  << describe(served->end) << "\n    RSS growth over the second half: "
                  << static_cast<std::int64_t>(served->end.rss_kib) -
                         static_cast<std::int64_t>(served->half.rss_kib)
                  << " KiB\n    RSS (KiB) at each tenth of the run:";
        for (auto kib : served->rss_kib) {
            std::cout << " " << kib;
        }
        std::cout << "\n";
    }
    const auto loops = loops_serving(env_->store());
    std::cout << "  loop devices still serving the store's blobs: " << loops.size() << "\n";

    for (const auto& failure : all.failures) {
        ADD_FAILURE() << failure;
    }
    EXPECT_GE(all.calls, total);
    for (const char* name :
         {"AccessDenied", "InvalidArgument", "ImageNotFound", "ContainerNotFound", "StorageCorrupt",
          "PolicyInvalid", "PolicyRejected", "SignatureRequired", "SignatureInvalid",
          "VerityMissing", "VerityMismatch", "MountFailed", "Busy", "ok Mount", "ok Verify"}) {
        EXPECT_GT(all.outcomes[name], 0u) << name << " never came back";
    }
    if (!bus_.target.fs_verity) {
        EXPECT_GT(all.outcomes["KernelUnsupported"], 0u);
    }
    EXPECT_EQ(all.outcomes["Internal"], 0u);
    EXPECT_GT(all.burst_busy, 0u) << "no burst ever found the daemon full";
    for (const Served* served : {&bus_, &peer_served_}) {
        EXPECT_EQ(served->end.fds, served->baseline.fds)
            << served->name << ": " << describe_growth(served->baseline, served->end);
        EXPECT_EQ(served->end.sockets, served->target.idle_sockets) << served->name;
        EXPECT_EQ(served->end.memfds, 0u) << served->name;
        EXPECT_EQ(served->end.loop_fds, 0u) << served->name;
        EXPECT_EQ(served->end.mounts, served->baseline.mounts) << served->name;
        EXPECT_LE(served->end.rss_kib, served->half.rss_kib + kMaxRssGrowthKib) << served->name;
    }
    EXPECT_TRUE(loops.empty()) << loops.front();
}

}  // namespace
}  // namespace vmd::testing::stress
