#include "bus/dispatcher.hpp"

#include <malloc.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <new>
#include <string>
#include <utility>
#include <variant>

#include "bus/options.hpp"
#include "bus/reply.hpp"
#include "storage/store.hpp"

namespace vmd::bus {

struct Dispatcher::Work {
    std::uint64_t id = 0;
    bool over_bus = false;  // through dbus-daemon (not peer-to-peer)
    service::Request request;
    std::optional<service::RequestSlot> slot;  // released once the reply is built
    Clock::time_point started;                 // when the call was read
    std::variant<std::monostate, service::MountResult, service::Report, Error> outcome;
    std::shared_ptr<Work> next_done;  // the rest of Dispatcher::done_: a push never allocates
};

namespace {

/// Microseconds since `started`: a request's elapsed_us.
std::uint64_t elapsed_us_since(std::chrono::steady_clock::time_point started) {
    return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                          std::chrono::steady_clock::now() - started)
                                          .count());
}

/// `error` (a failure that is not an Error: std::bad_alloc, std::system_error, …) as an
/// Internal error.
Error as_internal(const std::exception& error) noexcept {
    // "out of memory" fits the string's inline buffer: building it does not allocate.
    if (dynamic_cast<const std::bad_alloc*>(&error) != nullptr) {
        return {Errc::Internal, "out of memory"};
    }
    try {
        return {Errc::Internal, error.what()};
    } catch (const std::bad_alloc&) {
        return {Errc::Internal, "out of memory"};
    }
}

/// The sender of `call` as the bus knows it (dbus-daemon's UnixUserID is the connection's
/// SO_PEERCRED uid): one round trip to the bus.
service::Caller query_sender(sd_bus_message* call) {
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

/// Reads the string argument `name` of `call`. sd-bus checks a string as it reads it: one it
/// refuses (invalid UTF-8, a body shorter than its signature, from a peer-to-peer caller; a bus
/// drops such a sender itself) is the caller's error.
std::string read_string(sd_bus_message* call, std::string_view name) {
    const char* text = nullptr;
    const int r = sd_bus_message_read_basic(call, SD_BUS_TYPE_STRING, &text);
    if (r <= 0) {
        fail(Errc::InvalidArgument,
             "{}: expected a valid UTF-8 string, found bytes sd-bus refuses ({})", name,
             r < 0 ? std::strerror(-r) : "none");
    }
    return text;
}

/// The layer mounts of a successful Mount, taken out of its outcome (none otherwise).
template <typename Work>
service::LayerMounts take_layer_mounts(Work& work) noexcept {
    auto* mounted = std::get_if<service::MountResult>(&work.outcome);
    return mounted != nullptr ? std::move(mounted->layer_mounts) : service::LayerMounts{};
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

service::Caller Dispatcher::caller_of(sd_bus_message* call, const Endpoint& endpoint) {
    if (endpoint.peer) {
        return {endpoint.peer->uid, endpoint.peer->pid};
    }
    // A unique name (":1.42") names one connection for the bus's whole life, and the bus took
    // its uid and pid from SO_PEERCRED when it connected: the answer cannot change.
    const char* sender = sd_bus_message_get_sender(call);
    const bool unique = sender != nullptr && sender[0] == ':';
    if (unique) {
        if (auto known = callers_.find(sender); known != callers_.end()) {
            return known->second;
        }
    }
    const service::Caller caller = query_sender(call);
    if (unique) {
        if (callers_.size() >= kMaxKnownCallers) {
            callers_.clear();  // names of connections long gone, mostly
        }
        callers_.emplace(sender, caller);
    }
    return caller;
}

int reply_error(sd_bus_message* call, const Error& error) noexcept {
    int r = 0;
    try {
        const std::string name = error.dbus_name();
        r = sd_bus_reply_method_errorf(call, name.c_str(), "%s", error.message().c_str());
        if (r == -EINVAL) {
            // Invalid UTF-8 (bytes from the store, say) cannot go on the bus; keep the rest.
            r = sd_bus_reply_method_errorf(call, name.c_str(), "%s",
                                           ascii_only(error.message()).c_str());
        }
    } catch (const std::bad_alloc&) {
        r = sd_bus_reply_method_errno(call, ENOMEM, nullptr);
    }
    if (r < 0) {
        spdlog::debug("error reply to {} not sent: {}", sd_bus_message_get_member(call),
                      std::strerror(-r));
    }
    return 1;
}

Dispatcher::Dispatcher(service::Service& service, sd_event* event, FaultInjector inject)
    : service_(service),
      inject_(std::move(inject)),
      completion_fd_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)),
      last_reply_(Clock::now()),
      pool_(service.config().max_concurrent, inject_) {
    if (!completion_fd_) {
        fail_errno(Errc::Internal, errno, "eventfd");
    }
    sd_event_source* source = nullptr;
    check(sd_event_add_io(event, &source, completion_fd_.get(), EPOLLIN, on_completion, this),
          "watch completions");
    completion_source_.reset(source);
    check(sd_event_add_time_relative(event, &source, CLOCK_MONOTONIC, kTrimAfterUsec, 0,
                                     on_trim_timer, this),
          "memory trim timer");
    trim_source_.reset(source);
    check(sd_event_source_set_enabled(source, SD_EVENT_OFF), "memory trim timer");
}

