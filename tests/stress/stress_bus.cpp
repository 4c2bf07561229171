#include "stress/stress_bus.hpp"

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <functional>
#include <stdexcept>
#include <string_view>

namespace vmd::testing::stress {
namespace {

using vmd::bus::BusPtr;
using vmd::bus::MessagePtr;
using vmd::bus::SlotPtr;

constexpr const char* kDestination = "io.containers.VerityMount1";
constexpr const char* kPath = "/io/containers/VerityMount1";
constexpr const char* kInterface = "io.containers.VerityMount1";
// sd-bus's own words for an asynchronous call whose timeout expired.
constexpr std::string_view kAsyncTimeoutMessage = "Method call timed out";

int ok(int r, std::string_view what) {
    if (r < 0) {
        throw std::runtime_error(std::string(what) + ": " + std::strerror(-r));
    }
    return r;
}

std::uint64_t usec(std::chrono::microseconds timeout) {
    return static_cast<std::uint64_t>(timeout.count());
}

void append_option(sd_bus_message* m, const OptionArg& option) {
    const char signature[] = {option.type, '\0'};
    ok(sd_bus_message_open_container(m, SD_BUS_TYPE_DICT_ENTRY, "sv"), "open option");
    ok(sd_bus_message_append_basic(m, SD_BUS_TYPE_STRING, option.key.c_str()), "option key");
    ok(sd_bus_message_open_container(m, SD_BUS_TYPE_VARIANT, signature), "open value");
    if (option.type == SD_BUS_TYPE_STRING) {
        ok(sd_bus_message_append_basic(m, option.type, option.text.c_str()), "string value");
    } else if (option.type == SD_BUS_TYPE_BOOLEAN) {
        const int flag = option.flag ? 1 : 0;
        ok(sd_bus_message_append_basic(m, option.type, &flag), "boolean value");
    } else {
        ok(sd_bus_message_append_basic(m, option.type, &option.number), "number value");
    }
    ok(sd_bus_message_close_container(m), "close value");
    ok(sd_bus_message_close_container(m), "close option");
}

MessagePtr new_call(sd_bus* bus, const CallSpec& spec) {
    sd_bus_message* raw = nullptr;
    ok(sd_bus_message_new_method_call(bus, &raw, kDestination, kPath, kInterface,
                                      spec.mount ? "Mount" : "Verify"),
       "new method call");
    MessagePtr m(raw);
    ok(sd_bus_message_append_basic(m.get(), SD_BUS_TYPE_STRING, spec.image.c_str()), "image");
    if (spec.mount) {
        ok(sd_bus_message_append_basic(m.get(), SD_BUS_TYPE_STRING, spec.container.c_str()),
           "container");
    }
    ok(sd_bus_message_open_container(m.get(), SD_BUS_TYPE_ARRAY, "{sv}"), "open options");
    for (const auto& option : spec.options) {
        append_option(m.get(), option);
    }
    ok(sd_bus_message_close_container(m.get()), "close options");
    return m;
}

std::string read_string_variant(sd_bus_message* m) {
    const char* text = nullptr;
    ok(sd_bus_message_enter_container(m, SD_BUS_TYPE_VARIANT, "s"), "enter s");
    ok(sd_bus_message_read_basic(m, SD_BUS_TYPE_STRING, &text), "read s");
    ok(sd_bus_message_exit_container(m), "exit s");
    return text;
}

/// Calls `visit(key, contents signature)` for each entry of an a{sv}; `visit` reads the variant
/// or returns false to have it skipped.
void for_each_entry(sd_bus_message* m,
                    const std::function<bool(std::string_view, std::string_view)>& visit) {
    ok(sd_bus_message_enter_container(m, SD_BUS_TYPE_ARRAY, "{sv}"), "enter a{sv}");
    while (ok(sd_bus_message_enter_container(m, SD_BUS_TYPE_DICT_ENTRY, "sv"), "enter {sv}") > 0) {
        const char* key = nullptr;
        ok(sd_bus_message_read_basic(m, SD_BUS_TYPE_STRING, &key), "read key");
        char type = 0;
        const char* contents = nullptr;
        ok(sd_bus_message_peek_type(m, &type, &contents), "peek value");
        if (!visit(key, contents != nullptr ? contents : "")) {
            ok(sd_bus_message_skip(m, "v"), "skip value");
        }
        ok(sd_bus_message_exit_container(m), "exit {sv}");
    }
    ok(sd_bus_message_exit_container(m), "exit a{sv}");
}

LayerInfo read_layer(sd_bus_message* m) {
    LayerInfo layer;
    for_each_entry(m, [&](std::string_view key, std::string_view signature) {
        if (signature == "s" && (key == "layer_id" || key == "blob_digest")) {
            (key == "layer_id" ? layer.layer_id : layer.blob_digest) = read_string_variant(m);
            return true;
        }
        if (key == "allowed" && signature == "as") {
            ok(sd_bus_message_enter_container(m, SD_BUS_TYPE_VARIANT, "as"), "enter as");
            ok(sd_bus_message_enter_container(m, SD_BUS_TYPE_ARRAY, "s"), "enter allowed");
            const char* item = nullptr;
            while (ok(sd_bus_message_read_basic(m, SD_BUS_TYPE_STRING, &item), "allowed") > 0) {
                layer.allowed.emplace_back(item);
            }
            ok(sd_bus_message_exit_container(m), "exit allowed");
            ok(sd_bus_message_exit_container(m), "exit as");
            return true;
        }
        return false;
    });
    return layer;
}

ReportInfo read_report(sd_bus_message* m) {
    ReportInfo report;
    std::string* const strings[] = {&report.image_id,     &report.manifest_digest, &report.identity,
                                    &report.policy_scope, &report.signature,       &report.verity};
    constexpr std::string_view kStringKeys[] = {"image_id",     "manifest_digest", "identity",
                                                "policy_scope", "signature",       "verity"};
    for_each_entry(m, [&](std::string_view key, std::string_view signature) {
        for (std::size_t i = 0; i < std::size(kStringKeys); ++i) {
            if (key == kStringKeys[i] && signature == "s") {
                *strings[i] = read_string_variant(m);
                return true;
            }
        }
        if (key == "elapsed_us" && signature == "t") {
            ok(sd_bus_message_read(m, "v", "t", &report.elapsed_us), "elapsed_us");
            return true;
        }
        if (key == "layers" && signature == "aa{sv}") {
            ok(sd_bus_message_enter_container(m, SD_BUS_TYPE_VARIANT, "aa{sv}"), "enter layers");
            ok(sd_bus_message_enter_container(m, SD_BUS_TYPE_ARRAY, "a{sv}"), "enter list");
            while (ok(sd_bus_message_at_end(m, 0), "at end") == 0) {
                report.layers.push_back(read_layer(m));
            }
            ok(sd_bus_message_exit_container(m), "exit list");
            ok(sd_bus_message_exit_container(m), "exit layers");
            return true;
        }
        return false;
    });
    return report;
}

/// Turns a reply (or sd-bus's synthetic error for it) into an Outcome.
Outcome outcome_of(sd_bus_message* reply, bool mount) {
    Outcome outcome;
    if (sd_bus_message_is_method_error(reply, nullptr) > 0) {
        const sd_bus_error* error = sd_bus_message_get_error(reply);
        outcome.error_name = error->name != nullptr ? error->name : "(unnamed)";
        outcome.error_message = error->message != nullptr ? error->message : "";
        if (outcome.error_name == "org.freedesktop.DBus.Error.NoReply" &&
            outcome.error_message == kAsyncTimeoutMessage) {
            outcome.error_name = std::string(kTimedOut);
        }
        return outcome;
    }
    try {
        if (mount) {
            int fd = -1;
            ok(sd_bus_message_read_basic(reply, SD_BUS_TYPE_UNIX_FD, &fd), "read rootfs");
            // The message owns its fd; keep a copy that outlives it.
            outcome.rootfs.reset(::fcntl(fd, F_DUPFD_CLOEXEC, 3));
        }
        outcome.report = read_report(reply);
    } catch (const std::runtime_error& error) {
        outcome.error_name = "stress.BadReply";
        outcome.error_message = error.what();
    }
    return outcome;
}

Outcome failed_call(int r) {
    Outcome outcome;
    outcome.error_name =
        r == -ETIMEDOUT ? std::string(kTimedOut) : "errno." + std::string(strerrorname_np(-r));
    outcome.error_message = std::strerror(-r);
    return outcome;
}

/// The reply to GetStatus. Throws std::runtime_error when the call fails.
MessagePtr get_status(sd_bus* bus, std::chrono::microseconds timeout) {
    sd_bus_message* raw = nullptr;
    ok(sd_bus_message_new_method_call(bus, &raw, kDestination, kPath, kInterface, "GetStatus"),
       "new GetStatus call");
    MessagePtr call(raw);
    sd_bus_error error{};
    sd_bus_message* reply = nullptr;
    const int r = sd_bus_call(bus, call.get(), usec(timeout), &error, &reply);
    MessagePtr owned(reply);
    const std::string name = error.name != nullptr ? error.name : "";
    sd_bus_error_free(&error);
    if (r < 0) {
        throw std::runtime_error("GetStatus failed: " + (name.empty() ? std::strerror(-r) : name));
    }
    return owned;
}

/// Makes the calling thread's real and effective uid `uid` until destruction, keeping 0 as the
/// saved uid to come back (sd-bus's server side compares the real uid it is told with the
/// socket's). The raw system call changes only this thread; glibc's setresuid changes them all.
class ThreadUid {
  public:
    explicit ThreadUid(uid_t uid) {
        if (::syscall(SYS_setresuid, uid, uid, 0) != 0) {
            throw std::runtime_error("setresuid: " + std::string(std::strerror(errno)));
        }
    }
    ~ThreadUid() {
        if (::syscall(SYS_setresuid, 0, 0, 0) != 0) {
            std::abort();  // a test thread that cannot become root again
        }
    }
    ThreadUid(const ThreadUid&) = delete;
    ThreadUid& operator=(const ThreadUid&) = delete;
};

}  // namespace

OptionArg OptionArg::string(std::string key, std::string value) {
    OptionArg option;
    option.key = std::move(key);
    option.type = SD_BUS_TYPE_STRING;
    option.text = std::move(value);
    return option;
}

OptionArg OptionArg::boolean(std::string key, bool value) {
    OptionArg option;
    option.key = std::move(key);
    option.type = SD_BUS_TYPE_BOOLEAN;
    option.flag = value;
    return option;
}

OptionArg OptionArg::uint32(std::string key, std::uint32_t value) {
    OptionArg option;
    option.key = std::move(key);
    option.type = SD_BUS_TYPE_UINT32;
    option.number = value;
    return option;
}

Connection::Connection(const std::string& address) {
    sd_bus* raw = nullptr;
    ok(sd_bus_new(&raw), "sd_bus_new");
    bus_.reset(raw);
    ok(sd_bus_set_address(raw, address.c_str()), "bus address");
    ok(sd_bus_set_bus_client(raw, 1), "bus client");
    ok(sd_bus_negotiate_fds(raw, 1), "fd passing");
    ok(sd_bus_start(raw), "connect to " + address);
}

Outcome Connection::call(const CallSpec& spec, std::chrono::microseconds timeout) {
    auto message = new_call(bus_.get(), spec);
    sd_bus_error error{};
    sd_bus_message* raw_reply = nullptr;
    const int r = sd_bus_call(bus_.get(), message.get(), usec(timeout), &error, &raw_reply);
    MessagePtr reply(raw_reply);
    // sd_bus_call hands an error reply back as an sd_bus_error, not as a message.
    Outcome refused;
    refused.error_name = error.name != nullptr ? error.name : "";
    refused.error_message = error.message != nullptr ? error.message : "";
    sd_bus_error_free(&error);
    if (reply) {
        return outcome_of(reply.get(), spec.mount);
    }
    if (r >= 0) {
        throw std::logic_error("sd_bus_call succeeded without a reply");
    }
    // A name is the peer's (NoReply from the bus when the daemon died, a refusal…) or sd-bus's
    // for its own timeout (org.freedesktop.DBus.Error.Timeout, which is kTimedOut).
    return refused.error_name.empty() ? failed_call(r) : std::move(refused);
}

std::vector<Outcome> Connection::call_all(std::span<const CallSpec> specs,
                                          std::chrono::microseconds timeout) {
    struct Pending {
        Outcome* outcome = nullptr;
        bool mount = false;
        std::size_t* left = nullptr;
    };
    std::vector<Outcome> outcomes(specs.size());
    std::vector<Pending> pending(specs.size());
    std::vector<SlotPtr> slots;
    std::size_t left = specs.size();
    auto on_reply = [](sd_bus_message* reply, void* userdata, sd_bus_error*) -> int {
        auto* p = static_cast<Pending*>(userdata);
        *p->outcome = outcome_of(reply, p->mount);
        --*p->left;
        return 1;
    };
    for (std::size_t i = 0; i < specs.size(); ++i) {
        pending[i] = {&outcomes[i], specs[i].mount, &left};
        auto message = new_call(bus_.get(), specs[i]);
        sd_bus_slot* slot = nullptr;
        const int r = sd_bus_call_async(bus_.get(), &slot, message.get(), on_reply, &pending[i],
                                        usec(timeout));
        if (r < 0) {
            outcomes[i] = failed_call(r);
            --left;
            continue;
        }
        slots.emplace_back(slot);
    }
    while (left > 0) {
        const int r = sd_bus_process(bus_.get(), nullptr);
        if (r < 0) {
            throw std::runtime_error("sd_bus_process: " + std::string(std::strerror(-r)));
        }
        if (r == 0) {
            ok(sd_bus_wait(bus_.get(), UINT64_MAX), "sd_bus_wait");
        }
    }
    return outcomes;
}

void Connection::send_and_hang_up(const CallSpec& spec) {
    auto message = new_call(bus_.get(), spec);
    ok(sd_bus_send(bus_.get(), message.get(), nullptr), "send");
    ok(sd_bus_flush(bus_.get()), "flush");
    bus_.reset();
}

Counters Connection::counters(std::chrono::microseconds timeout) {
    auto reply = get_status(bus_.get(), timeout);
    Counters counters;
    for_each_entry(reply.get(), [&](std::string_view key, std::string_view signature) {
        std::uint64_t* slot = key == "requests"   ? &counters.requests
                              : key == "mounts"   ? &counters.mounts
                              : key == "refusals" ? &counters.refusals
                                                  : nullptr;
        if (slot == nullptr || signature != "t") {
            return false;
        }
        ok(sd_bus_message_read(reply.get(), "v", "t", slot), "counter");
        return true;
    });
    return counters;
}

bool Connection::kernel_fs_verity(std::chrono::microseconds timeout) {
    auto reply = get_status(bus_.get(), timeout);
    int fs_verity = 0;
    for_each_entry(reply.get(), [&](std::string_view key, std::string_view signature) {
        if (key != "kernel" || signature != "a{sv}") {
            return false;
        }
        ok(sd_bus_message_enter_container(reply.get(), SD_BUS_TYPE_VARIANT, "a{sv}"), "kernel");
        for_each_entry(reply.get(), [&](std::string_view feature, std::string_view type) {
            if (feature != "fs_verity" || type != "b") {
                return false;
            }
            ok(sd_bus_message_read(reply.get(), "v", "b", &fs_verity), "fs_verity");
            return true;
        });
        ok(sd_bus_message_exit_container(reply.get()), "exit kernel");
        return true;
    });
    return fs_verity != 0;
}

Outcome call_as_user(const std::string& address, uid_t uid, const CallSpec& spec,
                     std::chrono::microseconds timeout) {
    ThreadUid as_user(uid);
    Connection connection(address);
    return connection.call(spec, timeout);
}

}  // namespace vmd::testing::stress
