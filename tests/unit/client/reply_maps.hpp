// Reply maps as the daemon sends them (DESIGN §4), for the stand-in daemon and the decoding tests.
#pragma once

#include <sdbus-c++/sdbus-c++.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace vmd::client::test {

using VariantMap = std::map<std::string, sdbus::Variant>;

inline constexpr const char* kLayerId =
    "1111111111111111111111111111111111111111111111111111111111111111";

/// A Mount `info` / Verify `report` of one layer for `image`.
inline VariantMap report_map(const std::string& image) {
    std::vector<VariantMap> layers = {
        {{"layer_id", sdbus::Variant(std::string(kLayerId))},
         {"blob_digest", sdbus::Variant(std::string("sha256:aa"))},
         {"allowed", sdbus::Variant(std::vector<std::string>{"sha256:aa", "sha256:cc"})}}};
    return {{"image_id", sdbus::Variant(image)},
            {"manifest_digest", sdbus::Variant(std::string("sha256:dd"))},
            {"identity", sdbus::Variant(std::string("docker.io/library/busybox:latest"))},
            {"policy_scope", sdbus::Variant(std::string("docker.io/library"))},
            {"signature", sdbus::Variant(std::string("require"))},
            {"verity", sdbus::Variant(std::string("digest"))},
            {"layers", sdbus::Variant(layers)},
            {"elapsed_us", sdbus::Variant(std::uint64_t{42})}};
}

/// A GetStatus `status` with every key of the contract.
inline VariantMap status_map() {
    VariantMap kernel = {{"fs_verity", sdbus::Variant(false)},
                         {"overlay_verity", sdbus::Variant(true)},
                         {"overlay_lowerdir_plus", sdbus::Variant(true)},
                         {"erofs_file_backed", sdbus::Variant(true)},
                         {"detached_layers", sdbus::Variant(false)}};
    VariantMap config = {
        {"storage_root", sdbus::Variant(std::string("/var/lib/containers/storage"))},
        {"policy_path", sdbus::Variant(std::string("/etc/containers/policy.json"))},
        {"signature", sdbus::Variant(std::string("require"))},
        {"verity", sdbus::Variant(std::string("digest"))},
        {"annotation_keys",
         sdbus::Variant(std::vector<std::string>{"io.containers.composefs.digest"})},
        {"allowed_uids", sdbus::Variant(std::vector<std::uint32_t>{0, 4242})},
        {"max_concurrent", sdbus::Variant(std::uint32_t{16})},
        {"max_json_bytes", sdbus::Variant(std::uint64_t{67108864})},
        {"max_manifest_bytes", sdbus::Variant(std::uint64_t{4194304})},
        {"max_blob_bytes", sdbus::Variant(std::uint64_t{1073741824})},
        {"max_layers", sdbus::Variant(std::uint32_t{128})},
        {"idle_exit_seconds", sdbus::Variant(std::uint32_t{30})}};
    return {{"version", sdbus::Variant(std::string("0.1.0"))},
            {"kernel", sdbus::Variant(kernel)},
            {"config", sdbus::Variant(config)},
            {"requests", sdbus::Variant(std::uint64_t{3})},
            {"mounts", sdbus::Variant(std::uint64_t{2})},
            {"refusals", sdbus::Variant(std::uint64_t{1})}};
}

}  // namespace vmd::client::test