Dispatcher::~Dispatcher() {
    drain();
}

int Dispatcher::mount(sd_bus_message* call, const Endpoint& endpoint) noexcept {
    return start(call, endpoint, "Mount");
}

int Dispatcher::verify(sd_bus_message* call, const Endpoint& endpoint) noexcept {
    return start(call, endpoint, "Verify");
}

int Dispatcher::get_status(sd_bus_message* call, const Endpoint& endpoint) noexcept {
    const auto started = Clock::now();
    service::Request request;
    request.method = "GetStatus";
    try {
        request.caller = caller_of(call, endpoint);
        service_.authorize(request.caller);
        sd_bus_message* raw = nullptr;
        check(sd_bus_message_new_method_return(call, &raw), "GetStatus reply");
        MessagePtr reply(raw);
        append_status(reply.get(), service_);
        if (const int r = sd_bus_send(nullptr, reply.get(), nullptr); r < 0) {
            spdlog::debug("GetStatus reply not sent: {}", std::strerror(-r));
        }
    } catch (const Error& error) {
        refuse(call, request, error, started);
    } catch (const std::exception& error) {
        refuse(call, request, as_internal(error), started);
    }
    return 1;
}

int Dispatcher::wrong_signature(sd_bus_message* call, const Endpoint& endpoint,
                                std::string_view method, std::string_view expected) noexcept {
    const auto started = Clock::now();
    service::Request request;
    request.method = method;
    try {
        request.caller = caller_of(call, endpoint);
        service_.authorize(request.caller);  // a caller who may not call learns nothing more
        const char* found = sd_bus_message_get_signature(call, 1);
        fail(Errc::InvalidArgument, "arguments of {}: expected the signature \"{}\", found \"{}\"",
             method, expected, found != nullptr ? found : "");
    } catch (const Error& error) {
        refuse(call, request, error, started);
    } catch (const std::exception& error) {
        refuse(call, request, as_internal(error), started);
    }
    return 1;
}

