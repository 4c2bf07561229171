// Issue 9's figures, each measured side by side with its baseline in this one run (the two take
// turns, so both see the same machine load), printed as ratios next to their targets:
//   Mount() of a signed 10- and 2-layer image at verity=off and digest vs the raw kernel work;
//   Verify() of 10 layers; 8 concurrent clients (throughput and p99) vs 8 raw threads;
//   Mount() on a store of 10,000 images / 40,000 layers vs a 10-image store;
//   the daemon's RSS after 100,000 requests from 8 clients and its growth over the last half.
// Usage (root): bench_mount [--iterations N] [--per-client N] [--rss-requests N]
//                           [--big-images N] [--big-layers N] [--position F] [--only SECTIONS]
//                           [--transport bus|socket]
//               bench_mount vm IMAGE [--iterations N]   (see vm_bench.cpp)
// SECTIONS: comma-separated among single,concurrent,bigstore,rss (default: all).
// --transport socket: the clients call the daemon peer-to-peer on its socket, as on
// verity-mountd.socket, rather than through a private dbus-daemon (the default).
#include <sys/socket.h>
#include <sys/un.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "bench/bench_store.hpp"
#include "bench/bench_support.hpp"
#include "bench/raw_mount.hpp"
#include "client/verity_mount_client.hpp"
#include "fixtures/processes.hpp"

namespace vmd::bench {

int vm_main(int argc, char** argv);  // vm_bench.cpp

namespace {

using client::Client;
using client::MountOptions;

struct Options {
    int iterations = 300;
    int per_client = 150;  // requests per client and round in the concurrent section
    int rss_requests = 100000;
    StoreSize big{10000, 40000, 0.5};
    std::string only = "single,concurrent,bigstore,rss";
    std::string cases = "10-off,10-digest,2-off,2-digest,verify";  // of the single section
    bool peer_to_peer = false;

    bool wants(std::string_view section) const { return only.find(section) != std::string::npos; }
};

Options parse_options(int argc, char** argv) {
    Options options;
    for (int i = 1; i + 1 < argc; i += 2) {
        std::string_view key = argv[i];
        const char* value = argv[i + 1];
        if (key == "--iterations") {
            options.iterations = std::atoi(value);
        } else if (key == "--per-client") {
            options.per_client = std::atoi(value);
        } else if (key == "--rss-requests") {
            options.rss_requests = std::atoi(value);
        } else if (key == "--big-images") {
            options.big.images = std::strtoul(value, nullptr, 10);
        } else if (key == "--big-layers") {
            options.big.layers = std::strtoul(value, nullptr, 10);
        } else if (key == "--position") {
            options.big.position = std::atof(value);
        } else if (key == "--only") {
            options.only = value;
        } else if (key == "--cases") {
            options.cases = value;
        } else if (key == "--transport" &&
                   (value == std::string_view("bus") || value == std::string_view("socket"))) {
            options.peer_to_peer = value == std::string_view("socket");
        } else {
            std::fprintf(stderr, "bench_mount: unknown option %s\n", argv[i]);
            std::exit(2);
        }
    }
    return options;
}

MountOptions at(VerityLevel level) {
    MountOptions options;
    options.verity = level;
    return options;
}

std::vector<std::string> layer_ids(const testing::BuiltImage& image) {
    std::vector<std::string> ids;
    for (const auto& layer : image.layers) {
        ids.push_back(layer.id);
    }
    return ids;
}

// A listening AF_UNIX stream socket at `path`.
UniqueFd listen_at(const std::filesystem::path& path) {
    UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
    if (!fd || ::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(fd.get(), SOMAXCONN) != 0) {
        throw std::runtime_error("cannot listen on " + path.string());
    }
    return fd;
}

// A daemon serving one bench store on its own private bus, or peer-to-peer on its own socket.
struct Served {
    Served(const std::filesystem::path& dir, const StoreSize& size, bool peer_to_peer)
        : store(build_bench_store(dir, size, "off")),
          socket(dir / "io.socket"),
          listener(peer_to_peer ? listen_at(socket) : UniqueFd()),
          daemon(bus.address(), store.built.paths.config, {}, {}, listener.get()) {}
    Client connect() const {
        return Client::at_address(listener ? "unix:path=" + socket.string() : bus.address());
    }

