// Crashes (issue 10 item 6): the daemon is killed with SIGKILL again and again while two clients
// mount — on entry to a chosen system call of the mount path (opening store files, copying a
// blob into a memfd, loop device set-up, each fsopen/fsconfig/fsmount of the EROFS layers and the
// overlay, sending the reply), or after a random delay. It runs on the bus or the peer-to-peer
// socket, in the test's mount namespace or a private one (as under PrivateMounts=). After each
// kill: each caller got an error, not a hang; the namespace holds exactly the mounts it held
// before; no loop device serves the store's blobs; and the next daemon serves read-only and
// container mounts normally.
#include <gtest/gtest.h>
#include <signal.h>

#include <array>
#include <iostream>
#include <map>
#include <random>
#include <thread>

#include "daemon_env.hpp"
#include "fixtures/process_probe.hpp"
#include "stress/crash_support.hpp"
#include "stress/daemon_watch.hpp"
#include "stress/rootfs_check.hpp"
#include "stress/stress_bus.hpp"
#include "stress/stress_env.hpp"
#include "stress/stress_store.hpp"

namespace vmd::testing::stress {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr std::size_t kClients = 2;
// A client mounts at most this often in one daemon's life; the kill always comes earlier.
constexpr int kMountsPerLife = 40;
constexpr int kKilledExitCode = 128 + SIGKILL;
// Where Mount() can be hit; each is a system call the mount path makes (see the calibration).
constexpr std::array<const char*, 8> kPhases = {"openat2", "memfd_create", "copy_file_range",
                                                "ioctl",   "fsopen",       "fsconfig",
                                                "fsmount", "sendmsg"};

/// A mount a client asks for: read-only, or of its own container; at digest (memfd, loop device)
/// or off (the blob file itself).
CallSpec mount_call(std::size_t client, int n, bool digest) {
    CallSpec spec(true, image_name(Role::Good));
    if (n % 2 == 1) {
        spec.container = container_name(Role::Good, client);
    }
    spec.options.push_back(OptionArg::string("verity", digest ? "digest" : "off"));
    return spec;
}

/// "" when a successful Mount gave the Good image's rootfs; else what is wrong.
std::string check_mounted(const Outcome& outcome, bool writable) {
    if (!outcome.ok()) {
        return "expected a mount, found " + outcome.error_name + " " + outcome.error_message;
    }
    if (!is_overlay(outcome.rootfs.get()) || is_read_only(outcome.rootfs.get()) == writable) {
        return "expected a " + std::string(writable ? "writable" : "read-only") + " overlay";
    }
    if (read_below(outcome.rootfs.get(), "etc/stress-id") != stress_id(nonce(), Role::Good)) {
        return "the rootfs is not the Good image's";
    }
    return "";
}

/// How one client's part of one daemon's life ended.
struct ClientEnd {
    int mounts = 0;
    std::string error;  // the error that ended it ("" when it never got one)
    std::string problem;
};

void mount_until_error(const std::string& address, std::size_t client, std::uint64_t seed,
                       ClientEnd& end) {
    std::mt19937_64 rng(seed);
    try {
        Connection connection(address);
        for (int n = 0; n < kMountsPerLife; ++n) {
            auto outcome = connection.call(mount_call(client, n, rng() % 4 != 0), kCallTimeout);
            if (!outcome.ok()) {
                end.error = outcome.error_name + ": " + outcome.error_message;
                if (outcome.error_name == kTimedOut ||
                    outcome.error_name.starts_with("io.containers.VerityMount1.Error.")) {
                    end.problem = "expected the daemon's death as an error, found " + end.error;
                }
                return;
            }
            if (auto problem = check_mounted(outcome, n % 2 == 1); !problem.empty()) {
                end.problem = problem;
                return;
            }
            ++end.mounts;
        }
    } catch (const std::exception& error) {
        end.error = std::string("cannot connect: ") + error.what();  // it died first
    }
}

class Crash : public ::testing::Test {
  protected:
    void SetUp() override {
        if (!namespace_problem().empty()) {
            GTEST_SKIP() << namespace_problem();
        }
        if (run({"sh", "-c", "command -v strace"}).exit_code != 0) {
            FAIL() << "strace (Debian package strace) is not installed";
        }
        env_.emplace(stress_store_spec(nonce(), kClients, 2),
                     std::vector<std::pair<std::string, std::string>>{{"verity", "\"off\""}});
        env_->daemon().stop();  // each life below starts its own
    }

    /// "" when a fresh start serves a read-only and a container mount; else what failed.
    std::string serves_normally(const CrashDaemon& daemon) {
        Connection connection(daemon.address());
        for (int n = 0; n < 2; ++n) {
            auto problem =
                check_mounted(connection.call(mount_call(0, n, true), kCallTimeout), n == 1);
            if (!problem.empty()) {
                return problem;
            }
        }
        return "";
    }

