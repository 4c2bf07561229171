// RAII owners of sd-bus / sd-event objects, and a check for their negative-errno returns.
#pragma once

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include <memory>
#include <string_view>

namespace vmd::bus {

struct BusUnref {
    void operator()(sd_bus* bus) const noexcept { sd_bus_close_unref(bus); }
};
struct MessageUnref {
    void operator()(sd_bus_message* message) const noexcept { sd_bus_message_unref(message); }
};
struct SlotUnref {
    void operator()(sd_bus_slot* slot) const noexcept { sd_bus_slot_unref(slot); }
};
struct CredsUnref {
    void operator()(sd_bus_creds* creds) const noexcept { sd_bus_creds_unref(creds); }
};
struct EventUnref {
    void operator()(sd_event* event) const noexcept { sd_event_unref(event); }
};
struct SourceUnref {
    void operator()(sd_event_source* source) const noexcept {
        sd_event_source_disable_unref(source);
    }
};

/// A connection; closed (without flushing) and released on destruction.
using BusPtr = std::unique_ptr<sd_bus, BusUnref>;
/// A message reference.
using MessagePtr = std::unique_ptr<sd_bus_message, MessageUnref>;
/// A registration (vtable, filter, match); unregistered on destruction.
using SlotPtr = std::unique_ptr<sd_bus_slot, SlotUnref>;
/// A set of peer credentials.
using CredsPtr = std::unique_ptr<sd_bus_creds, CredsUnref>;
/// An event loop.
using EventPtr = std::unique_ptr<sd_event, EventUnref>;
/// An event source; disabled and released on destruction.
using SourcePtr = std::unique_ptr<sd_event_source, SourceUnref>;

/// Returns `r` when it is >= 0; throws Error(Internal, "<what>: <strerror(-r)>") otherwise.
int check(int r, std::string_view what);

}  // namespace vmd::bus
