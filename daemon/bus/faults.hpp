// Failure injection for tests: the points of a call where the bus layer must survive a failure
// (thread creation, allocation, a reply that cannot be built or sent) with nothing left behind.
#pragma once

#include <functional>

namespace vmd::bus {

/// The steps of a Mount or Verify call where a test can make the system fail.
enum class FaultPoint {
    Decode,       // on the bus thread, once the call's arguments are read
    StartThread,  // starting a worker thread
    Queue,        // queueing the call for a worker
    Run,          // on the worker, before the service call
    Reply,        // on the bus thread, building the reply
    AppendFd,     // putting the rootfs fd into the reply
    Send,         // handing the reply to sd-bus
};

/// Called at each FaultPoint: returns 0 to let the step run, or a negative errno to fail it
/// as the system would; at the points before Send it may also throw (std::bad_alloc) to fail
/// the step as an allocation would. Must be thread-safe (Run is called on the workers). The
/// daemon never sets one.
using FaultInjector = std::function<int(FaultPoint)>;

/// The result of `inject` at `point`: 0 when there is no injector.
inline int injected_fault(const FaultInjector& inject, FaultPoint point) {
    return inject ? inject(point) : 0;
}

}  // namespace vmd::bus
