#include "bench/bench_store.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <vector>

#include "fixtures/json_records.hpp"
#include "fixtures/sample_images.hpp"
#include "fixtures/store_files.hpp"

namespace vmd::bench {
namespace {

namespace fs = std::filesystem;

// Deterministic 64-hex IDs and digests (splitmix64), distinct from every real one.
class HexSource {
  public:
    std::string next() {
        std::string out;
        out.reserve(64);
        for (int i = 0; i < 4; ++i) {
            out += fmt::format("{:016x}", mix());
        }
        return out;
    }

  private:
    std::uint64_t mix() {
        std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
    }
    std::uint64_t state_ = 0x5eed;
};

// A layers.json record as containers/storage writes it for a pulled layer.
std::string layer_record(const std::string& id, const std::string& parent, const std::string& diff,
                         std::uint64_t size) {
    std::string parent_field = parent.empty() ? "" : fmt::format(R"("parent":"{}",)", parent);
    return fmt::format(
        R"({{"id":"{}",{}"created":"{}","compressed-diff-digest":"sha256:{}",)"
        R"("compressed-size":{},"diff-digest":"sha256:{}","diff-size":{},"compression":2,)"
        R"("uidset":[0],"gidset":[0]}})",
        id, parent_field, testing::kCreated, diff, size, diff, size * 3);
}

// An images.json record as containers/storage and containers/image write it for a pulled,
// signed image: config and manifest items, the signatures and their sizes in metadata.
std::string image_record(const std::string& id, const std::string& digest, const std::string& name,
                         const std::string& top_layer, const std::string& signatures_digest) {
    return fmt::format(
        R"({{"id":"{id}","digest":"sha256:{d}","names":["{n}"],"names-history":["{n}"],)"
        R"("layer":"{l}","metadata":"{{\"signature-sizes\":[567],\"signatures-sizes\":)"
        R"({{\"sha256:{d}\":[567]}}}}","big-data-names":["sha256:{id}","manifest-sha256:{d}",)"
        R"("manifest","signatures","signature-{d}"],"big-data-sizes":{{"sha256:{id}":1636,)"
        R"("manifest-sha256:{d}":2988,"manifest":2988,"signatures":567,"signature-{d}":567}},)"
        R"("big-data-digests":{{"sha256:{id}":"sha256:{id}","manifest-sha256:{d}":"sha256:{d}",)"
        R"("manifest":"sha256:{d}","signatures":"sha256:{s}","signature-{d}":"sha256:{s}"}},)"
        R"("created":"{c}"}})",
        fmt::arg("id", id), fmt::arg("d", digest), fmt::arg("n", name), fmt::arg("l", top_layer),
        fmt::arg("s", signatures_digest), fmt::arg("c", testing::kCreated));
}

// Writes `records` as one JSON array with `real` inserted at `position` (0..1) among `others`.
void write_padded(const fs::path& path, const std::vector<testing::JsonObject>& real,
                  const std::vector<std::string>& others, double position, std::size_t& bytes) {
    auto at = static_cast<std::size_t>(position * static_cast<double>(others.size()));
    std::string text = "[";
    auto add = [&](const std::string& record) {
        text += text.size() > 1 ? "," : "";
        text += record;
    };
    for (std::size_t i = 0; i < others.size() + 1; ++i) {
        if (i == at) {
            for (const auto& record : real) {
                add(record.dump());
            }
        }
        if (i < others.size()) {
            add(others[i]);
        }
    }
    text += "]";
    testing::write_file_atomic(path, text);
    bytes += text.size();
}

}  // namespace

BenchStore build_bench_store(const fs::path& dir, const StoreSize& size,
                             const std::string& verity_floor) {
    testing::StoreSpec spec;
    spec.images = {testing::sample_image(std::string(kTwoLayerName)),
                   testing::layered_image(10, std::string(kTenLayerName))};
    spec.verity_level = verity_floor;
    BenchStore out{testing::build_store(spec, dir), 0};
    const auto& store = out.built.paths.store;

    auto real_images = testing::load_records(testing::images_json(store));
    auto real_layers = testing::load_records(testing::layers_json(store));
    if (size.images < real_images.size() || size.layers < real_layers.size()) {
        throw std::runtime_error("bench store: fewer images or layers asked than the real ones");
    }
    HexSource hex;
    // Other layers in chains of 4 (the last one shorter); each image tops one chain.
    std::vector<std::string> layers;
    std::vector<std::string> tops;
    std::string parent;
    const std::size_t other_layers = size.layers - real_layers.size();
    for (std::size_t i = 0; i < other_layers; ++i) {
        auto id = hex.next();
        layers.push_back(layer_record(id, parent, hex.next(), 4096 * (i % 97 + 1)));
        parent = (i % 4 == 3) ? "" : id;
        if (i % 4 == 3 || i + 1 == other_layers) {
            tops.push_back(id);
        }
    }
    std::vector<std::string> images;
    const std::size_t other_images = size.images - real_images.size();
    for (std::size_t i = 0; i < other_images; ++i) {
        auto name = fmt::format("registry.example.com/team-{}/app-{}:v{}", i % 50, i, i % 7);
        images.push_back(image_record(hex.next(), hex.next(), name,
                                      tops.empty() ? "" : tops[i % tops.size()], hex.next()));
    }
    write_padded(testing::images_json(store), real_images, images, size.position, out.json_bytes);
    write_padded(testing::layers_json(store), real_layers, layers, size.position, out.json_bytes);
    return out;
}

}  // namespace vmd::bench
