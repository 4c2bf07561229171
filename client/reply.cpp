#include "client/reply.hpp"

#include <algorithm>
#include <array>

namespace vmd::client {
namespace {

// Errors that mean "nobody answered", as the bus daemon, sd-bus and sdbus-c++ name them. Any other
// error in reply to a call was decided by someone who received it: a refusal.
constexpr std::array<std::string_view, 21> kUnreachableNames = {
    "org.freedesktop.DBus.Error.ServiceUnknown",
    "org.freedesktop.DBus.Error.NameHasNoOwner",
    "org.freedesktop.DBus.Error.NoServer",
    "org.freedesktop.DBus.Error.NoNetwork",
    "org.freedesktop.DBus.Error.FileNotFound",
    "org.freedesktop.DBus.Error.Disconnected",
    "org.freedesktop.DBus.Error.NoReply",
    "org.freedesktop.DBus.Error.Timeout",
    "org.freedesktop.DBus.Error.TimedOut",
    "org.freedesktop.DBus.Error.BadAddress",
    "System.Error.ECONNREFUSED",
    "System.Error.ECONNRESET",
    "System.Error.ECONNABORTED",
    "System.Error.ENOTCONN",
    "System.Error.EPIPE",
    "System.Error.ENOENT",
    "System.Error.ETIMEDOUT",
    "System.Error.EHOSTDOWN",
    "System.Error.EHOSTUNREACH",
    "System.Error.ENXIO",
    "System.Error.ESHUTDOWN",
};

// The bus could not start the daemon by activation (org.freedesktop.DBus.Error.Spawn.*).
constexpr std::string_view kSpawnPrefix = "org.freedesktop.DBus.Error.Spawn.";

constexpr Errc kLastErrc = Errc::Internal;

}  // namespace

ClientError::ClientError(ErrorKind kind, std::string name, std::string message)
    : std::runtime_error(name + ": " + message),
      kind_(kind),
      name_(std::move(name)),
      message_(std::move(message)) {}

std::optional<Errc> ClientError::daemon_error() const {
    std::string_view name = name_;
    if (!name.starts_with(kErrorPrefix)) {
        return std::nullopt;
    }
    name.remove_prefix(kErrorPrefix.size());
    for (int i = 0; i <= static_cast<int>(kLastErrc); ++i) {
        auto code = static_cast<Errc>(i);
        if (errc_name(code) == name) {
            return code;
        }
    }
    return std::nullopt;
}

ErrorKind classify_error_name(std::string_view name) {
    if (name.starts_with(kSpawnPrefix) ||
        std::find(kUnreachableNames.begin(), kUnreachableNames.end(), name) !=
            kUnreachableNames.end()) {
        return ErrorKind::Unreachable;
    }
    return ErrorKind::Refused;
}

}  // namespace vmd::client
