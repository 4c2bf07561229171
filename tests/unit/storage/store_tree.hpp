// Hand-built containers/storage trees for the storage tests.
#pragma once

#include <dirent.h>
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <array>
#include <filesystem>
#include <string>
#include <string_view>

#include "common/error.hpp"
#include "fixtures/test_env.hpp"
#include "storage/store.hpp"

namespace vmd::storage::test {

/// A 64-hex ID that starts with `head` (lowercase hex) and is padded with '0'.
inline std::string make_id(std::string_view head) {
    std::string id(head);
    id.resize(64, '0');
    return id;
}

/// A store tree in a fresh temporary directory.
class StoreTree {
  public:
    const std::filesystem::path& root() const { return dir_.path(); }

    /// Writes `content` to `relative` below the root, creating parent directories.
    void write(const std::filesystem::path& relative, std::string_view content) const {
        std::filesystem::create_directories((root() / relative).parent_path());
        vmd::testing::write_file(root() / relative, content);
    }
    void images(std::string_view json) const { write("overlay-images/images.json", json); }
    void layers(std::string_view json) const { write("overlay-layers/layers.json", json); }
    void volatile_layers(std::string_view json) const {
        write("overlay-layers/volatile-layers.json", json);
    }
    void containers(std::string_view json) const {
        write("overlay-containers/containers.json", json);
    }
    void volatile_containers(std::string_view json) const {
        write("overlay-containers/volatile-containers.json", json);
    }

    Store open(Limits limits = {}) const { return Store::open(root(), limits); }

  private:
    vmd::testing::TempDir dir_;
};

/// Runs `fn` and expects an Error with `code` whose message contains every one of `needles`.
template <typename Fn, typename... Needles>
void expect_error(Fn&& fn, Errc code, const Needles&... needles) {
    try {
        fn();
        ADD_FAILURE() << "expected Error(" << errc_name(code) << "), got no error";
    } catch (const Error& error) {
        EXPECT_EQ(errc_name(error.code()), errc_name(code)) << error.message();
        for (std::string_view needle :
             std::array<std::string_view, sizeof...(needles)>{needles...}) {
            EXPECT_THAT(error.message(), ::testing::HasSubstr(std::string(needle)));
        }
    }
}

/// The number of open file descriptors of this process.
inline std::size_t open_fd_count() {
    std::size_t count = 0;
    for ([[maybe_unused]] const auto& entry :
         std::filesystem::directory_iterator("/proc/self/fd")) {
        ++count;
    }
    return count;
}

}  // namespace vmd::storage::test