int Dispatcher::start(sd_bus_message* call, const Endpoint& endpoint,
                      std::string_view method) noexcept {
    const auto started = Clock::now();
    service::Request unread;  // what a refusal names when not even the Work could be made
    unread.method = method;
    std::shared_ptr<Work> work;
    try {
        work = std::make_shared<Work>();
        work->started = started;
        work->over_bus = !endpoint.peer;
        service::Request& request = work->request;
        request.method = method;
        // The arguments are read (not judged) first, so that a refusal's audit record names them.
        request.image = read_string(call, "image");
        if (method == "Mount") {
            request.container = read_string(call, "container");
        }
        request.caller = caller_of(call, endpoint);
        service_.authorize(request.caller);
        // A peer that did not negotiate fd passing could never receive the rootfs.
        if (method == "Mount" &&
            sd_bus_can_send(sd_bus_message_get_bus(call), SD_BUS_TYPE_UNIX_FD) <= 0) {
            fail(Errc::InvalidArgument,
                 "connection: expected one that passes file descriptors, found one that does not");
        }
        request.options = read_options(call);
        check(injected_fault(inject_, FaultPoint::Decode), "decode the call");
        work->slot.emplace(service_.acquire_slot());
        submit(call, work);
        return 1;
    } catch (const Error& error) {
        if (work) {
            work->slot.reset();
        }
        refuse(call, work ? work->request : unread, error, started);
    } catch (const std::exception& error) {
        if (work) {
            work->slot.reset();
        }
        refuse(call, work ? work->request : unread, as_internal(error), started);
    }
    return 1;
}

void Dispatcher::submit(sd_bus_message* call, const std::shared_ptr<Work>& work) {
    work->id = next_id_++;
    const auto entry = pending_.emplace(work->id, MessagePtr(sd_bus_message_ref(call))).first;
    try {
        pool_.submit([this, work] {
            run(*work);
            auto layer_mounts = take_layer_mounts(*work);
            finished(work);
            // Only now, while the bus thread answers: each close waits out an RCU grace period.
            layer_mounts.close();
        });
    } catch (...) {
        // Not queued: nothing will answer it but the caller's refusal.
        pending_.erase(entry);
        throw;
    }
}

void Dispatcher::run(Work& work) noexcept {
    try {
        check(injected_fault(inject_, FaultPoint::Run), "run the request");
        if (work.request.method == "Mount") {
            work.outcome = service_.mount(work.request);
        } else {
            work.outcome = service_.verify(work.request);
        }
    } catch (Error& error) {
        work.outcome = std::move(error);
    } catch (const std::exception& error) {
        work.outcome = as_internal(error);
    } catch (...) {
        work.outcome = Error(Errc::Internal, "unknown error");
    }
}

