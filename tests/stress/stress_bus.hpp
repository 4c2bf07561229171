// Calls of io.containers.VerityMount1 (DESIGN §4) made with raw sd-bus, so that the stress tests
// can send what no well-behaved client sends (wrong option types, duplicate keys), send many
// calls before reading a reply, hang up before the reply, and read every field of a reply.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "bus/sd_ptr.hpp"
#include "client/reply.hpp"
#include "common/unique_fd.hpp"

namespace vmd::testing::stress {

/// One option as sent; `type` is the D-Bus type inside the variant: 's', 'b' or 'u'.
struct OptionArg {
    std::string key;
    char type = 's';
    std::string text;
    bool flag = false;
    std::uint32_t number = 0;

    static OptionArg string(std::string key, std::string value);
    static OptionArg boolean(std::string key, bool value);
    static OptionArg uint32(std::string key, std::uint32_t value);
};

/// One Mount or Verify call.
struct CallSpec {
    CallSpec() = default;
    CallSpec(bool is_mount, std::string image_arg, std::string container_arg = "",
             std::vector<OptionArg> option_args = {})
        : mount(is_mount),
          image(std::move(image_arg)),
          container(std::move(container_arg)),
          options(std::move(option_args)) {}

    bool mount = false;
    std::string image;
    std::string container;  // Mount only
    std::vector<OptionArg> options;
};

/// The `info` of Mount / `report` of Verify, as received: the client library's typed report.
using ReportInfo = client::Report;
/// One layer of it.
using LayerInfo = client::LayerReport;

/// What one call brought back: an error name and message, or a report (and a rootfs fd).
struct Outcome {
    std::string error_name;  // "" on success
    std::string error_message;
    UniqueFd rootfs;
    ReportInfo report;

    bool ok() const { return error_name.empty(); }
};

/// The counters of GetStatus.
struct Counters {
    std::uint64_t requests = 0;
    std::uint64_t mounts = 0;
    std::uint64_t refusals = 0;
};

/// The error name the tests use for a call that did not complete within its timeout: a hang.
inline constexpr std::string_view kTimedOut = "org.freedesktop.DBus.Error.Timeout";

/// One client connection to a bus or to the daemon's peer-to-peer socket (which answers Hello).
/// Not thread-safe: one per thread.
class Connection {
  public:
    /// Connects to `address` ("unix:path=…") as a bus client that passes fds. Throws
    /// std::runtime_error when it cannot.
    explicit Connection(const std::string& address);

    /// One call; waits at most `timeout` for its reply.
    Outcome call(const CallSpec& spec, std::chrono::microseconds timeout);
    /// Sends every call before reading any reply, then waits (each at most `timeout`) for all.
    std::vector<Outcome> call_all(std::span<const CallSpec> specs,
                                  std::chrono::microseconds timeout);
    /// Sends the call, makes sure it left, and closes the connection without reading the reply.
    void send_and_hang_up(const CallSpec& spec);
    /// GetStatus's counters. Throws std::runtime_error when the call fails.
    Counters counters(std::chrono::microseconds timeout);
    /// GetStatus's kernel.fs_verity. Throws std::runtime_error when the call fails.
    bool kernel_fs_verity(std::chrono::microseconds timeout);

  private:
    vmd::bus::BusPtr bus_;
};

/// Runs `spec` over a fresh connection made with the calling thread's uid set to `uid` for the
/// connection's lifetime (the daemon and the bus read the caller's uid from the socket). Only
/// this thread changes uid; the process stays root.
Outcome call_as_user(const std::string& address, uid_t uid, const CallSpec& spec,
                     std::chrono::microseconds timeout);

}  // namespace vmd::testing::stress
