// What the crash test needs around a daemon it kills: the daemon started either way it can run
// (on the bus or the peer-to-peer socket, in the caller's mount namespace or a private one), and
// a SIGKILL that lands exactly on entry to the Nth call of a chosen system call by one of its
// threads — strace's syscall injection, attached to the running daemon, so that the daemon has
// no test-only code path.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "daemon_env.hpp"
#include "integration/system_support.hpp"

namespace vmd::testing::stress {

/// How a daemon of the crash test runs.
struct DaemonMode {
    bool peer = false;            // on the peer-to-peer socket (socket-activated), else on the bus
    bool private_mounts = false;  // in a mount namespace of its own, as under PrivateMounts=
};

/// One daemon, started and serving.
class CrashDaemon {
  public:
    /// Starts the daemon of `env`'s store (its config) in `mode`; `dir` holds what this start
    /// needs (the socket). Returns once it serves.
    CrashDaemon(DaemonEnv& env, const std::filesystem::path& dir, DaemonMode mode);
    pid_t pid() const { return pid_; }
    const std::string& address() const { return address_; }
    /// Waits for the daemon to exit (it is killed by someone) and returns its exit code.
    int wait();

  private:
    std::optional<DaemonProcess> bus_;
    std::optional<sys::SocketActivated> peer_;
    pid_t pid_ = -1;
    std::string address_;
};

/// strace attached to a running process: on entry to the `nth` call of `syscall` by any one of
/// its threads (counted per thread from the moment of attaching), the kernel delivers SIGKILL.
/// Construction returns once strace has attached.
class KillOnSyscall {
  public:
    KillOnSyscall(pid_t pid, const std::string& syscall, unsigned nth);
    /// Waits for strace, which exits with its tracee.
    ~KillOnSyscall();
    KillOnSyscall(const KillOnSyscall&) = delete;
    KillOnSyscall& operator=(const KillOnSyscall&) = delete;

  private:
    sys::OutputPipe output_;
    std::optional<ChildProcess> strace_;
};

/// strace attached to a running process, writing the calls of `syscalls` to a file until
/// finish(), which returns, per system call, the most calls any one thread made.
class SyscallCount {
  public:
    SyscallCount(pid_t pid, const std::vector<std::string>& syscalls,
                 const std::filesystem::path& output);
    ~SyscallCount();
    SyscallCount(const SyscallCount&) = delete;
    SyscallCount& operator=(const SyscallCount&) = delete;
    /// Detaches strace and counts.
    std::map<std::string, unsigned> finish();

  private:
    std::filesystem::path output_path_;
    sys::OutputPipe output_;
    std::optional<ChildProcess> strace_;
};

/// The mount namespace of `pid`, kept open (it outlives the process).
UniqueFd keep_mount_namespace(pid_t pid);

/// The lines of `after` that `before` does not have, joined for a failure message.
std::string added_lines(const std::vector<std::string>& before,
                        const std::vector<std::string>& after);

}  // namespace vmd::testing::stress
