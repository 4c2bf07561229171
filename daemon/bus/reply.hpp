// Encoding of the service's results into the `a{sv}` dictionaries of DESIGN §4.
#pragma once

#include <systemd/sd-bus.h>

#include <string_view>

#include "service/service.hpp"

namespace vmd::bus {

/// The daemon's version as GetStatus reports it.
std::string_view daemon_version();

/// Appends `report` as the `info` / `report` a{sv}: image_id, manifest_digest, identity,
/// policy_scope, signature, verity (s), layers (aa{sv}: layer_id, blob_digest s, allowed as),
/// elapsed_us (t). Throws Error(Internal) when sd-bus refuses a value.
void append_report(sd_bus_message* message, const service::Report& report);

/// Appends the GetStatus a{sv}: version (s), kernel (a{sv} of b), config (a{sv} of the effective
/// defaults), requests, mounts, refusals (t).
void append_status(sd_bus_message* message, const service::Service& service);

}  // namespace vmd::bus
