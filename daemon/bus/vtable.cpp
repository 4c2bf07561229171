#include "bus/vtable.hpp"

#include <array>

namespace vmd::bus {
namespace {

/// A method of the interface and the signature of its arguments (dbus/…xml).
struct MethodSignature {
    std::string_view name;
    const char* arguments;
};
constexpr std::array<MethodSignature, 3> kMethods = {{
    {"Mount", "ssa{sv}"},
    {"Verify", "sa{sv}"},
    {"GetStatus", ""},
}};

int on_mount(sd_bus_message* call, void* userdata, sd_bus_error*) {
    auto* endpoint = static_cast<Endpoint*>(userdata);
    return endpoint->dispatcher->mount(call, *endpoint);
}

int on_verify(sd_bus_message* call, void* userdata, sd_bus_error*) {
    auto* endpoint = static_cast<Endpoint*>(userdata);
    return endpoint->dispatcher->verify(call, *endpoint);
}

int on_get_status(sd_bus_message* call, void* userdata, sd_bus_error*) {
    auto* endpoint = static_cast<Endpoint*>(userdata);
    return endpoint->dispatcher->get_status(call, *endpoint);
}

// UNPRIVILEGED: sd-bus must not refuse callers on its own (with its own error name); every
// method authorizes the caller itself.
const sd_bus_vtable kVtable[] = {
    SD_BUS_VTABLE_START(0),
    SD_BUS_METHOD_WITH_NAMES("Mount", kMethods[0].arguments,
                             SD_BUS_PARAM(image) SD_BUS_PARAM(container) SD_BUS_PARAM(options),
                             "ha{sv}", SD_BUS_PARAM(rootfs) SD_BUS_PARAM(info), on_mount,
                             SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_NAMES("Verify", kMethods[1].arguments,
                             SD_BUS_PARAM(image) SD_BUS_PARAM(options), "a{sv}",
                             SD_BUS_PARAM(report), on_verify, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_NAMES("GetStatus", kMethods[2].arguments, "", "a{sv}", SD_BUS_PARAM(status),
                             on_get_status, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_VTABLE_END,
};

/// `text` equals the NUL-terminated `c_string` (nullptr counting as "").
bool same(std::string_view text, const char* c_string) {
    return text == (c_string != nullptr ? c_string : "");
}

// On the system bus: besides wrong signatures, dbus-daemon's refusal to pass a rootfs fd to a
// caller whose connection cannot receive fds (it cannot be seen before: only the bus knows).
int on_bus_message(sd_bus_message* message, void* userdata, sd_bus_error*) {
    auto& endpoint = *static_cast<Endpoint*>(userdata);
    const sd_bus_error* error = sd_bus_message_get_error(message);
    std::uint64_t reply_to = 0;
    if (error != nullptr && same("org.freedesktop.DBus.Error.NotSupported", error->name) &&
        same("org.freedesktop.DBus", sd_bus_message_get_sender(message)) &&
        sd_bus_message_get_reply_cookie(message, &reply_to) >= 0) {
        endpoint.dispatcher->reply_refused(reply_to);
        return 1;
    }
    return refuse_wrong_signature(message, endpoint);
}

}  // namespace

int refuse_wrong_signature(sd_bus_message* message, Endpoint& endpoint) {
    if (sd_bus_message_is_method_call(message, nullptr, nullptr) <= 0 ||
        !same(kObjectPath, sd_bus_message_get_path(message))) {
        return 0;
    }
    // A call without an interface is looked up by its member alone.
    const char* interface = sd_bus_message_get_interface(message);
    if (interface != nullptr && !same(kInterface, interface)) {
        return 0;
    }
    const char* member = sd_bus_message_get_member(message);
    for (const auto& method : kMethods) {
        if (same(method.name, member)) {
            const char* found = sd_bus_message_get_signature(message, 1);
            if (same(method.arguments, found)) {
                return 0;
            }
            return endpoint.dispatcher->wrong_signature(message, endpoint, method.name,
                                                        method.arguments);
        }
    }
    return 0;
}

SlotPtr add_bus_filter(sd_bus* bus, Endpoint& endpoint) {
    sd_bus_slot* slot = nullptr;
    check(sd_bus_add_filter(bus, &slot, on_bus_message, &endpoint), "add the message filter");
    return SlotPtr(slot);
}

SlotPtr add_verity_mount_object(sd_bus* bus, Endpoint& endpoint) {
    sd_bus_slot* slot = nullptr;
    check(sd_bus_add_object_vtable(bus, &slot, kObjectPath.data(), kInterface.data(), kVtable,
                                   &endpoint),
          "register /io/containers/VerityMount1");
    return SlotPtr(slot);
}

}  // namespace vmd::bus
