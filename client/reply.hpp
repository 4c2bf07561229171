// The daemon's replies as plain C++ values, free of any D-Bus library: the typed report of
// Mount/Verify and the status of GetStatus, with exactly the keys of DESIGN §4.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"

namespace vmd::client {

/// One layer of a report, bottom first.
struct LayerReport {
    std::string layer_id;
    /// The composefs blob's measured fs-verity digest ("" when the effective level was off).
    std::string blob_digest;
    /// The digests the signed manifest allows for this layer.
    std::vector<std::string> allowed;
};

/// The `info` of Mount and the `report` of Verify.
struct Report {
    std::string image_id;
    std::string manifest_digest;
    /// The normalised full reference that was checked.
    std::string identity;
    /// The policy scope that matched ("" = the transport's default, "default" = the policy's).
    std::string policy_scope;
    /// Effective levels, as the daemon spells them.
    std::string signature;
    std::string verity;
    std::vector<LayerReport> layers;
    std::uint64_t elapsed_us = 0;
};

/// The kernel features GetStatus reports (DESIGN §6.8).
struct KernelStatus {
    bool fs_verity = false;
    bool overlay_verity = false;
    bool overlay_lowerdir_plus = false;
    bool erofs_file_backed = false;
    bool detached_layers = false;
};

/// The daemon's effective configuration as GetStatus reports it (DESIGN §5).
struct ConfigStatus {
    std::string storage_root;
    std::string policy_path;
    std::string signature;
    std::string verity;
    std::vector<std::string> annotation_keys;
    std::vector<std::uint32_t> allowed_uids;
    std::uint32_t max_concurrent = 0;
    std::uint64_t max_json_bytes = 0;
    std::uint64_t max_manifest_bytes = 0;
    std::uint64_t max_blob_bytes = 0;
    std::uint32_t max_layers = 0;
    std::uint32_t idle_exit_seconds = 0;
};

/// What GetStatus returns.
struct Status {
    std::string version;
    KernelStatus kernel;
    ConfigStatus config;
    std::uint64_t requests = 0;
    std::uint64_t mounts = 0;
    std::uint64_t refusals = 0;
};

/// Why a call did not produce a result.
enum class ErrorKind {
    /// The daemon could not be reached: no bus, no socket, nobody owns the name, timeout.
    Unreachable,
    /// The daemon (or the bus, on its behalf) refused the request.
    Refused,
    /// The daemon answered with something that is not the documented reply.
    BadReply,
};

/// A failed call, keeping the D-Bus error name and message as received.
class ClientError : public std::runtime_error {
  public:
    ClientError(ErrorKind kind, std::string name, std::string message);

    ErrorKind kind() const noexcept { return kind_; }
    /// The full D-Bus error name, e.g. "io.containers.VerityMount1.Error.VerityMismatch".
    const std::string& name() const noexcept { return name_; }
    /// The human sentence that came with the error.
    const std::string& message() const noexcept { return message_; }
    /// The daemon's typed refusal, when the name is one of DESIGN §4's.
    std::optional<Errc> daemon_error() const;

  private:
    ErrorKind kind_;
    std::string name_;
    std::string message_;
};

/// The error name used for replies that do not match the contract.
inline constexpr std::string_view kBadReplyName = "io.containers.VerityMount1.Client.BadReply";

/// Sorts a D-Bus error name received in reply to a call into Refused or Unreachable.
ErrorKind classify_error_name(std::string_view name);

}  // namespace vmd::client
