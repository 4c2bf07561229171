// The store look-ups of one request on a big store (10,000 images, 40,000 layers by default):
// images.json by name, the layer chain from layers.json, next to just reading the same bytes.
// Usage: bench_store [google-benchmark flags]; VMD_BENCH_IMAGES / VMD_BENCH_LAYERS resize it.
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "bench/bench_store.hpp"
#include "fixtures/store_files.hpp"
#include "fixtures/test_env.hpp"
#include "storage/store.hpp"

namespace {

using namespace vmd;

bench::StoreSize size_from_env() {
    bench::StoreSize size{10000, 40000, 0.5};
    if (const char* images = std::getenv("VMD_BENCH_IMAGES")) {
        size.images = std::strtoul(images, nullptr, 10);
    }
    if (const char* layers = std::getenv("VMD_BENCH_LAYERS")) {
        size.layers = std::strtoul(layers, nullptr, 10);
    }
    return size;
}

struct Fixture {
    testing::TempDir dir;
    bench::BenchStore store =
        bench::build_bench_store(dir.path() / "store", size_from_env(), "off");
};

Fixture& fixture() {
    static Fixture instance;
    return instance;
}

void BM_ReadFiles(benchmark::State& state) {
    const auto& root = fixture().store.built.paths.store;
    std::vector<char> buffer(64 << 20);
    for (auto _ : state) {
        for (const auto& path : {testing::images_json(root), testing::layers_json(root)}) {
            int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
            benchmark::DoNotOptimize(::read(fd, buffer.data(), buffer.size()));
            ::close(fd);
        }
    }
}

void BM_FindImageByName(benchmark::State& state) {
    auto store = storage::Store::open(fixture().store.built.paths.store, {});
    for (auto _ : state) {
        benchmark::DoNotOptimize(store.find_image_by_name(bench::kTwoLayerName));
    }
}

void BM_LayerChain(benchmark::State& state) {
    auto store = storage::Store::open(fixture().store.built.paths.store, {});
    auto image = store.find_image_by_name(bench::kTwoLayerName);
    for (auto _ : state) {
        benchmark::DoNotOptimize(store.layer_chain(image));
    }
}

BENCHMARK(BM_ReadFiles)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_FindImageByName)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_LayerChain)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
