// Decoding of a request's `options` dictionary (DESIGN §4) into service::RequestOptions.
#pragma once

#include <systemd/sd-bus.h>

#include "service/service.hpp"

namespace vmd::bus {

/// Reads one `a{sv}` from `message` (positioned at it) with the table of known options.
/// An unknown or repeated key, a value of the wrong type or a bad level value throws
/// Error(InvalidArgument) naming the key, what was expected and what was found.
service::RequestOptions read_options(sd_bus_message* message);

}  // namespace vmd::bus
