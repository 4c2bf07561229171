// The daemon's configuration file (DESIGN §5): strict JSON, every key optional.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "common/levels.hpp"

namespace vmd::config {

inline constexpr std::string_view kDefaultConfigPath = "/etc/containers/verity-mountd.json";

struct Config {
    std::filesystem::path storage_root = "/var/lib/containers/storage";
    std::filesystem::path policy_path = "/etc/containers/policy.json";
    SignatureLevel signature = SignatureLevel::Require;
    VerityLevel verity = VerityLevel::Enforce;
    std::vector<std::string> annotation_keys = {"io.containers.composefs.digest"};
    std::vector<uid_t> allowed_uids = {0};
    unsigned max_concurrent = 16;
    std::uint64_t max_json_bytes = 64ull << 20;
    std::uint64_t max_manifest_bytes = 4ull << 20;
    std::uint64_t max_blob_bytes = 1ull << 30;
    unsigned max_layers = 128;
    unsigned idle_exit_seconds = 30;
};

/// Parses the config text. An unknown key, a wrong type or a bad value: Error(InvalidArgument)
/// with one line naming it.
Config parse_config(std::string_view json);
/// Reads and parses `path`; a missing file at the default path gives the defaults.
Config load_config(const std::filesystem::path& path, bool missing_is_default);

}  // namespace vmd::config
