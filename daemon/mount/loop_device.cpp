#include "mount/loop_device.hpp"

#include <fcntl.h>
#include <linux/loop.h>
#include <sys/ioctl.h>

#include <cerrno>
#include <cstring>

#include "common/error.hpp"

namespace vmd::mount {
namespace {

// Each retry means another process won the race for the device LOOP_CTL_GET_FREE offered us.
constexpr int kMaxAttempts = 32;

}  // namespace

LoopDevice LoopDevice::attach(int backing_fd) {
    UniqueFd control(::open("/dev/loop-control", O_RDWR | O_CLOEXEC));
    if (!control) {
        fail_errno(Errc::MountFailed, errno, "open /dev/loop-control for a read-only loop device");
    }
    loop_config config{};
    config.fd = static_cast<__u32>(backing_fd);
    config.info.lo_flags = LO_FLAGS_READ_ONLY | LO_FLAGS_AUTOCLEAR;

    int last_err = 0;
    for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
        int number = ::ioctl(control.get(), LOOP_CTL_GET_FREE);
        if (number < 0) {
            fail_errno(Errc::MountFailed, errno, "LOOP_CTL_GET_FREE");
        }
        auto path = fmt::format("/dev/loop{}", number);
        UniqueFd device(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
        if (!device) {
            last_err = errno;
            if (last_err == ENOENT || last_err == ENXIO) {
                continue;  // removed again between GET_FREE and open
            }
            fail_errno(Errc::MountFailed, last_err, fmt::format("open {}", path));
        }
        if (::ioctl(device.get(), LOOP_CONFIGURE, &config) == 0) {
            return LoopDevice(std::move(device), number);
        }
        last_err = errno;
        if (last_err == EBUSY) {
            continue;  // bound by someone else since GET_FREE
        }
        if (last_err == ENOTTY) {
            fail(
                Errc::KernelUnsupported,
                "LOOP_CONFIGURE on {}: expected a kernel with LOOP_CONFIGURE (Linux 5.8), found {}",
                path, std::strerror(last_err));
        }
        fail(Errc::MountFailed,
             "LOOP_CONFIGURE on {} (read-only, autoclear) over fd {}: expected success, found {}",
             path, backing_fd, std::strerror(last_err));
    }
    fail(Errc::MountFailed, "loop device: expected a free device within {} attempts, found {}",
         kMaxAttempts, std::strerror(last_err));
}

}  // namespace vmd::mount
