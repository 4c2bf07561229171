// Mount() latency over the bus (p50/p99) for 2- and 10-layer images at verity=digest, next to
// the raw cost of the same EROFS + overlay mounts done directly in this process.
// Usage: bench_mount [ITERATIONS]  (root; prints one line per measurement)
#include <fcntl.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "client/verity_mount_client.hpp"
#include "fixtures/processes.hpp"
#include "fixtures/sample_images.hpp"
#include "fixtures/store_builder.hpp"
#include "fixtures/store_files.hpp"
#include "mount/composefs.hpp"
#include "mount/kernel_features.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using namespace vmd::testing;

void report(const std::string& what, std::vector<double> us) {
    std::sort(us.begin(), us.end());
    auto at = [&](double q) {
        return us[static_cast<std::size_t>(q * static_cast<double>(us.size() - 1))];
    };
    double mean = 0;
    for (double v : us) {
        mean += v;
    }
    mean /= static_cast<double>(us.size());
    std::printf("%-44s n=%zu  p50=%8.0f us  p99=%8.0f us  mean=%8.0f us\n", what.c_str(), us.size(),
                at(0.5), at(0.99), mean);
}

std::vector<double> time_it(int iterations, const std::function<void()>& body) {
    for (int i = 0; i < 5; ++i) {
        body();  // warm-up: caches, loop devices, lazily opened fds
    }
    std::vector<double> samples;
    for (int i = 0; i < iterations; ++i) {
        auto start = Clock::now();
        body();
        samples.push_back(std::chrono::duration<double, std::micro>(Clock::now() - start).count());
    }
    return samples;
}

void bench_image(std::size_t layers, int iterations) {
    TempDir dir;
    StoreSpec spec;
    spec.images.push_back(layers == 2 ? sample_image() : layered_image(layers));
    auto store = build_store(spec, dir.path() / "fixture");
    const std::string name(kDemoName);
    auto label = std::to_string(layers) + "-layer";

    PrivateBus bus;
    DaemonProcess daemon(bus.address(), store.paths.config);
    auto client = vmd::client::Client::at_address(bus.address());
    report(label + " Mount() over the bus (digest)",
           time_it(iterations, [&] { client.mount(name, "").rootfs.reset(); }));
    report(label + " Verify() over the bus (digest)",
           time_it(iterations, [&] { client.verify(name); }));

    // The same kernel work without the daemon: sealed memfd copies prepared once, then per
    // iteration one loop-backed EROFS mount per layer and the overlay.
    auto kernel = vmd::mount::probe_kernel_features(store.paths.store);
    std::vector<vmd::UniqueFd> blobs;
    std::vector<vmd::UniqueFd> sealed;
    std::vector<vmd::UniqueFd> diffs;
    for (const auto& layer : store.image().layers) {
        blobs.emplace_back(
            ::open(blob_path(store.paths.store, layer.id).c_str(), O_RDONLY | O_CLOEXEC));
        sealed.push_back(vmd::mount::sealed_copy(blobs.back().get(), 1u << 30).memfd);
        diffs.emplace_back(::open((layer_dir(store.paths.store, layer.id) / "diff").c_str(),
                                  O_PATH | O_DIRECTORY | O_CLOEXEC));
    }
    auto raw = [&](const std::vector<vmd::UniqueFd>& sources, vmd::mount::ErofsSourceKind kind) {
        std::vector<vmd::UniqueFd> erofs;
        vmd::mount::OverlaySpec overlay;
        for (std::size_t i = sources.size(); i-- > 0;) {
            erofs.push_back(vmd::mount::mount_erofs(sources[i].get(), kind, false, kernel));
            overlay.metadata_layers.push_back(erofs.back().get());
            overlay.data_layers.push_back(diffs[i].get());
        }
        vmd::mount::mount_overlay(overlay, kernel).reset();
    };
    report(label + " raw EROFS(loop over memfd) + overlay",
           time_it(iterations, [&] { raw(sealed, vmd::mount::ErofsSourceKind::Loop); }));
    report(label + " raw EROFS(file) + overlay",
           time_it(iterations, [&] { raw(blobs, vmd::mount::ErofsSourceKind::File); }));
    daemon.stop();
}

}  // namespace

int main(int argc, char** argv) {
    int iterations = argc > 1 ? std::stoi(argv[1]) : 200;
    for (std::size_t layers : {std::size_t{2}, std::size_t{10}}) {
        bench_image(layers, iterations);
    }
    return 0;
}
