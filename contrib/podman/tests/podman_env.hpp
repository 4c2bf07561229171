// The setting of every podman end-to-end test: a private mount namespace, a private
// /etc/containers, a signed composefs store with busybox, a private bus with the real daemon on
// it, and the patched podman (contrib/podman/build.sh) with private --root/--runroot.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "daemon_env.hpp"
#include "fixtures/test_env.hpp"

namespace vmd::testing {

/// The patched podman: $VMD_PODMAN, else where contrib/podman/build.sh leaves it.
std::filesystem::path patched_podman();
/// Debian's podman (the stock-podman path): /usr/bin/podman.
std::filesystem::path stock_podman();

/// Why the patched podman tests cannot run here ("" when they can): not root, or no patched
/// podman built (it needs the podman source, which a clone does not carry). They skip on it.
std::string patched_podman_unavailable_reason();
/// What podman needs that scripts/install-deps.sh installs, missing here ("" when nothing is):
/// the tests fail on it, never skip.
std::string missing_podman_runtime();

/// A store with the busybox sample image, the daemon (minimum levels off/off, so that what podman
/// asks is what is checked) and podman's configuration in a private /etc/containers.
class PodmanEnv {
  public:
    /// `containers` are written into the store by the fixture builder (for callers other than
    /// the patched podman); `daemon_config` entries replace or add to the daemon's config.
    explicit PodmanEnv(const std::vector<ContainerSpec>& containers = {},
                       const std::vector<std::pair<std::string, std::string>>& daemon_config = {});
    /// Removes every container (podman rm -af), then detaches what is left below the test's
    /// directories and the private /etc/containers.
    ~PodmanEnv();
    PodmanEnv(const PodmanEnv&) = delete;
    PodmanEnv& operator=(const PodmanEnv&) = delete;

    /// Runs `podman --root STORE --runroot RUN args…` with the private bus address.
    RunResult podman(const std::vector<std::string>& args,
                     const std::vector<std::string>& env = {});
    /// Runs `binary` (e.g. Debian's podman) the same way.
    RunResult podman_binary(const std::filesystem::path& binary,
                            const std::vector<std::string>& args,
                            const std::vector<std::string>& env = {});

    /// The daemon's `requests` counter (GetStatus through verity-mountctl): every Mount, refused
    /// or not.
    std::uint64_t requests() { return counter("requests"); }
    /// The daemon's `refusals` counter.
    std::uint64_t refusals() { return counter("refusals"); }
    /// One of the daemon's counters by its GetStatus name.
    std::uint64_t counter(std::string_view name);
    /// Writes /etc/containers/containers.conf.d/50-verity.conf (the private one).
    void write_dropin(std::string_view text);

    DaemonEnv& daemon_env() { return *env_; }
    BuiltStore& store() { return env_->store(); }
    const std::filesystem::path& run_root() const { return run_root_; }
    /// The sample image's name.
    std::string image() const;

    /// Polls `condition` until it holds (true) or `seconds` passed (false): for what another
    /// process brings about, e.g. conmon's exit command; the bound only keeps a broken podman from
    /// hanging the test, which then fails on what it finds.
    static bool eventually(const std::function<bool()>& condition, int seconds = 60);
    /// Waits until no mount is left at or below `dir` (a cleanup that another process does), at
    /// most `seconds`; returns what is left.
    static std::vector<std::filesystem::path> wait_for_no_mounts_below(
        const std::filesystem::path& dir, int seconds = 60);
    /// Mount points at or below `dir` in this process's mount namespace.
    static std::vector<std::filesystem::path> mounts_at_or_below(const std::filesystem::path& dir);
    /// The container's read-write layer (its overlay upper dir is STORE/overlay/<layer>/diff).
    std::string container_layer(const std::string& container);

  private:
    std::optional<DaemonEnv> env_;
    TempDir conf_dir_;
    std::filesystem::path run_root_;
    bool conf_mounted_ = false;
};

}  // namespace vmd::testing
