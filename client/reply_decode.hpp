// Mount/Verify/GetStatus replies read straight into the typed results of reply.hpp. Internal to
// the client library (it needs sdbus-c++).
#pragma once

#include <sdbus-c++/sdbus-c++.h>

#include <map>
#include <string>

#include "client/reply.hpp"

namespace vmd::client {

/// An a{sv} map as sdbus-c++ hands it over.
using VariantMap = std::map<std::string, sdbus::Variant>;

/// Reads an `info`/`report` map. Keys the contract does not list are ignored: the map is
/// extensible, and a newer daemon may add keys. A missing key or a value of another D-Bus type
/// than the contract's throws ClientError(BadReply) naming the key and both types.
Report report_from_reply(const VariantMap& map);
/// Reads a `status` map, with the same rules.
Status status_from_reply(const VariantMap& map);

}  // namespace vmd::client
