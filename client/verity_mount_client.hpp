// A small client of io.containers.VerityMount1 (DESIGN §4) for programs that want verified
// rootfs mounts: connect, call Mount/Verify/GetStatus, get typed results or a ClientError.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "client/reply.hpp"
#include "common/levels.hpp"
#include "common/unique_fd.hpp"

namespace vmd::client {

/// The D-Bus names of the service (DESIGN §4).
inline constexpr const char* kBusName = "io.containers.VerityMount1";
inline constexpr const char* kObjectPath = "/io/containers/VerityMount1";

/// Request options shared by Mount and Verify; unset fields are not sent, so the daemon's
/// configured minimum applies. A request can only make the checks stricter.
struct CheckOptions {
    std::optional<SignatureLevel> signature;
    std::optional<VerityLevel> verity;

    bool operator==(const CheckOptions&) const = default;
};

/// Request options of Mount.
struct MountOptions : CheckOptions {
    std::optional<bool> readonly;
    std::optional<bool> nodev;
    std::optional<bool> nosuid;

    bool operator==(const MountOptions&) const = default;
};

/// What Mount returns: the detached overlay mount (attach it with move_mount(2); closing it
/// unmounts it) and the report of what was verified.
struct MountResult {
    UniqueFd rootfs;
    Report info;
};

/// One connection to verity-mountd. Not thread-safe: use one Client per thread.
///
/// Every call throws ClientError: kind Unreachable when the daemon cannot be reached (also for
/// any failure while connecting), Refused when it (or the bus policy) refused the request, with
/// the D-Bus error name and message as received, BadReply when the reply breaks the contract.
class Client {
  public:
    /// Connects to the system bus (sd-bus rules: DBUS_SYSTEM_BUS_ADDRESS is honoured).
    static Client system_bus();
    /// Connects to `address`, written as for `busctl --address` (e.g. "unix:path=/run/x"): a bus,
    /// or the daemon's peer-to-peer socket, which answers Hello like a bus.
    static Client at_address(const std::string& address);
    /// system_bus() when `address` is nullopt, else at_address(*address).
    static Client connect(const std::optional<std::string>& address);

    Client(Client&&) noexcept;
    Client& operator=(Client&&) noexcept;
    ~Client();

    /// How long one call may take before it fails as Unreachable (sd-bus default: 25 s).
    void set_timeout(std::chrono::microseconds timeout);

    /// Verifies `image` and mounts it, with `container`'s upper/work dirs unless it is "".
    MountResult mount(const std::string& image, const std::string& container,
                      const MountOptions& options = {});
    /// The checks of mount() without mounting.
    Report verify(const std::string& image, const CheckOptions& options = {});
    /// GetStatus: version, kernel features, effective config and counters.
    Status status();

  private:
    struct Impl;
    explicit Client(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace vmd::client
