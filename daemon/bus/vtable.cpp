#include "bus/vtable.hpp"

namespace vmd::bus {
namespace {

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
    SD_BUS_METHOD_WITH_NAMES(
        "Mount", "ssa{sv}", SD_BUS_PARAM(image) SD_BUS_PARAM(container) SD_BUS_PARAM(options),
        "ha{sv}", SD_BUS_PARAM(rootfs) SD_BUS_PARAM(info), on_mount, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_NAMES("Verify", "sa{sv}", SD_BUS_PARAM(image) SD_BUS_PARAM(options), "a{sv}",
                             SD_BUS_PARAM(report), on_verify, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_NAMES("GetStatus", "", "", "a{sv}", SD_BUS_PARAM(status), on_get_status,
                             SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_VTABLE_END,
};

}  // namespace

SlotPtr add_verity_mount_object(sd_bus* bus, Endpoint& endpoint) {
    sd_bus_slot* slot = nullptr;
    check(sd_bus_add_object_vtable(bus, &slot, kObjectPath.data(), kInterface.data(), kVtable,
                                   &endpoint),
          "register /io/containers/VerityMount1");
    return SlotPtr(slot);
}

}  // namespace vmd::bus