void Dispatcher::finished(std::shared_ptr<Work> work) noexcept {
    {
        std::lock_guard lock(done_mutex_);
        work->next_done = std::move(done_);
        done_ = std::move(work);
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

void Dispatcher::send_replies() noexcept {
    std::shared_ptr<Work> done;
    {
        std::lock_guard lock(done_mutex_);
        done.swap(done_);
    }
    while (done) {
        auto next = std::move(done->next_done);
        if (auto entry = pending_.find(done->id); entry != pending_.end()) {
            // Out of pending_ first: whatever happens while answering, nothing stays in flight.
            MessagePtr call = std::move(entry->second);
            pending_.erase(entry);
            answer(call.get(), *done);
            last_reply_ = Clock::now();
        }
        done->outcome = std::monostate{};  // the daemon's copy of the rootfs, if not yet closed
        done->slot.reset();
        done = std::move(next);
    }
    if (pending_.empty()) {
        // Once nothing has been in flight for a while, what the requests freed goes back.
        sd_event_source_set_time_relative(trim_source_.get(), kTrimAfterUsec);
        sd_event_source_set_enabled(trim_source_.get(), SD_EVENT_ONESHOT);
    }
}

int Dispatcher::on_trim_timer(sd_event_source*, uint64_t, void* userdata) {
    if (static_cast<Dispatcher*>(userdata)->pending_.empty()) {
        storage::release_large_parsers();
        ::malloc_trim(0);
    }
    return 0;
}

void Dispatcher::answer(sd_bus_message* call, Work& work) noexcept {
    try {
        if (const auto* error = std::get_if<Error>(&work.outcome)) {
            work.slot.reset();
            refuse(call, work.request, *error, work.started);
            return;
        }
        send_result(call, work);
    } catch (const Error& error) {
        work.outcome = std::monostate{};
        work.slot.reset();
        refuse(call, work.request, error, work.started);
    } catch (const std::exception& error) {
        work.outcome = std::monostate{};
        work.slot.reset();
        refuse(call, work.request, as_internal(error), work.started);
    }
}

void Dispatcher::send_result(sd_bus_message* call, Work& work) {
    check(injected_fault(inject_, FaultPoint::Reply), "build the reply");
    sd_bus_message* raw = nullptr;
    check(sd_bus_message_new_method_return(call, &raw), "reply");
    MessagePtr reply(raw);
    service::Report* report = nullptr;
    if (auto* mounted = std::get_if<service::MountResult>(&work.outcome)) {
        const int fd = mounted->rootfs.get();
        int r = injected_fault(inject_, FaultPoint::AppendFd);
        if (r >= 0) {
            r = sd_bus_message_append_basic(reply.get(), SD_BUS_TYPE_UNIX_FD, &fd);  // dups it
        }
        check(r, "rootfs");
        report = &mounted->report;
    } else {
        report = &std::get<service::Report>(work.outcome);
    }
    // One value for the reply and the audit record; the send below adds only a queue write.
    report->elapsed_us = elapsed_us_since(work.started);
    append_report(reply.get(), *report);
    work.slot.reset();
    service_.answered(work.request, *report, report->elapsed_us);
    work.outcome = std::monostate{};  // the reply holds its own copy of the rootfs

    if (sd_bus_message_get_expect_reply(call) <= 0) {
        return;
    }
    int r = injected_fault(inject_, FaultPoint::Send);
    std::uint64_t cookie = 0;
    if (r >= 0) {
        r = sd_bus_send(nullptr, reply.get(), &cookie);
    }
    if (r < 0) {
        spdlog::debug("{} reply not sent (the caller left?): {}", work.request.method,
                      std::strerror(-r));
    } else if (work.over_bus && work.request.method == "Mount") {
        remember_fd_reply(cookie, call);
    }
}

void Dispatcher::remember_fd_reply(std::uint64_t cookie, sd_bus_message* call) noexcept {
    // dbus-daemon answers a refused reply at once; only the last few can still be refused.
    constexpr std::size_t kRemembered = 64;
    if (fd_replies_.size() >= kRemembered) {
        fd_replies_.pop_front();
    }
    try {
        fd_replies_.emplace_back(cookie, MessagePtr(sd_bus_message_ref(call)));
    } catch (const std::bad_alloc&) {
        // Not remembered: were the bus to refuse this reply, its caller would time out.
    }
}

void Dispatcher::reply_refused(std::uint64_t reply_cookie) noexcept {
    const auto entry = std::find_if(fd_replies_.begin(), fd_replies_.end(),
                                    [&](const auto& sent) { return sent.first == reply_cookie; });
    if (entry == fd_replies_.end()) {
        return;
    }
    const MessagePtr call = std::move(entry->second);
    fd_replies_.erase(entry);
    spdlog::warn("Mount reply to {} refused by the bus: its connection cannot receive fds",
                 sd_bus_message_get_sender(call.get()));
    try {
        reply_error(call.get(),
                    Error(Errc::InvalidArgument,
                          "connection: expected one that passes file descriptors, found one that "
                          "does not (the bus refused to pass the rootfs on)"));
    } catch (const std::bad_alloc&) {
        sd_bus_reply_method_errno(call.get(), ENOMEM, nullptr);
    }
}

void Dispatcher::refuse(sd_bus_message* call, const service::Request& request, const Error& error,
                        Clock::time_point started) noexcept {
    service_.refused(request, error, elapsed_us_since(started));
    reply_error(call, error);
}

void Dispatcher::drain() {
    pool_.shutdown();
    send_replies();
}

}  // namespace vmd::bus
