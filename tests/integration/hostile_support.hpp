// What the hostile-caller tests share: the real daemon serving the sample image over either
// transport (a private system bus, or the peer-to-peer socket as verity-mountd.socket passes
// it), a well-behaved client, and the checks made after every attack — the daemon's fds are
// back to what they were and a normal Mount still succeeds.
#pragma once

#include <gtest/gtest.h>
#include <systemd/sd-bus.h>

#include <chrono>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "daemon_env.hpp"
#include "fixtures/bus_client.hpp"
#include "fixtures/sample_images.hpp"
#include "hostile_wire.hpp"
#include "system_support.hpp"

namespace vmd::testing::hostile {

namespace bc = bus_client;

inline const std::string kError = "io.containers.VerityMount1.Error.";

enum class Transport { SystemBus, PeerToPeer };

/// For test names.
inline std::string transport_name(const ::testing::TestParamInfo<Transport>& info) {
    return info.param == Transport::SystemBus ? "SystemBus" : "PeerToPeer";
}

/// Throws unless `r` (an sd-bus return) is >= 0.
inline void ok(int r, const char* what) {
    if (r < 0) {
        throw std::runtime_error(std::string(what) + ": sd-bus error " + std::to_string(r));
    }
}

/// A Mount/Verify/GetStatus call whose arguments `append` writes.
inline sd_bus_message* new_call(sd_bus* bus, const char* method) {
    sd_bus_message* raw = nullptr;
    ok(sd_bus_message_new_method_call(bus, &raw, "io.containers.VerityMount1",
                                      "/io/containers/VerityMount1", "io.containers.VerityMount1",
                                      method),
       "new call");
    return raw;
}

class HostileCallers : public ::testing::TestWithParam<Transport> {
  protected:
    void SetUp() override {
        store_.emplace(build_store(sample_store(), dir_.path() / "fixture"));
        const auto config = dir_.path() / "config.json";
        sys::write_config(*store_, config);
        if (GetParam() == Transport::SystemBus) {
            bus_.emplace();
            address_ = bus_->address();
            daemon_.emplace(address_, config);
            pid_ = daemon_->pid();
            client_ = bc::connect(address_);
        } else {
            activated_.emplace(dir_.path(), config);
            address_ = activated_->address();
            client_ = bc::connect(address_);  // the first connection starts the daemon
            pid_ = activated_->daemon_pid();
        }
        ASSERT_EQ(status().error_name, "");
        baseline_fds_ = open_fd_count(pid_);
    }

    void TearDown() override {
        client_.reset();
        if (activated_) {
            EXPECT_EQ(activated_->stop(), 0) << activated_->log();
        } else if (daemon_) {
            EXPECT_EQ(daemon_->stop(), 0) << read_file(daemon_->log_path());
        }
    }

    const std::string& address() const { return address_; }
    std::filesystem::path socket() const { return wire::socket_of(address_); }
    /// A raw peer: on the system bus it says Hello first, as the bus requires.
    wire::RawPeer raw_peer(bool unix_fds = true) const {
        return wire::RawPeer(socket(), GetParam() == Transport::SystemBus, unix_fds);
    }

    bc::CallResult status() { return bc::call(client_.get(), "GetStatus"); }

    /// The daemon's GetStatus counter `key` ("requests", "refusals", "mounts").
    std::uint64_t counter(const std::string& key) {
        auto result = status();
        if (!result.error_name.empty()) {
            throw std::runtime_error("GetStatus: " + result.error_name);
        }
        return std::stoull(bc::read_dict(result.reply.get())[key].text);
    }

    /// GetStatus round trips until `done` holds (true), or 60 s pass (false). Every round trip
    /// is a turn of the daemon's event loop.
    bool until(const std::function<bool()>& done) {
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
        while (!done()) {
            if (std::chrono::steady_clock::now() > deadline) {
                return false;
            }
            if (!status().error_name.empty()) {
                return false;
            }
        }
        return true;
    }

    /// The daemon holds no more fds than before the attack (connections, mounts, loop
    /// devices, memfds are all fds): waits for it to close what the attack left.
    void expect_fds_back() {
        EXPECT_TRUE(until([&] { return open_fd_count(pid_) <= baseline_fds_; }))
            << open_fd_count(pid_) << " fds open in the daemon, " << baseline_fds_ << " before";
    }

    /// A normal Mount through verity-mountctl succeeds and shows the sample image.
    void expect_mount_works() {
        MountPoint target(dir_.path() / ("rootfs-" + std::to_string(++mounts_)));
        std::vector<std::string> argv = {built("client/verity-mountctl").string()};
        if (GetParam() == Transport::PeerToPeer) {
            argv.insert(argv.end(), {"--address", address_});
        }
        argv.insert(argv.end(), {"mount", std::string(kDemoName), "--target", target.str()});
        const auto result = run(argv, {"DBUS_SYSTEM_BUS_ADDRESS=" + address_});
        ASSERT_EQ(result.exit_code, 0) << result.err;
        EXPECT_EQ(read_file(target.path() / "etc/os-release"), kOsRelease);
    }

    /// The checks after an attack: the daemon kept serving and kept nothing of it.
    void expect_unharmed() {
        expect_mount_works();
        expect_fds_back();
    }

    TempDir dir_;
    std::optional<BuiltStore> store_;
    std::optional<PrivateBus> bus_;
    std::optional<DaemonProcess> daemon_;
    std::optional<sys::SocketActivated> activated_;
    std::string address_;
    pid_t pid_ = -1;
    bc::BusPtr client_;
    std::size_t baseline_fds_ = 0;
    int mounts_ = 0;
};

}  // namespace vmd::testing::hostile
