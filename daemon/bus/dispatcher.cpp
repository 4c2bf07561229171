#include "bus/dispatcher.hpp"

#include <spdlog/spdlog.h>
#include <sys/eventfd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <utility>
#include <variant>

#include "bus/options.hpp"
#include "bus/reply.hpp"
#include "common/error.hpp"

namespace vmd::bus {

struct Dispatcher::Work {
    std::uint64_t id = 0;
    bool mount = false;
    service::Service* service = nullptr;
    service::Caller caller;
    std::string image;
    std::string container;
    service::RequestOptions options;
    std::optional<service::RequestSlot> slot;  // released when the reply has been sent
    std::chrono::steady_clock::time_point started;
    std::variant<std::monostate, service::MountResult, service::Report, Error> outcome;
};

namespace {

using Clock = std::chrono::steady_clock;

/// The caller of `call`: the socket's peer on peer-to-peer, else the sender as the bus knows it
/// (dbus-daemon's UnixUserID is the connection's SO_PEERCRED uid).
service::Caller caller_of(sd_bus_message* call, const Endpoint& endpoint) {
    if (endpoint.peer) {
        return {endpoint.peer->uid, endpoint.peer->pid};
    }
    sd_bus_creds* raw = nullptr;
    int r = sd_bus_query_sender_creds(call, SD_BUS_CREDS_EUID | SD_BUS_CREDS_PID, &raw);
    CredsPtr creds(raw);
    service::Caller caller;
    if (r >= 0) {
        r = sd_bus_creds_get_euid(creds.get(), &caller.uid);
    }
    if (r < 0) {
        fail(Errc::AccessDenied, "caller: expected the sender's uid from the bus, found none ({})",
             std::strerror(-r));
    }
    if (sd_bus_creds_get_pid(creds.get(), &caller.pid) < 0) {
        caller.pid = 0;
    }
    return caller;
}

/// Runs `body`, turning any exception into an error reply to `call`. Returns 1 (handled).
template <typename Body>
int guarded(sd_bus_message* call, Body&& body) {
    try {
        body();
    } catch (const Error& error) {
        // Already audited by the method (Service::refused) or by the service's pipeline.
        reply_error(call, error.dbus_name(), error.message());
    } catch (const std::exception& error) {
        spdlog::error("{}: {}", sd_bus_message_get_member(call), error.what());
        reply_error(call, dbus_error_name(Errc::Internal), error.what());
    }
    return 1;
}

std::string ascii_only(std::string text) {
    for (char& c : text) {
        if (static_cast<unsigned char>(c) >= 0x80) {
            c = '?';
        }
    }
    return text;
}

}  // namespace

int reply_error(sd_bus_message* call, const std::string& name, const std::string& message) {
    int r = sd_bus_reply_method_errorf(call, name.c_str(), "%s", message.c_str());
    if (r == -EINVAL) {
        // Invalid UTF-8 (bytes from the store, say) cannot go on the bus; keep the rest.
        r = sd_bus_reply_method_errorf(call, name.c_str(), "%s", ascii_only(message).c_str());
    }
    if (r < 0) {
        spdlog::debug("error reply to {} not sent: {}", sd_bus_message_get_member(call),
                      std::strerror(-r));
    }
    return 1;
}

Dispatcher::Dispatcher(service::Service& service, sd_event* event)
    : service_(service),
      completion_fd_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)),
      last_reply_(Clock::now()),
      pool_(service.config().max_concurrent) {
    if (!completion_fd_) {
        fail_errno(Errc::Internal, errno, "eventfd");
    }
    sd_event_source* source = nullptr;
    check(sd_event_add_io(event, &source, completion_fd_.get(), EPOLLIN, on_completion, this),
          "watch completions");
    completion_source_.reset(source);
}

Dispatcher::~Dispatcher() {
    drain();
}

int Dispatcher::mount(sd_bus_message* call, const Endpoint& endpoint) {
    return guarded(call, [&] { start(call, endpoint, true); });
}

int Dispatcher::verify(sd_bus_message* call, const Endpoint& endpoint) {
    return guarded(call, [&] { start(call, endpoint, false); });
}

int Dispatcher::get_status(sd_bus_message* call, const Endpoint& endpoint) {
    return guarded(call, [&] {
        service::Caller caller;
        try {
            caller = caller_of(call, endpoint);
            service_.authorize(caller);
        } catch (const Error& error) {
            service_.refused(caller, "GetStatus", "", "", error);
            throw;
        }
        sd_bus_message* raw = nullptr;
        check(sd_bus_message_new_method_return(call, &raw), "GetStatus reply");
        MessagePtr reply(raw);
        append_status(reply.get(), service_);
        int r = sd_bus_send(nullptr, reply.get(), nullptr);
        if (r < 0) {
            spdlog::debug("GetStatus reply not sent: {}", std::strerror(-r));
        }
    });
}

