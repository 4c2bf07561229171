// Test support for the D-Bus server: a private dbus-daemon, the server on a thread, sd-bus client
// calls, and a reader that turns an a{sv} into values a test can compare.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/eventfd.h>
#include <systemd/sd-bus.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "bus/sd_ptr.hpp"
#include "bus/server.hpp"
#include "common/unique_fd.hpp"
#include "config/config.hpp"
#include "fixtures/processes.hpp"
#include "fixtures/test_env.hpp"
#include "mount/kernel_features.hpp"
#include "service/audit.hpp"
#include "service/service.hpp"

namespace vmd::testing::bus_fixture {

using vmd::bus::BusPtr;
using vmd::bus::MessagePtr;

/// A private dbus-daemon of type "system" (every user may call, root may own names).
using vmd::testing::PrivateBus;

/// A store root (an empty directory: a store with no images yet) and a policy file.
struct TestStore {
    TempDir dir;

    /// A config for this store; verity at `digest` (test_kernel() has no fs-verity), everything
    /// else at its default.
    config::Config config() const {
        std::filesystem::create_directories(dir.path() / "storage");
        write_file(dir.path() / "policy.json",
                   R"({"default": [{"type": "insecureAcceptAnything"}]})");
        config::Config config;
        config.storage_root = dir.path() / "storage";
        config.policy_path = dir.path() / "policy.json";
        config.verity = VerityLevel::Digest;
        config.idle_exit_seconds = 0;
        return config;
    }
};

/// Kernel features with distinct values, so a test sees each one travel.
inline mount::KernelFeatures test_kernel() {
    mount::KernelFeatures kernel;
    kernel.release = "test";
    kernel.fs_verity = false;
    kernel.overlay_verity = true;
    kernel.overlay_lowerdir_plus = true;
    kernel.erofs_file_backed = false;
    kernel.detached_layers = true;
    return kernel;
}

/// The number of fds this process has open.
inline std::size_t open_fds() {
    return open_fd_count(::getpid());
}

/// The whole content of `path` below the directory fd `root` (a rootfs received from Mount).
inline std::string read_beneath(int root, const char* path) {
    UniqueFd fd(::openat(root, path, O_RDONLY | O_CLOEXEC));
    if (!fd) {
        return "(cannot open " + std::string(path) + ")";
    }
    std::string text;
    char buffer[4096];
    ssize_t n = 0;
    while ((n = ::read(fd.get(), buffer, sizeof buffer)) > 0) {
        text.append(buffer, static_cast<std::size_t>(n));
    }
    return text;
}

/// One audit record as a test compares it.
struct AuditEntry {
    std::string method;
    std::string image;
    std::string result;  // "ok" or the full error name
    std::string message;
    std::uint64_t elapsed_us = 0;

    /// "method image result".
    std::string line() const { return method + " " + image + " " + result; }
};

/// The audit records written while it lives (the service's audit sink).
class AuditCapture {
  public:
    AuditCapture() {
        service::set_audit_sink([this](const service::AuditRecord& record) {
            std::lock_guard lock(mutex_);
            entries_.push_back({std::string(record.method), std::string(record.image),
                                record.error != nullptr ? record.error->dbus_name() : "ok",
                                record.error != nullptr ? record.error->message() : "",
                                record.elapsed_us});
            written_.notify_all();
        });
    }
    ~AuditCapture() { service::set_audit_sink(nullptr); }
    AuditCapture(const AuditCapture&) = delete;
    AuditCapture& operator=(const AuditCapture&) = delete;

    /// Every record so far as "method image result" lines.
    std::vector<std::string> lines() {
        std::lock_guard lock(mutex_);
        std::vector<std::string> out;
        for (const auto& entry : entries_) {
            out.push_back(entry.line());
        }
        return out;
    }
    /// Waits until `count` records were written (throws after 60 s: a request never ended);
    /// returns them all.
    std::vector<AuditEntry> wait_for(std::size_t count) {
        std::unique_lock lock(mutex_);
        if (!written_.wait_for(lock, std::chrono::seconds(60),
                               [&] { return entries_.size() >= count; })) {
            throw std::runtime_error("expected " + std::to_string(count) +
                                     " audit records, found " + std::to_string(entries_.size()));
        }
        return entries_;
    }

