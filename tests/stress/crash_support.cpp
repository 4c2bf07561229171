#include "stress/crash_support.hpp"

#include <fcntl.h>

#include <algorithm>
#include <fstream>
#include <regex>
#include <set>
#include <stdexcept>

#include "stress/stress_bus.hpp"
#include "stress/stress_env.hpp"

namespace vmd::testing::stress {
namespace fs = std::filesystem;
namespace {

std::vector<std::string> unshare_prefix(DaemonMode mode) {
    if (!mode.private_mounts) {
        return {};
    }
    // What the unit's PrivateMounts= does: a new namespace whose mounts receive the host's
    // (slave) and send nothing back. unshare execs the daemon: the pid stays the daemon's.
    return {"unshare", "--mount", "--propagation", "slave"};
}

std::vector<std::string> strace_argv(pid_t pid, const std::string& trace) {
    // -f: the worker threads the daemon starts after attaching are traced too.
    return {"strace", "-f", "-p", std::to_string(pid), "-e", "trace=" + trace};
}

}  // namespace

CrashDaemon::CrashDaemon(DaemonEnv& env, const fs::path& dir, DaemonMode mode) {
    fs::create_directories(dir);
    const auto& config = env.store().paths.config;
    if (mode.peer) {
        peer_.emplace(dir, config, unshare_prefix(mode), std::vector<std::string>{},
                      dir / "daemon.log");
        address_ = peer_->address();
        // The first connection starts it, as systemd's socket unit would.
        Connection(address_).counters(kCallTimeout);
        pid_ = peer_->daemon_pid();
    } else {
        bus_.emplace(env.address(), config, std::vector<std::string>{}, unshare_prefix(mode));
        address_ = env.address();
        pid_ = bus_->pid();
    }
}

int CrashDaemon::wait() {
    return bus_ ? bus_->wait() : peer_->stop();
}

KillOnSyscall::KillOnSyscall(pid_t pid, const std::string& syscall, unsigned nth) {
    auto argv = strace_argv(pid, syscall);
    argv.insert(argv.end(),
                {"-e", "inject=" + syscall + ":signal=SIGKILL:when=" + std::to_string(nth), "-o",
                 "/dev/null"});
    strace_.emplace(argv, std::vector<std::string>{}, output_.write_end());
    output_.close_write_end();
    output_.read_until("attached");
}

KillOnSyscall::~KillOnSyscall() {
    strace_->wait();
}

SyscallCount::SyscallCount(pid_t pid, const std::vector<std::string>& syscalls,
                           const fs::path& output)
    : output_path_(output) {
    std::string trace;
    for (const auto& name : syscalls) {
        trace += (trace.empty() ? "" : ",") + name;
    }
    auto argv = strace_argv(pid, trace);
    argv.insert(argv.end(), {"-o", output.string()});
    strace_.emplace(argv, std::vector<std::string>{}, output_.write_end());
    output_.close_write_end();
    output_.read_until("attached");
}

SyscallCount::~SyscallCount() {
    if (strace_) {
        strace_->stop();
    }
}

std::map<std::string, unsigned> SyscallCount::finish() {
    strace_->stop();  // SIGTERM: strace detaches and exits
    strace_.reset();
    // "1234  fsconfig(…" is one call entered by thread 1234; "<… resumed>" lines are not.
    static const std::regex kCall(R"(^(\d+)\s+([a-z0-9_]+)\()");
    std::map<std::pair<std::string, std::string>, unsigned> per_thread;
    std::ifstream in(output_path_);
    std::string line;
    std::smatch match;
    while (std::getline(in, line)) {
        if (std::regex_search(line, match, kCall)) {
            ++per_thread[{match[2].str(), match[1].str()}];
        }
    }
    std::map<std::string, unsigned> most;
    for (const auto& [key, n] : per_thread) {
        most[key.first] = std::max(most[key.first], n);
    }
    return most;
}

UniqueFd keep_mount_namespace(pid_t pid) {
    const auto path = "/proc/" + std::to_string(pid) + "/ns/mnt";
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) {
        throw std::runtime_error("cannot open " + path);
    }
    return fd;
}

std::string added_lines(const std::vector<std::string>& before,
                        const std::vector<std::string>& after) {
    const std::set<std::string> old(before.begin(), before.end());
    std::string out;
    for (const auto& line : after) {
        if (!old.contains(line)) {
            out += "\n  " + line;
        }
    }
    return out;
}

}  // namespace vmd::testing::stress
