// What the system_*_test.cpp files share: the generated units and bus files, and the daemon
// started the ways systemd and dbus-daemon start it (socket activation, bus activation) with
// readiness and exit observed as events (READY=1, a printed line, a pidfd), never by sleeping.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include <array>
#include <cstring>
#include <filesystem>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/json.hpp"
#include "common/unique_fd.hpp"
#include "fixtures/processes.hpp"
#include "fixtures/store_builder.hpp"
#include "fixtures/test_env.hpp"

namespace vmd::testing::sys {

namespace fs = std::filesystem;

/// Bounds every wait for an event, so that a broken daemon fails the test instead of hanging it.
inline constexpr int kEventTimeoutMs = 30000;

/// A file generated into the build tree by cmake/Install.cmake (e.g.
/// "units/verity-mountd.service").
inline fs::path generated(const std::string& relative) {
    return binary_dir() / relative;
}

/// Calls `visit(line)` for each line of `text` (without its newline).
template <typename Visit>
void for_each_line(std::string_view text, Visit&& visit) {
    std::size_t start = 0;
    while (start < text.size()) {
        auto end = text.find('\n', start);
        visit(text.substr(start, end == std::string_view::npos ? end : end - start));
        start = end == std::string_view::npos ? text.size() : end + 1;
    }
}

/// True when `line` is "key=…".
inline bool is_key_line(std::string_view line, std::string_view key) {
    return line.size() > key.size() && line.starts_with(key) && line[key.size()] == '=';
}

/// Values of `key` in a unit or D-Bus service file, in file order ("Key=value" lines).
inline std::vector<std::string> unit_values(std::string_view text, std::string_view key) {
    std::vector<std::string> values;
    for_each_line(text, [&](std::string_view line) {
        if (is_key_line(line, key)) {
            values.emplace_back(line.substr(key.size() + 1));
        }
    });
    return values;
}

/// `text` with every "key=…" line replaced by `replacement` (a whole line; "" drops it).
inline std::string replace_key(std::string_view text, std::string_view key,
                               std::string_view replacement) {
    std::string out;
    for_each_line(text, [&](std::string_view line) {
        if (!is_key_line(line, key)) {
            out.append(line).push_back('\n');
        } else if (!replacement.empty()) {
            out.append(replacement).push_back('\n');
        }
    });
    return out;
}

/// recvmsg() of one datagram into `data` with its ancillary data into `control`; `msg`
/// describes the control part afterwards (CMSG_FIRSTHDR).
inline ssize_t receive_datagram(int fd, std::span<char> data, std::span<char> control,
                                msghdr& msg) {
    iovec iov{data.data(), data.size()};
    msg = msghdr{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.data();
    msg.msg_controllen = control.size();
    return ::recvmsg(fd, &msg, MSG_CMSG_CLOEXEC);
}

/// Writes a daemon config (DESIGN §5) for `store` to `path`: the store's policy, verity=digest
/// (this kernel has no fs-verity), idle_exit_seconds 0, then `overrides` (key, JSON value).
inline void write_config(const BuiltStore& store, const fs::path& path,
                         const std::vector<std::pair<std::string, std::string>>& overrides = {}) {
    std::vector<std::pair<std::string, std::string>> entries = {
        {"storage_root", json::quote(store.paths.store.string())},
        {"policy_path", json::quote(store.paths.policy.string())},
        {"verity", "\"digest\""},
        {"idle_exit_seconds", "0"},
    };
    for (const auto& override_entry : overrides) {
        // Not a structured binding: clang 14 cannot capture one in the lambda.
        std::erase_if(entries,
                      [&](const auto& entry) { return entry.first == override_entry.first; });
        entries.push_back(override_entry);
    }
    std::string text = "{";
    for (const auto& [key, value] : entries) {
        text += (text.size() > 1 ? ", " : "") + json::quote(key) + ": " + value;
    }
    write_file(path, text + "}\n");
}

/// setpriv arguments that run the rest of a command line as `uid` (group `uid`, no others).
inline std::vector<std::string> as_uid(unsigned uid) {
    return {"setpriv", "--reuid=" + std::to_string(uid), "--regid=" + std::to_string(uid),
            "--clear-groups"};
}

/// Waits until `fd` is readable; false after `timeout_ms`.
inline bool wait_readable(int fd, int timeout_ms = kEventTimeoutMs) {
    pollfd pfd{fd, POLLIN, 0};
    int rc = 0;
    while ((rc = ::poll(&pfd, 1, timeout_ms)) < 0 && errno == EINTR) {
    }
    return rc > 0;
}

/// A process observed through a pidfd (it need not be our child).
class PidFd {
  public:
    explicit PidFd(pid_t pid)
        : pid_(pid), fd_(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0))) {
        if (!fd_) {
            throw std::runtime_error("pidfd_open " + std::to_string(pid) + ": " +
                                     std::strerror(errno));
        }
    }
    pid_t pid() const { return pid_; }
    /// True once the process has exited (waits at most `timeout_ms`).
    bool wait_exit(int timeout_ms = kEventTimeoutMs) const {
        return wait_readable(fd_.get(), timeout_ms);
    }
    /// Sends `signal` unless the process is gone (no pid reuse possible through a pidfd).
    void kill(int signal) const { ::syscall(SYS_pidfd_send_signal, fd_.get(), signal, nullptr, 0); }