  private:
    std::mutex mutex_;
    std::condition_variable written_;
    std::vector<AuditEntry> entries_;
};

/// bus::run() on its own thread, stopped through its stop eventfd.
class ServerThread {
  public:
    ServerThread(service::Service& service, vmd::bus::RunOptions options)
        : stop_fd_(::eventfd(0, EFD_CLOEXEC)) {
        options.stop_fd = stop_fd_.get();
        options.handle_signals = false;
        options.notify = false;
        options.on_ready = [this] {
            std::lock_guard lock(mutex_);
            ready_ = true;
            changed_.notify_all();
        };
        thread_ = std::thread([this, &service, options = std::move(options)] {
            const int code = vmd::bus::run(service, options);
            std::lock_guard lock(mutex_);
            exit_code_ = code;
            finished_ = true;
            changed_.notify_all();
        });
        std::unique_lock lock(mutex_);
        changed_.wait(lock, [this] { return ready_ || finished_; });
    }
    ServerThread(const ServerThread&) = delete;
    ServerThread& operator=(const ServerThread&) = delete;
    ~ServerThread() { stop(); }

    /// Whether run() got as far as serving.
    bool ready() {
        std::lock_guard lock(mutex_);
        return ready_;
    }
    /// Asks run() to stop and returns its exit code.
    int stop() {
        if (thread_.joinable()) {
            const std::uint64_t one = 1;
            [[maybe_unused]] auto n = ::write(stop_fd_.get(), &one, sizeof one);
        }
        return wait();
    }
    /// Waits up to `limit` for run() to return by itself: its exit code, or nullopt when it
    /// still runs.
    std::optional<int> wait_for(std::chrono::seconds limit) {
        {
            std::unique_lock lock(mutex_);
            if (!changed_.wait_for(lock, limit, [this] { return finished_; })) {
                return std::nullopt;
            }
        }
        return wait();
    }
    /// Waits for run() to return by itself and returns its exit code.
    int wait() {
        if (thread_.joinable()) {
            thread_.join();
        }
        return exit_code_;
    }

