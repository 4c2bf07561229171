#include "common/error.hpp"

#include <array>
#include <cstring>

namespace vmd {

std::string_view errc_name(Errc code) {
    static constexpr std::array<std::string_view, 15> names = {
        "AccessDenied",     "InvalidArgument",
        "ImageNotFound",    "ContainerNotFound",
        "StorageCorrupt",   "PolicyInvalid",
        "PolicyRejected",   "SignatureRequired",
        "SignatureInvalid", "VerityMissing",
        "VerityMismatch",   "KernelUnsupported",
        "MountFailed",      "Busy",
        "Internal",
    };
    auto index = static_cast<std::size_t>(code);
    return index < names.size() ? names[index] : "Internal";
}

std::string dbus_error_name(Errc code) {
    return std::string(kErrorPrefix) + std::string(errc_name(code));
}

void fail_errno(Errc code, int err, std::string_view what) {
    throw Error(code, fmt::format("{}: {}", what, std::strerror(err)));
}

}  // namespace vmd
