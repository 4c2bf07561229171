// `bench_mount vm IMAGE [--iterations N]`: in the fs-verity VM (tests/vm/cases.sh), Mount() of
// IMAGE at verity=enforce from the daemon on the system bus, next to the raw kernel work on the
// same blobs (file-backed EROFS per layer + overlay verity=require), taking turns. Prints one
// "MEASURE:" line with both p50s and their ratio.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "bench/bench_support.hpp"
#include "bench/raw_mount.hpp"
#include "client/verity_mount_client.hpp"

namespace vmd::bench {

namespace {

// The daemon's storage_root, from GetStatus's config.
std::string storage_root(client::Client& client) {
    return client.status().config.storage_root;
}

}  // namespace

int vm_main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: bench_mount vm IMAGE [--iterations N]\n");
        return 2;
    }
    const std::string image = argv[1];
    int iterations = 20;
    if (argc >= 4 && std::string_view(argv[2]) == "--iterations") {
        iterations = std::atoi(argv[3]);
    }
    auto client = client::Client::system_bus();
    client::MountOptions enforce;
    enforce.verity = VerityLevel::Enforce;
    auto report = client.verify(image, enforce);
    std::vector<std::string> layers;
    for (const auto& layer : report.layers) {
        layers.push_back(layer.layer_id);
    }
    RawImage raw(storage_root(client), layers);
    Samples elapsed;  // the daemon's own span, from the reply
    Samples release;  // this caller's close of the rootfs: the overlay's teardown
    auto [daemon, baseline] = interleaved(
        iterations, 3,
        [&] {
            auto mounted = client.mount(image, "", enforce);
            elapsed.add(static_cast<double>(mounted.info.elapsed_us));
            release.add(time_us([&] { mounted.rootfs.reset(); }));
        },
        [&] { raw.mount_once(RawKind::FileVerity); });
    auto [status, none] = interleaved(
        iterations, 3, [&] { client.status(); }, [] {});
    std::printf(
        "MEASURE: Mount() %zu layers verity=enforce vs raw file EROFS + overlay verity=require, "
        "n=%d: daemon p50=%.0f us, raw p50=%.0f us, ratio %.2fx (target <= 1.25x); p50 of the "
        "daemon's elapsed_us %.0f us, of the rootfs close %.0f us, of a GetStatus round trip "
        "%.0f us\n",
        layers.size(), iterations, daemon.p50(), baseline.p50(), daemon.p50() / baseline.p50(),
        elapsed.p50(), release.p50(), status.p50());
    return 0;
}

}  // namespace vmd::bench
