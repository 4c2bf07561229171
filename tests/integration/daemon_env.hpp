// One store, one private bus, one real daemon: the setting of every integration test.
#pragma once

#include <gtest/gtest.h>
#include <sys/mount.h>

#include <filesystem>
#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

#include "fixtures/processes.hpp"
#include "fixtures/store_builder.hpp"
#include "fixtures/test_env.hpp"

namespace vmd::testing {

inline constexpr std::string_view kErrorPrefix = "io.containers.VerityMount1.Error.";

/// A directory that is unmounted (if something is mounted on it) when the test ends.
class MountPoint {
  public:
    explicit MountPoint(std::filesystem::path path) : path_(std::move(path)) {
        std::filesystem::create_directories(path_);
    }
    ~MountPoint() {
        while (::umount2(path_.c_str(), MNT_DETACH) == 0) {
        }
    }
    MountPoint(const MountPoint&) = delete;
    MountPoint& operator=(const MountPoint&) = delete;
    const std::filesystem::path& path() const { return path_; }
    std::string str() const { return path_.string(); }

  private:
    std::filesystem::path path_;
};

/// Builds a store from a spec, starts a private bus and the daemon on it.
class DaemonEnv {
  public:
    /// `config` entries (key, JSON value) replace or add to the fixture's daemon config.
    explicit DaemonEnv(const StoreSpec& spec,
                       const std::vector<std::pair<std::string, std::string>>& config = {});

    BuiltStore& store() { return *store_; }
    const std::string& address() const { return bus_.address(); }
    DaemonProcess& daemon() { return *daemon_; }
    const std::filesystem::path& dir() const { return dir_.path(); }

    /// verity-mountctl with the private bus address.
    RunResult ctl(std::vector<std::string> args, std::vector<std::string> prefix = {});
    /// busctl --address=<private bus> call io.containers.VerityMount1 … <args>.
    RunResult busctl_call(const std::vector<std::string>& args);

  private:
    TempDir dir_;
    std::optional<BuiltStore> store_;
    PrivateBus bus_;
    std::optional<DaemonProcess> daemon_;
};

/// Lets `files` get older than the daemon's settle time (1 s; common/trusted_file_cache.hpp),
/// so that it keeps what it parses from them: edits that follow must still be seen. This ages
/// files; it waits for nothing the daemon does.
void age_past_settle_time(std::initializer_list<std::filesystem::path> files);

/// Asserts a refusal: exit code 1 and stderr starting with the error name.
void expect_refused(const RunResult& result, std::string_view error_name,
                    std::string_view message_part = "");

}  // namespace vmd::testing