    BenchStore store;
    std::filesystem::path socket;
    UniqueFd listener;
    testing::PrivateBus bus;
    testing::DaemonProcess daemon;
};

void single(const Options& options, const Served& served, const RawImage& two,
            const RawImage& ten) {
    auto client = served.connect();
    struct Case {
        std::string_view name;
        const RawImage& raw;
        std::size_t layers;
        double target;
    };
    for (const Case& c : {Case{kTenLayerName, ten, 10, 1.25}, Case{kTwoLayerName, two, 2, 1.6}}) {
        for (auto level : {VerityLevel::Off, VerityLevel::Digest}) {
            if (options.cases.find(fmt::format("{}-{}", c.layers, to_string(level))) ==
                std::string::npos) {
                continue;
            }
            auto kind = level == VerityLevel::Off ? RawKind::File : RawKind::MemfdCopy;
            const double cpu_before = cpu_us(served.daemon.pid());
            Samples elapsed;  // the daemon's own span: call read → reply sent
            Samples release;  // the caller's close of the rootfs (the overlay's teardown)
            auto [daemon, raw] = interleaved(
                options.iterations, 10,
                [&] {
                    auto mounted = client.mount(std::string(c.name), "", at(level));
                    elapsed.add(static_cast<double>(mounted.info.elapsed_us));
                    release.add(time_us([&] { mounted.rootfs.reset(); }));
                },
                [&] { c.raw.mount_once(kind); });
            double ratio = daemon.p50() / raw.p50();
            std::printf(
                "# daemon CPU per request %.0f us; p50 of the daemon's elapsed_us %.0f us, of the "
                "rootfs close %.0f us\n",
                (cpu_us(served.daemon.pid()) - cpu_before) / (options.iterations + 10),
                elapsed.p50(), release.p50());
            print({fmt::format("Mount() {} layers verity={} p50 (raw: {})", c.layers,
                               to_string(level),
                               level == VerityLevel::Off ? "file EROFS" : "memfd+loop"),
                   daemon.p50(), raw.p50(), "us", fmt::format("<= {}x", c.target),
                   ratio <= c.target});
        }
    }
    if (options.cases.find("verify") == std::string::npos) {
        return;
    }
    // The floor of any call: a round trip answered on the daemon's bus thread, no store read.
    auto [status, none] = interleaved(
        options.iterations, 10, [&] { client.status(); }, [] {});
    print(
        {"GetStatus() p50 (a round trip, for information)", status.p50(), 0, "us", "(info)", true});
    for (auto level : {VerityLevel::Digest, VerityLevel::Off}) {
        client::CheckOptions check;
        check.verity = level;
        auto [verify, unused] = interleaved(
            options.iterations, 10, [&] { client.verify(std::string(kTenLayerName), check); },
            [] {});
        print({fmt::format("Verify() 10 layers verity={} p50", to_string(level)), verify.p50(), 0,
               "us", "<= 600 us", verify.p50() <= 600});
    }
}

void concurrent_clients(const Options& options, const Served& served, const RawImage& two,
                        const RawImage& ten) {
    constexpr unsigned kClients = 8;
    for (auto [name, raw, layers] :
         {std::tuple{kTenLayerName, &ten, 10}, {kTwoLayerName, &two, 2}}) {
        auto [daemon, baseline] = interleaved_concurrent(
            kClients, options.per_client, 3,
            [&, name = name](unsigned) -> std::function<void()> {
                auto client = std::make_shared<Client>(served.connect());
                return [client, name] {
                    client->mount(std::string(name), "", at(VerityLevel::Digest)).rootfs.reset();
                };
            },
            [raw = raw](unsigned) -> std::function<void()> {
                return [raw] { raw->mount_once(RawKind::MemfdCopy); };
            });
        double ratio = daemon.per_second / baseline.per_second;
        print({fmt::format("8 clients {} layers digest: throughput", layers), daemon.per_second,
               baseline.per_second, "/s", layers == 10 ? ">= 0.8x" : "(info)",
               layers != 10 || ratio >= 0.8});
        print({fmt::format("8 clients {} layers digest: p99 (raw p99 beside)", layers),
               daemon.latency.p99(), baseline.latency.p99(), "us",
               layers == 10 ? "<= 10000 us" : "(info)",
               layers != 10 || daemon.latency.p99() <= 10000});
    }
}

void big_store(const Options& options, const Served& small) {
    testing::TempDir dir;
    Served big(dir.path() / "big", options.big, options.peer_to_peer);
    std::printf(
        "# big store: %zu images, %zu layers, %.1f MiB of images.json + layers.json, "
        "real records at %.0f%%\n",
        options.big.images, options.big.layers,
        static_cast<double>(big.store.json_bytes) / (1 << 20), options.big.position * 100);
    auto small_client = small.connect();
    auto big_client = big.connect();
    const std::string name(kTwoLayerName);
    for (auto level : {VerityLevel::Digest, VerityLevel::Off}) {
        auto [on_big, on_small] = interleaved(
            options.iterations, 5, [&] { big_client.mount(name, "", at(level)).rootfs.reset(); },
            [&] { small_client.mount(name, "", at(level)).rootfs.reset(); });
        double ratio = on_big.p50() / on_small.p50();
        print({fmt::format("Mount() 2 layers {} on the big store vs 10 images", to_string(level)),
               on_big.p50(), on_small.p50(), "us", "<= 1.3x", ratio <= 1.3});
    }
}

void rss(const Options& options, const Served& served) {
    constexpr unsigned kClients = 8;
    const pid_t pid = served.daemon.pid();
    auto mixed = [&](unsigned thread) -> std::function<void()> {
        auto client = std::make_shared<Client>(served.connect());
        auto turn = std::make_shared<unsigned>(thread);
        return [client, turn] {
            switch ((*turn)++ % 4) {
                case 0:
                    client->mount(std::string(kTwoLayerName), "", at(VerityLevel::Digest));
                    break;
                case 1:
                    client->mount(std::string(kTenLayerName), "", at(VerityLevel::Digest));
                    break;
                case 2:
                    client->mount(std::string(kTenLayerName), "", at(VerityLevel::Off));
                    break;
                default:
                    client->verify(std::string(kTenLayerName));
                    break;
            }
        };
    };
    const double start_mib = static_cast<double>(rss_kib(pid)) / 1024;
    const int half = options.rss_requests / 2 / static_cast<int>(kClients);
    concurrent(kClients, half, mixed);
    const double half_mib = static_cast<double>(rss_kib(pid)) / 1024;
    concurrent(kClients, half, mixed);
    const double end_mib = static_cast<double>(rss_kib(pid)) / 1024;
    // The daemon gives freed memory back once idle for a second.
    std::this_thread::sleep_for(std::chrono::seconds(2));
    const double idle_mib = static_cast<double>(rss_kib(pid)) / 1024;
    std::printf(
        "# RSS: %.1f MiB before, %.1f MiB after %d requests, %.1f MiB after %d, %.1f MiB 2 s "
        "later\n",
        start_mib, half_mib, half * kClients, end_mib, 2 * half * kClients, idle_mib);
    print({fmt::format("daemon RSS after {} requests from 8 clients", 2 * half * kClients), end_mib,
           0, "MiB", "<= 16 MiB", end_mib <= 16});
    print({fmt::format("daemon RSS growth over the last {}", half * kClients), end_mib - half_mib,
           0, "MiB", "<= 1 MiB", end_mib - half_mib <= 1});
}

int host_main(int argc, char** argv) {
    const Options options = parse_options(argc, argv);
    install_stop_handler();
    std::printf("# load average at start: %.2f\n", load_average());
    testing::TempDir dir;
    Served served(dir.path() / "store", StoreSize{}, options.peer_to_peer);
    std::printf("# transport: %s\n", options.peer_to_peer ? "peer-to-peer socket" : "dbus-daemon");
    const auto& built = served.store.built;
    RawImage two(built.paths.store, layer_ids(built.image(0)));
    RawImage ten(built.paths.store, layer_ids(built.image(1)));
    print_header();
    if (options.wants("single")) {
        single(options, served, two, ten);
    }
    if (options.wants("concurrent")) {
        concurrent_clients(options, served, two, ten);
    }
    if (options.wants("bigstore")) {
        big_store(options, served);
    }
    if (options.wants("rss")) {
        rss(options, served);
    }
    std::printf("# load average at end: %.2f\n", load_average());
    return 0;
}

}  // namespace
}  // namespace vmd::bench

int main(int argc, char** argv) {
    try {
        if (argc > 1 && std::string_view(argv[1]) == "vm") {
            return vmd::bench::vm_main(argc - 1, argv + 1);
        }
        return vmd::bench::host_main(argc, argv);
    } catch (const std::exception& error) {
        std::fprintf(stderr, "bench_mount: %s\n", error.what());
        return 1;
    }
}
