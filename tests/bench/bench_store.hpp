// The benchmark's store: the signed 2-layer and 10-layer images (real blobs, real signatures)
// among as many other images and layers as asked, whose images.json / layers.json records look
// like podman's (same keys, sizes and escaping), so the daemon reads files of realistic size.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>

#include "fixtures/store_builder.hpp"

namespace vmd::bench {

inline constexpr std::string_view kTwoLayerName = "quay.io/example/demo:latest";
inline constexpr std::string_view kTenLayerName = "quay.io/example/ten:latest";

/// How big a store to make.
struct StoreSize {
    std::size_t images = 10;  // in images.json, the two real ones included
    std::size_t layers = 40;  // in layers.json, the real ones included
    /// Where the real records sit among the others, from 0 (first) to 1 (last).
    double position = 0.5;
};

/// The built store; image(0) has 2 layers, image(1) 10.
struct BenchStore {
    testing::BuiltStore built;
    std::size_t json_bytes = 0;  // images.json + layers.json
};

/// Builds the two signed images into `dir` with the daemon's verity floor at `verity_floor`
/// (signature floor: require), then pads images.json and layers.json with other records up to
/// `size`. Throws std::runtime_error on failure.
BenchStore build_bench_store(const std::filesystem::path& dir, const StoreSize& size,
                             const std::string& verity_floor);

}  // namespace vmd::bench