void Dispatcher::start(sd_bus_message* call, const Endpoint& endpoint, bool mount) {
    auto work = std::make_shared<Work>();
    work->started = Clock::now();
    work->mount = mount;
    work->service = &service_;
    try {
        // The arguments are read (not judged) first, so that a refusal's audit record names them.
        const char* image = nullptr;
        check(sd_bus_message_read_basic(call, SD_BUS_TYPE_STRING, &image), "read image");
        work->image = image;
        if (mount) {
            const char* container = nullptr;
            check(sd_bus_message_read_basic(call, SD_BUS_TYPE_STRING, &container),
                  "read container");
            work->container = container;
        }
        work->caller = caller_of(call, endpoint);
        service_.authorize(work->caller);
        // A peer that did not negotiate fd passing could never receive the rootfs.
        if (mount && sd_bus_can_send(sd_bus_message_get_bus(call), SD_BUS_TYPE_UNIX_FD) <= 0) {
            fail(Errc::InvalidArgument,
                 "connection: expected one that passes file descriptors, found one that does not");
        }
        work->options = read_options(call);
        work->slot.emplace(service_.acquire_slot());
    } catch (const Error& error) {
        service_.refused(work->caller, mount ? "Mount" : "Verify", work->image, work->container,
                         error);
        throw;
    }

    work->id = next_id_++;
    pending_.emplace(work->id, MessagePtr(sd_bus_message_ref(call)));
    pool_.submit([this, work] {
        run(*work);
        finished(work);
    });
}

void Dispatcher::run(Work& work) noexcept {
    try {
        if (work.mount) {
            work.outcome =
                work.service->mount(work.caller, work.image, work.container, work.options);
        } else {
            work.outcome = work.service->verify(work.caller, work.image, work.options);
        }
    } catch (const Error& error) {
        work.outcome = error;
    } catch (const std::exception& error) {
        work.outcome = Error(Errc::Internal, error.what());
    } catch (...) {
        work.outcome = Error(Errc::Internal, "unknown exception");
    }
}

void Dispatcher::finished(std::shared_ptr<Work> work) {
    {
        std::lock_guard lock(done_mutex_);
        done_.push_back(std::move(work));
    }
    const std::uint64_t one = 1;
    // Only fails when the counter would overflow, and then the loop is woken anyway.
    [[maybe_unused]] auto n = ::write(completion_fd_.get(), &one, sizeof one);
}

int Dispatcher::on_completion(sd_event_source*, int fd, uint32_t, void* userdata) {
    std::uint64_t count = 0;
    [[maybe_unused]] auto n = ::read(fd, &count, sizeof count);
    static_cast<Dispatcher*>(userdata)->send_replies();
    return 0;
}

void Dispatcher::send_replies() {
    std::vector<std::shared_ptr<Work>> done;
    {
        std::lock_guard lock(done_mutex_);
        done.swap(done_);
    }
    for (auto& work : done) {
        auto it = pending_.find(work->id);
        if (it == pending_.end()) {
            continue;
        }
        reply(it->second.get(), *work);
        // The daemon's copy of the rootfs and the slot go as soon as the reply is queued.
        work->outcome = std::monostate{};
        work->slot.reset();
        pending_.erase(it);
        last_reply_ = Clock::now();
    }
}

void Dispatcher::reply(sd_bus_message* call, Work& work) {
    if (const auto* error = std::get_if<Error>(&work.outcome)) {
        reply_error(call, error->dbus_name(), error->message());
        return;
    }
    if (sd_bus_message_get_expect_reply(call) <= 0) {
        return;
    }
    guarded(call, [&] {
        sd_bus_message* raw = nullptr;
        check(sd_bus_message_new_method_return(call, &raw), "reply");
        MessagePtr message(raw);
        service::Report* report = nullptr;
        if (auto* mounted = std::get_if<service::MountResult>(&work.outcome)) {
            const int fd = mounted->rootfs.get();
            check(sd_bus_message_append_basic(message.get(), SD_BUS_TYPE_UNIX_FD, &fd), "rootfs");
            report = &mounted->report;
        } else {
            report = &std::get<service::Report>(work.outcome);
        }
        report->elapsed_us = static_cast<std::uint64_t>(
            std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - work.started)
                .count());
        append_report(message.get(), *report);
        int r = sd_bus_send(nullptr, message.get(), nullptr);
        if (r < 0) {
            spdlog::debug("{} reply not sent: {}", sd_bus_message_get_member(call),
                          std::strerror(-r));
        }
    });
}

void Dispatcher::drain() {
    pool_.shutdown();
    send_replies();
}

}  // namespace vmd::bus