  private:
    pid_t pid_;
    UniqueFd fd_;
};

/// The read end of a child's stdout/stderr: lines are read as events, the rest stays queued.
class OutputPipe {
  public:
    OutputPipe() {
        std::array<int, 2> fds{};
        if (::pipe2(fds.data(), O_CLOEXEC) != 0) {
            throw std::runtime_error("pipe2 failed");
        }
        read_.reset(fds[0]);
        write_.reset(fds[1]);
    }
    /// The end to give the child; close_write_end() once it has it.
    int write_end() const { return write_.get(); }
    void close_write_end() { write_.reset(); }
    /// Reads until `needle` has been seen; throws with everything read on EOF or timeout.
    std::string read_until(std::string_view needle) {
        char c = 0;
        while (seen_.find(needle) == std::string::npos) {
            if (!wait_readable(read_.get()) || ::read(read_.get(), &c, 1) != 1) {
                throw std::runtime_error("expected \"" + std::string(needle) +
                                         "\", found: " + seen_);
            }
            seen_.push_back(c);
        }
        return seen_;
    }
    /// Everything written so far (for failure messages); does not block.
    const std::string& drain() {
        char buffer[4096];
        while (wait_readable(read_.get(), 0)) {
            ssize_t n = ::read(read_.get(), buffer, sizeof buffer);
            if (n <= 0) {
                break;
            }
            seen_.append(buffer, static_cast<std::size_t>(n));
        }
        return seen_;
    }

  private:
    UniqueFd read_;
    UniqueFd write_;
    std::string seen_;
};

