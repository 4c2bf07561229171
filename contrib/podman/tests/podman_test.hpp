// The fixture of the patched podman's end-to-end tests: a PodmanEnv per test, skipped with the
// reason when the patched podman is not built, and the checks the tests share.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fixtures/store_files.hpp"
#include "podman_env.hpp"

namespace vmd::testing {

namespace fs = std::filesystem;

// The options of a container verified at every start (verity=digest: no fs-verity here).
inline std::vector<std::string> verified_levels() {
    return {"--security-opt", "signature=require", "--security-opt", "verity=digest"};
}

// A containers.conf drop-in that turns the levels on for every container.
inline constexpr std::string_view kGlobalLevels =
    "[containers]\nrootfs_signature = \"require\"\nrootfs_verity = \"digest\"\n";

// The root mount of a container, as its own mountinfo says: the daemon's overlay has the
// source "verity-mountd"; containers/storage's is "overlay".
inline constexpr std::string_view kRootLine = "grep ' / / ' /proc/self/mountinfo";
inline constexpr std::string_view kDaemonOverlay = " - overlay verity-mountd ";
inline constexpr std::string_view kStorageOverlay = " - overlay overlay ";

inline std::vector<std::string> concat(std::vector<std::string> head,
                                       const std::vector<std::string>& tail) {
    head.insert(head.end(), tail.begin(), tail.end());
    return head;
}

class PodmanTest : public ::testing::Test {
  protected:
    void SetUp() override {
        auto reason = patched_podman_unavailable_reason();
        if (!reason.empty()) {
            GTEST_SKIP() << reason;
        }
        auto missing = missing_podman_runtime();
        ASSERT_EQ(missing, "");
        env_.emplace();
    }
    void TearDown() override { env_.reset(); }

    PodmanEnv& env() { return *env_; }

    // Mounts that outlived the containers: below the run root, or below the store other than
    // the overlay driver's own bind mount of its home.
    std::vector<fs::path> stray_mounts() {
        auto strays = PodmanEnv::mounts_at_or_below(env().run_root());
        auto home = env().store().paths.store / "overlay";
        for (const auto& mount : PodmanEnv::mounts_at_or_below(env().store().paths.store)) {
            if (mount != home) {
                strays.push_back(mount);
            }
        }
        return strays;
    }

    std::string full_id(const std::string& container) { return inspect(container, "{{.Id}}"); }

    // `podman inspect --format FORMAT container`, its first line.
    std::string inspect(const std::string& container, const std::string& format) {
        auto result = env().podman({"inspect", "--format", format, container});
        EXPECT_EQ(result.exit_code, 0) << result.err;
        return result.out.substr(0, result.out.find('\n'));
    }

    // The root mount of a running container, as its own mountinfo says.
    std::string root_line(const std::string& container) {
        auto result = env().podman({"exec", container, "sh", "-c", std::string(kRootLine)});
        EXPECT_EQ(result.exit_code, 0) << result.err;
        return result.out;
    }

    // The verified rootfs mounts attached below the run root, sorted.
    std::vector<fs::path> verified_mounts() {
        std::vector<fs::path> out;
        for (const auto& mount : PodmanEnv::mounts_at_or_below(env().run_root())) {
            if (mount.filename() == "verified-rootfs") {
                out.push_back(mount);
            }
        }
        std::sort(out.begin(), out.end());
        return out;
    }

    fs::path verified_mount_point(const std::string& container) {
        return env().run_root() / "overlay-containers" / full_id(container) / "userdata" /
               "verified-rootfs";
    }

    RunResult tamper(const std::string& what) {
        return run({built("tests/fixtures/vmd-fixture").string(), "tamper", "--dir",
                    env().store().paths.dir.string(), "--what", what});
    }

    std::optional<PodmanEnv> env_;
};

}  // namespace vmd::testing
