// User-space fs-verity digest throughput, next to `fsverity digest` on the same file.
// Usage: bench_digest [--size_mib=N] [google-benchmark flags]. The file lives in /var/tmp.
#include <benchmark/benchmark.h>
#include <fcntl.h>

#include <chrono>
#include <cstring>
#include <random>
#include <string>

#include "common/unique_fd.hpp"
#include "fixtures/test_env.hpp"
#include "verity/digest.hpp"

namespace {

std::size_t size_mib = 1024;
std::string path;

void make_file() {
    path = "/var/tmp/vmd-bench-digest-" + std::to_string(::getpid());
    vmd::UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    std::vector<char> chunk(1 << 20);
    std::mt19937_64 gen(42);
    for (std::size_t i = 0; i < size_mib; ++i) {
        for (std::size_t j = 0; j < chunk.size(); j += 8) {
            auto v = gen();
            std::memcpy(chunk.data() + j, &v, 8);
        }
        if (::write(fd.get(), chunk.data(), chunk.size()) != static_cast<ssize_t>(chunk.size())) {
            std::abort();
        }
    }
}

void BM_UserSpaceDigest(benchmark::State& state) {
    for (auto _ : state) {
        vmd::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
        benchmark::DoNotOptimize(vmd::verity::digest_fd(fd.get()));
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * size_mib) << 20);
}

void BM_FsverityTool(benchmark::State& state) {
    for (auto _ : state) {
        auto result = vmd::testing::run({"fsverity", "digest", "--compact", path});
        if (result.exit_code != 0) {
            state.SkipWithError("fsverity digest failed");
        }
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * size_mib) << 20);
}

BENCHMARK(BM_UserSpaceDigest)->Unit(benchmark::kMillisecond)->MinTime(2.0);
BENCHMARK(BM_FsverityTool)->Unit(benchmark::kMillisecond)->MinTime(2.0);

}  // namespace

int main(int argc, char** argv) {
    for (int i = 1; i < argc; ++i) {
        if (std::strncmp(argv[i], "--size_mib=", 11) == 0) {
            size_mib = std::stoul(argv[i] + 11);
        }
    }
    benchmark::Initialize(&argc, argv);
    make_file();
    benchmark::RunSpecifiedBenchmarks();
    ::unlink(path.c_str());
    benchmark::Shutdown();
    return 0;
}