/// An sd_notify socket: READY=1 arrives with the sender's credentials (SO_PASSCRED).
class NotifySocket {
  public:
    explicit NotifySocket(fs::path path) : path_(std::move(path)) {
        fd_.reset(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::strncpy(addr.sun_path, path_.c_str(), sizeof addr.sun_path - 1);
        int on = 1;
        if (!fd_ || ::bind(fd_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
            ::setsockopt(fd_.get(), SOL_SOCKET, SO_PASSCRED, &on, sizeof on) != 0) {
            throw std::runtime_error("cannot bind the notify socket " + path_.string());
        }
    }
    /// NOTIFY_SOCKET=<path>, for the daemon's environment.
    std::string env() const { return "NOTIFY_SOCKET=" + path_.string(); }
    /// Waits for READY=1; returns the pid that sent it.
    pid_t wait_ready() {
        if (auto pid = ready(kEventTimeoutMs)) {
            return *pid;
        }
        throw std::runtime_error("no READY=1 on " + path_.string());
    }
    /// The pid that sent READY=1, if that arrives within `timeout_ms`.
    std::optional<pid_t> ready(int timeout_ms) {
        while (wait_readable(fd_.get(), timeout_ms)) {
            std::array<char, 4096> buffer{};
            alignas(cmsghdr) std::array<char, CMSG_SPACE(sizeof(ucred))> control{};
            msghdr msg{};
            ssize_t n = receive_datagram(fd_.get(), buffer, control, msg);
            cmsghdr* cmsg = n > 0 ? CMSG_FIRSTHDR(&msg) : nullptr;
            if (cmsg == nullptr || cmsg->cmsg_type != SCM_CREDENTIALS) {
                continue;
            }
            ucred cred{};
            std::memcpy(&cred, CMSG_DATA(cmsg), sizeof cred);
            if (std::string_view(buffer.data(), static_cast<std::size_t>(n)).find("READY=1") !=
                std::string_view::npos) {
                return cred.pid;
            }
        }
        return std::nullopt;
    }

  private:
    fs::path path_;
    UniqueFd fd_;
};

/// The daemon as verity-mountd.socket starts it: systemd-socket-activate listens on
/// `dir`/io.socket and execs the daemon (with LISTEN_FDS) on the first connection.
class SocketActivated {
  public:
    /// Returns once the socket listens. `prefix` runs systemd-socket-activate (unshare, strace…);
    /// `env` ("NAME=value") is added to the daemon's environment, which is otherwise only what
    /// systemd-socket-activate sets. With `daemon_log`, the daemon writes its output there rather
    /// than into the pipe log() reads, which a long run would fill (blocking the daemon).
    SocketActivated(const fs::path& dir, const fs::path& config,
                    const std::vector<std::string>& prefix = {},
                    const std::vector<std::string>& env = {}, const fs::path& daemon_log = {})
        : socket_(dir / "io.socket"), notify_(dir / "notify.socket") {
        std::vector<std::string> argv = prefix;
        argv.insert(argv.end(),
                    {"systemd-socket-activate", "-l", socket_.string(), "-E", notify_.env()});
        for (const auto& variable : env) {
            argv.insert(argv.end(), {"-E", variable});
        }
        if (!daemon_log.empty()) {
            // The shell execs the daemon: same pid, so LISTEN_PID still names it.
            argv.insert(argv.end(), {"sh", "-c", "exec \"$@\" >>\"$0\" 2>&1", daemon_log.string()});
        }
        argv.insert(argv.end(),
                    {built("daemon/verity-mountd").string(), "--config", config.string()});
        process_.emplace(argv, std::vector<std::string>{}, output_.write_end());
        output_.close_write_end();
        output_.read_until("Listening on");
    }
    ~SocketActivated() { stop(); }
    SocketActivated(const SocketActivated&) = delete;
    SocketActivated& operator=(const SocketActivated&) = delete;

    const fs::path& socket_path() const { return socket_; }
    /// The address for busctl --address / verity-mountctl --address.
    std::string address() const { return "unix:path=" + socket_.string(); }
    /// The daemon's pid once it said READY=1 (it starts on the first connection).
    pid_t daemon_pid() {
        if (!daemon_) {
            daemon_.emplace(notify_.wait_ready());
        }
        return daemon_->pid();
    }
    /// What systemd-socket-activate and the daemon wrote so far.
    const std::string& log() { return output_.drain(); }
    /// Stops the daemon (SIGTERM, as systemd does) or, if it never started, the listener;
    /// returns the exit code of the process started (strace, when it is the prefix, exits with
    /// its tracee's code).
    int stop() {
        if (!process_) {
            return exit_code_;
        }
        if (!daemon_) {
            if (auto pid = notify_.ready(0)) {  // started, but nobody asked for its pid yet
                daemon_.emplace(*pid);
            }
        }
        if (daemon_) {
            daemon_->kill(SIGTERM);
            exit_code_ = process_->wait();
        } else {
            exit_code_ = process_->stop();
        }
        process_.reset();
        return exit_code_;
    }

  private:
    fs::path socket_;
    NotifySocket notify_;
    OutputPipe output_;
    std::optional<ChildProcess> process_;
    std::optional<PidFd> daemon_;
    int exit_code_ = -1;
};

/// A system-style dbus-daemon whose policy is that of Debian's system bus (method calls denied
/// by default, the bus driver reachable) plus the project's dbus/io.containers.VerityMount1.conf,
/// activating services from `services_dir`. Activated services inherit
/// DBUS_SYSTEM_BUS_ADDRESS naming this bus, as sd_bus_open_system() reads it.
class PolicyBus {
  public:
    explicit PolicyBus(const fs::path& services_dir) {
        // Callers of other uids must reach the socket in this directory.
        fs::permissions(dir_.path(),
                        fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec);
        address_ = "unix:path=" + (dir_.path() / "bus.socket").string();
        auto config = dir_.path() / "bus.conf";
        auto policy = source_dir() / "dbus" / "io.containers.VerityMount1.conf";
        write_file(
            config,
            R"(<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>)" + address_ +
                R"(</listen>
  <auth>EXTERNAL</auth>
  <servicedir>)" +
                services_dir.string() + R"(</servicedir>
  <policy context="default">
    <allow user="*"/>
    <deny own="*"/>
    <deny send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"/>
    <allow send_destination="org.freedesktop.DBus"
           send_interface="org.freedesktop.DBus.Introspectable"/>
  </policy>
  <include>)" + policy.string() +
                R"(</include>
</busconfig>
)");
        process_.emplace(std::vector<std::string>{"dbus-daemon", "--config-file=" + config.string(),
                                                  "--nofork", "--nopidfile", "--print-address=1"},
                         std::vector<std::string>{"DBUS_SYSTEM_BUS_ADDRESS=" + address_},
                         output_.write_end());
        output_.close_write_end();
        output_.read_until("\n");  // the address, printed once it listens
    }

    const std::string& address() const { return address_; }
    /// What the bus and the services it started wrote so far.
    const std::string& log() { return output_.drain(); }
    /// The pid of the current owner of `name`, or nullopt when nobody owns it.
    std::optional<pid_t> owner_pid(const std::string& name) const {
        auto result = run({"busctl", "--address=" + address_, "call", "org.freedesktop.DBus",
                           "/org/freedesktop/DBus", "org.freedesktop.DBus",
                           "GetConnectionUnixProcessID", "s", name});
        if (result.exit_code != 0 || !result.out.starts_with("u ")) {
            return std::nullopt;
        }
        return static_cast<pid_t>(std::stol(result.out.substr(2)));
    }

  private:
    TempDir dir_;
    std::string address_;
    OutputPipe output_;
    std::optional<ChildProcess> process_;
};

}  // namespace vmd::testing::sys
