// The one error type of the project: a refusal or failure with the D-Bus error name it maps to.
#pragma once

#include <fmt/format.h>

#include <exception>
#include <string>
#include <string_view>

namespace vmd {

/// The error names of DESIGN §4; each maps to io.containers.VerityMount1.Error.<Name>.
enum class Errc {
    AccessDenied,
    InvalidArgument,
    ImageNotFound,
    ContainerNotFound,
    StorageCorrupt,
    PolicyInvalid,
    PolicyRejected,
    SignatureRequired,
    SignatureInvalid,
    VerityMissing,
    VerityMismatch,
    KernelUnsupported,
    MountFailed,
    Busy,
    Internal,
};

inline constexpr std::string_view kErrorPrefix = "io.containers.VerityMount1.Error.";

/// The short name ("VerityMismatch") of an error code.
std::string_view errc_name(Errc code);
/// The full D-Bus error name ("io.containers.VerityMount1.Error.VerityMismatch").
std::string dbus_error_name(Errc code);

/// A typed refusal. The message says what was expected and what was found.
class Error : public std::exception {
  public:
    Error(Errc code, std::string message) : code_(code), message_(std::move(message)) {}

    Errc code() const noexcept { return code_; }
    const std::string& message() const noexcept { return message_; }
    const char* what() const noexcept override { return message_.c_str(); }
    std::string dbus_name() const { return dbus_error_name(code_); }

  private:
    Errc code_;
    std::string message_;
};

/// Throws Error(code, formatted message).
template <typename... Args>
[[noreturn]] void fail(Errc code, fmt::format_string<Args...> format, Args&&... args) {
    throw Error(code, fmt::format(format, std::forward<Args>(args)...));
}

/// Throws Error(code, "<what>: <strerror(err)>") for a failed system call.
[[noreturn]] void fail_errno(Errc code, int err, std::string_view what);

}  // namespace vmd
