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
#include "fixtures/bus_client.hpp"
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

using vmd::testing::bus_client::call;
using vmd::testing::bus_client::CallResult;
using vmd::testing::bus_client::connect;
using vmd::testing::bus_client::Dict;
using vmd::testing::bus_client::keys_and_types;
using vmd::testing::bus_client::read_dict;
using vmd::testing::bus_client::Value;

}  // namespace vmd::testing::bus_fixture
