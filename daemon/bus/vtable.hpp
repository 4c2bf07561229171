// The object /io/containers/VerityMount1 with the interface of dbus/io.containers.VerityMount1.xml.
#pragma once

#include <systemd/sd-bus.h>

#include <string_view>

#include "bus/dispatcher.hpp"
#include "bus/sd_ptr.hpp"

namespace vmd::bus {

inline constexpr std::string_view kBusName = "io.containers.VerityMount1";
inline constexpr std::string_view kObjectPath = "/io/containers/VerityMount1";
inline constexpr std::string_view kInterface = "io.containers.VerityMount1";

/// Registers the object on `bus`, dispatching its methods to `endpoint` (which must outlive the
/// returned registration). Throws Error(Internal) on failure.
SlotPtr add_verity_mount_object(sd_bus* bus, Endpoint& endpoint);

}  // namespace vmd::bus
