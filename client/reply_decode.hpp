// Mount/Verify/GetStatus replies read straight from the message into the typed results of
// reply.hpp, in one pass: sdbus-c++'s std::map<std::string, sdbus::Variant> makes a message of
// its own for every value (a 10-layer report took 128 µs to decode that way, 32 µs this way).
// Internal to the client library (it needs sdbus-c++).
#pragma once

#include <sdbus-c++/sdbus-c++.h>

#include "client/reply.hpp"
#include "common/unique_fd.hpp"

namespace vmd::client {

/// Reads the rootfs fd that opens a Mount reply, close-on-exec. Another first value, or none,
/// throws ClientError(BadReply).
UniqueFd read_rootfs(sdbus::Message& reply);
/// Reads the `info`/`report` a{sv} at `reply`'s read position. Keys the contract does not list
/// are skipped: the map is extensible, and a newer daemon may add keys. A missing key or a
/// value of another D-Bus type than the contract's throws ClientError(BadReply) naming the key
/// and both types.
Report read_report(sdbus::Message& reply);
/// Reads the `status` a{sv} at `reply`'s read position, with the same rules.
Status read_status(sdbus::Message& reply);

}  // namespace vmd::client
