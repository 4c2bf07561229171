// The object /io/containers/VerityMount1 with the interface of dbus/io.containers.VerityMount1.xml.
#pragma once

#include <systemd/sd-bus.h>

#include <cstdint>
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

/// Answers a call of a VerityMount1 method whose arguments do not have the method's signature
/// with a typed refusal (InvalidArgument, or AccessDenied for a caller who may not call at
/// all) instead of sd-bus's own org.freedesktop.DBus.Error.InvalidArgs. Returns 1 when it
/// answered `message`, 0 when the message is not such a call. For a message filter.
int refuse_wrong_signature(sd_bus_message* message, Endpoint& endpoint);

/// The message filter of the system bus connection (`endpoint` must outlive it): wrong
/// signatures (refuse_wrong_signature()), and dbus-daemon's refusals to pass a Mount reply's fd
/// (Dispatcher::reply_refused()). Throws Error(Internal) on failure.
SlotPtr add_bus_filter(sd_bus* bus, Endpoint& endpoint);

}  // namespace vmd::bus