  private:
    UniqueFd stop_fd_;
    std::mutex mutex_;
    std::condition_variable changed_;
    bool ready_ = false;
    bool finished_ = false;
    int exit_code_ = -1;
    std::thread thread_;
};

/// An sd-bus client of `address`; `bus_client` says whether it says Hello (as bus clients do).
inline BusPtr connect(const std::string& address, bool bus_client = true, bool fds = true) {
    sd_bus* raw = nullptr;
    if (sd_bus_new(&raw) < 0) {
        throw std::runtime_error("sd_bus_new");
    }
    BusPtr bus(raw);
    if (sd_bus_set_address(raw, address.c_str()) < 0 ||
        sd_bus_set_bus_client(raw, bus_client) < 0 || sd_bus_negotiate_fds(raw, fds) < 0 ||
        sd_bus_start(raw) < 0) {
        throw std::runtime_error("cannot connect to " + address);
    }
    return bus;
}

/// The outcome of one method call.
struct CallResult {
    std::string error_name;  // empty on success
    std::string error_message;
    MessagePtr reply;
};

/// Calls `method` of the VerityMount1 object; `append` adds the arguments.
inline CallResult call(sd_bus* bus, const char* method,
                       const std::function<void(sd_bus_message*)>& append = {}) {
    sd_bus_message* raw = nullptr;
    if (sd_bus_message_new_method_call(bus, &raw, "io.containers.VerityMount1",
                                       "/io/containers/VerityMount1", "io.containers.VerityMount1",
                                       method) < 0) {
        throw std::runtime_error("new method call");
    }
    MessagePtr message(raw);
    if (append) {
        append(raw);
    }
    sd_bus_error error{};
    sd_bus_message* reply = nullptr;
    CallResult result;
    if (sd_bus_call(bus, raw, 0, &error, &reply) < 0) {
        result.error_name = error.name != nullptr ? error.name : "(none)";
        result.error_message = error.message != nullptr ? error.message : "";
    }
    result.reply.reset(reply);
    sd_bus_error_free(&error);
    return result;
}

/// One value of an a{sv}, with its signature; containers are read recursively.
struct Value {
    std::string signature;
    std::string text;                                 // s, b ("true"/"false"), u, t
    std::vector<std::string> items;                   // as, au
    std::map<std::string, Value> dict;                // a{sv}
    std::vector<std::map<std::string, Value>> dicts;  // aa{sv}
};
using Dict = std::map<std::string, Value>;

inline void expect_ok(int r, const char* what) {
    if (r < 0) {
        throw std::runtime_error(std::string("sd-bus read failed: ") + what);
    }
}

Dict read_dict(sd_bus_message* message);

/// Reads the value of `signature` at the current position.
inline Value read_value(sd_bus_message* message, const std::string& signature) {
    Value value;
    value.signature = signature;
    if (signature == "s") {
        const char* text = nullptr;
        expect_ok(sd_bus_message_read_basic(message, 's', &text), "s");
        value.text = text;
    } else if (signature == "b") {
        int flag = 0;
        expect_ok(sd_bus_message_read_basic(message, 'b', &flag), "b");
        value.text = flag ? "true" : "false";
    } else if (signature == "u") {
        std::uint32_t number = 0;
        expect_ok(sd_bus_message_read_basic(message, 'u', &number), "u");
        value.text = std::to_string(number);
    } else if (signature == "t") {
        std::uint64_t number = 0;
        expect_ok(sd_bus_message_read_basic(message, 't', &number), "t");
        value.text = std::to_string(number);
    } else if (signature == "as" || signature == "au") {
        expect_ok(sd_bus_message_enter_container(message, 'a', signature.c_str() + 1), "array");
        while (sd_bus_message_at_end(message, false) == 0) {
            value.items.push_back(read_value(message, signature.substr(1)).text);
        }
        expect_ok(sd_bus_message_exit_container(message), "array");
    } else if (signature == "a{sv}") {
        value.dict = read_dict(message);
    } else if (signature == "aa{sv}") {
        expect_ok(sd_bus_message_enter_container(message, 'a', "a{sv}"), "aa{sv}");
        while (sd_bus_message_at_end(message, false) == 0) {
            value.dicts.push_back(read_dict(message));
        }
        expect_ok(sd_bus_message_exit_container(message), "aa{sv}");
    } else {
        expect_ok(sd_bus_message_skip(message, signature.c_str()), "skip");
    }
    return value;
}

/// Reads an a{sv} at the current position.
inline Dict read_dict(sd_bus_message* message) {
    Dict dict;
    expect_ok(sd_bus_message_enter_container(message, 'a', "{sv}"), "a{sv}");
    while (sd_bus_message_enter_container(message, 'e', "sv") > 0) {
        const char* key = nullptr;
        expect_ok(sd_bus_message_read_basic(message, 's', &key), "key");
        const char* contents = nullptr;
        expect_ok(sd_bus_message_peek_type(message, nullptr, &contents), "peek");
        const std::string signature = contents;
        expect_ok(sd_bus_message_enter_container(message, 'v', contents), "variant");
        dict[key] = read_value(message, signature);
        expect_ok(sd_bus_message_exit_container(message), "variant");
        expect_ok(sd_bus_message_exit_container(message), "entry");
    }
    expect_ok(sd_bus_message_exit_container(message), "a{sv}");
    return dict;
}

/// The keys of `dict`, each with its signature ("key:sig"), sorted.
inline std::vector<std::string> keys_and_types(const Dict& dict) {
    std::vector<std::string> out;
    for (const auto& [key, value] : dict) {
        out.push_back(key + ":" + value.signature);
    }
    return out;
}

}  // namespace vmd::testing::bus_fixture
