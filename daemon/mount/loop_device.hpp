// Read-only, auto-clearing loop devices over an open file (EROFS needs a block device for memfds
// and on kernels before 6.12).
#pragma once

#include "common/unique_fd.hpp"

namespace vmd::mount {

/// Owns an open loop device bound read-only to a backing file with LO_FLAGS_AUTOCLEAR: the
/// binding disappears when the last user goes away (this fd closed and every mount of it gone),
/// so nothing needs undoing on any path.
class LoopDevice {
  public:
    /// Binds a free loop device to `backing_fd` (LOOP_CTL_GET_FREE + LOOP_CONFIGURE), retrying a
    /// bounded number of times when another process takes the same free device first.
    /// Failure: Error(MountFailed); a kernel without LOOP_CONFIGURE: Error(KernelUnsupported).
    static LoopDevice attach(int backing_fd);

    /// The open loop device (hand it to the kernel as /proc/self/fd/N).
    int fd() const { return fd_.get(); }
    /// N of /dev/loopN.
    int number() const { return number_; }

  private:
    LoopDevice(UniqueFd fd, int number) : fd_(std::move(fd)), number_(number) {}

    UniqueFd fd_;
    int number_ = -1;
};

}  // namespace vmd::mount
