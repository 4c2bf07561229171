// Where the built verity-mountctl is, for tests that run it.
#pragma once

#include <cstdlib>
#include <filesystem>

namespace vmd::testing {

/// $VMD_BINARY_DIR/client/verity-mountctl; without VMD_BINARY_DIR, found from this test binary
/// (<build>/tests/client_tests).
inline std::filesystem::path ctl_path() {
    const char* dir = std::getenv("VMD_BINARY_DIR");
    std::filesystem::path build =
        dir != nullptr
            ? std::filesystem::path(dir)
            : std::filesystem::read_symlink("/proc/self/exe").parent_path().parent_path();
    return build / "client" / "verity-mountctl";
}

}  // namespace vmd::testing