    /// Per phase, the most calls one thread of the daemon makes for a read-only and a container
    /// mount; phases the mount path does not reach are left out.
    std::map<std::string, unsigned> calibrate() {
        CrashDaemon daemon(*env_, env_->dir() / "calibration", {});
        EXPECT_EQ(serves_normally(daemon), "");  // opens what a daemon opens once
        std::map<std::string, unsigned> counts;
        {
            SyscallCount count(daemon.pid(), {kPhases.begin(), kPhases.end()},
                               env_->dir() / "calibration.strace");
            EXPECT_EQ(serves_normally(daemon), "");
            counts = count.finish();
        }
        ::kill(daemon.pid(), SIGKILL);
        daemon.wait();
        std::erase_if(counts, [](const auto& entry) { return entry.second == 0; });
        return counts;
    }

    std::optional<DaemonEnv> env_;
};

TEST_F(Crash, KilledDuringMountLeavesNothingAndTheNextStartServes) {
    const auto phases = calibrate();
    ASSERT_FALSE(phases.empty()) << "strace saw none of the mount path's system calls";
    std::cout << "stress crash: calls per read-only + container mount, most by one thread:";
    for (const auto& [name, n] : phases) {
        std::cout << " " << name << " " << n << ";";
    }
    std::cout << "\n";

    std::mt19937_64 rng(seed());
    std::map<std::string, unsigned> kills_by_point;
    std::map<std::string, unsigned> caller_errors;
    unsigned mounts_served = 0;
    const auto started = Clock::now();
    for (std::size_t life = 0; life < scale().kills; ++life) {
        const DaemonMode mode{life % 4 >= 2, life % 2 == 1};
        CrashDaemon daemon(*env_, env_->dir() / ("life-" + std::to_string(life)), mode);
        const auto ready = Clock::now();
        ASSERT_EQ(serves_normally(daemon), "") << "start " << life << " after a kill";
        const auto mount_time = (Clock::now() - ready) / 2;
        const auto mount_namespace = keep_mount_namespace(daemon.pid());
        const auto mounts_before = mountinfo_in_namespace(mount_namespace.get());

        // Arm the kill: on a chosen system call (most lives), or after a random delay.
        std::optional<KillOnSyscall> on_syscall;
        std::string point;
        std::chrono::microseconds delay{0};
        if (rng() % 10 < 7) {
            auto phase = std::next(phases.begin(), static_cast<long>(rng() % phases.size()));
            const unsigned nth = 1 + static_cast<unsigned>(rng() % phase->second);
            point = phase->first;
            on_syscall.emplace(daemon.pid(), phase->first, nth);
        } else {
            const auto window =
                std::chrono::duration_cast<std::chrono::microseconds>(3 * mount_time);
            delay = std::chrono::microseconds(rng() % (window.count() + 1));
            point = "random delay";
        }
        std::array<ClientEnd, kClients> ends;
        std::vector<std::thread> clients;
        for (std::size_t c = 0; c < kClients; ++c) {
            clients.emplace_back(mount_until_error, daemon.address(), c, rng(), std::ref(ends[c]));
        }
        if (!on_syscall) {
            std::this_thread::sleep_for(delay);  // the random point, not a synchronisation
            ::kill(daemon.pid(), SIGKILL);
        }
        for (auto& client : clients) {
            client.join();
        }
        const bool killed_by_plan = ends[0].error.size() + ends[1].error.size() > 0;
        ::kill(daemon.pid(), SIGKILL);  // when the plan missed: fails below
        EXPECT_EQ(daemon.wait(), kKilledExitCode) << "life " << life;
        on_syscall.reset();
        ++kills_by_point[point];

        EXPECT_TRUE(killed_by_plan) << "life " << life << ": no kill within " << kMountsPerLife
                                    << " mounts per client (" << point << ")";
        for (const auto& end : ends) {
            EXPECT_EQ(end.problem, "") << "life " << life << " (" << point << ")";
            mounts_served += static_cast<unsigned>(end.mounts);
            ++caller_errors[end.error.substr(0, end.error.find(':'))];
        }
        EXPECT_EQ(added_lines(mounts_before, mountinfo_in_namespace(mount_namespace.get())), "")
            << "life " << life << " (" << point << ", "
            << (mode.private_mounts ? "private" : "caller's") << " namespace): stray mounts";
        const auto loops = loops_serving(env_->store());
        EXPECT_TRUE(loops.empty()) << "life " << life << " (" << point << "): " << loops.front();
        if (HasFailure()) {
            break;
        }
    }
    CrashDaemon last(*env_, env_->dir() / "last", {});
    EXPECT_EQ(serves_normally(last), "") << "the start after the last kill";
    ::kill(last.pid(), SIGTERM);
    last.wait();

    const auto seconds = std::chrono::duration<double>(Clock::now() - started).count();
    std::cout << "stress crash: " << scale().kills << " kills in " << seconds << " s ("
              << mounts_served << " mounts served between them); load average " << load_average()
              << "\n  kill points:";
    for (const auto& [name, n] : kills_by_point) {
        std::cout << " " << name << " " << n << ";";
    }
    std::cout << "\n  what the callers got:";
    for (const auto& [name, n] : caller_errors) {
        std::cout << " " << (name.empty() ? "(nothing: their calls had all returned)" : name) << " "
                  << n << ";";
    }
    std::cout << "\n";
}

}  // namespace
}  // namespace vmd::testing::stress
