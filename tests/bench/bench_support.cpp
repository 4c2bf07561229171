#include "bench/bench_support.hpp"

#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <latch>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace vmd::bench {
namespace {

using Clock = std::chrono::steady_clock;

std::atomic<bool> stop_requested{false};

extern "C" void on_stop_signal(int /*signal*/) {
    stop_requested.store(true);
}

double since_us(Clock::time_point start) {
    return std::chrono::duration<double, std::micro>(Clock::now() - start).count();
}

}  // namespace

void install_stop_handler() {
    struct sigaction action {};
    action.sa_handler = on_stop_signal;
    sigemptyset(&action.sa_mask);
    ::sigaction(SIGINT, &action, nullptr);
    ::sigaction(SIGTERM, &action, nullptr);
}

void throw_if_stopped() {
    if (stop_requested.load()) {
        throw std::runtime_error("stopped by a signal");
    }
}

void Samples::append(const Samples& other) {
    values_.insert(values_.end(), other.values_.begin(), other.values_.end());
    sorted_ = false;
}

double Samples::quantile(double q) const {
    if (values_.empty()) {
        return 0;
    }
    if (!sorted_) {
        std::sort(values_.begin(), values_.end());
        sorted_ = true;
    }
    auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(values_.size())));
    return values_[std::clamp<std::size_t>(rank, 1, values_.size()) - 1];
}

double time_us(const std::function<void()>& body) {
    auto start = Clock::now();
    body();
    return since_us(start);
}

std::pair<Samples, Samples> interleaved(int iterations, int warmup, const std::function<void()>& a,
                                        const std::function<void()>& b) {
    for (int i = 0; i < warmup; ++i) {
        a();
        b();
    }
    Samples sa;
    Samples sb;
    for (int i = 0; i < iterations; ++i) {
        throw_if_stopped();
        // a b b a a b b a …: neither side always runs right after the other.
        if (i % 2 == 0) {
            sa.add(time_us(a));
            sb.add(time_us(b));
        } else {
            sb.add(time_us(b));
            sa.add(time_us(a));
        }
    }
    return {sa, sb};
}

Throughput concurrent(unsigned threads, int per_thread,
                      const std::function<std::function<void()>(unsigned)>& setup) {
    std::vector<Samples> latencies(threads);
    std::latch ready(threads);
    std::latch go(1);
    std::vector<std::jthread> workers;
    workers.reserve(threads);
    for (unsigned t = 0; t < threads; ++t) {
        workers.emplace_back([&, t] {
            auto body = setup(t);
            ready.count_down();
            go.wait();
            for (int i = 0; i < per_thread && !stop_requested.load(); ++i) {
                latencies[t].add(time_us(body));
            }
        });
    }
    ready.wait();
    auto start = Clock::now();
    go.count_down();
    workers.clear();  // joins
    throw_if_stopped();
    double wall_us = since_us(start);
    Throughput out;
    out.per_second = static_cast<double>(threads) * per_thread / (wall_us / 1e6);
    for (const auto& samples : latencies) {
        out.latency.append(samples);
    }
    return out;
}

std::pair<Throughput, Throughput> interleaved_concurrent(
    unsigned threads, int per_thread, int rounds,
    const std::function<std::function<void()>(unsigned)>& a,
    const std::function<std::function<void()>(unsigned)>& b) {
    double a_seconds = 0;
    double b_seconds = 0;
    Throughput ta;
    Throughput tb;
    const double requests = static_cast<double>(threads) * per_thread;
    for (int round = 0; round < rounds; ++round) {
        for (int side : round % 2 == 0 ? std::vector<int>{0, 1} : std::vector<int>{1, 0}) {
            auto result = concurrent(threads, per_thread, side == 0 ? a : b);
            (side == 0 ? a_seconds : b_seconds) += requests / result.per_second;
            (side == 0 ? ta : tb).latency.append(result.latency);
        }
    }
    ta.per_second = requests * rounds / a_seconds;
    tb.per_second = requests * rounds / b_seconds;
    return {ta, tb};
}

std::uint64_t rss_kib(pid_t pid) {
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(status, line)) {
        if (line.starts_with("VmRSS:")) {
            std::istringstream fields(line.substr(6));
            std::uint64_t kib = 0;
            fields >> kib;
            return kib;
        }
    }
    throw std::runtime_error("no VmRSS for pid " + std::to_string(pid));
}

double cpu_us(pid_t pid) {
    double total_ns = 0;
    const std::filesystem::path tasks = "/proc/" + std::to_string(pid) + "/task";
    for (const auto& task : std::filesystem::directory_iterator(tasks)) {
        std::ifstream schedstat(task.path() / "schedstat");
        double ns = 0;
        schedstat >> ns;  // the first field: time spent on the CPU
        total_ns += ns;
    }
    return total_ns / 1000;
}

double load_average() {
    std::ifstream in("/proc/loadavg");
    double load = -1;
    in >> load;
    return load;
}

void print_header() {
    std::printf("%-52s %12s %12s %8s  %-10s %s\n", "figure", "daemon", "baseline", "ratio",
                "target", "met");
}

void print(const Figure& figure) {
    char daemon[32];
    char baseline[32] = "";
    char ratio[16] = "";
    std::snprintf(daemon, sizeof daemon, "%.0f %s", figure.daemon, figure.unit.c_str());
    if (figure.unit == "MiB") {
        std::snprintf(daemon, sizeof daemon, "%.1f %s", figure.daemon, figure.unit.c_str());
    }
    if (figure.baseline > 0) {
        std::snprintf(baseline, sizeof baseline, "%.0f %s", figure.baseline, figure.unit.c_str());
        std::snprintf(ratio, sizeof ratio, "%.2fx", figure.daemon / figure.baseline);
    }
    std::printf("%-52s %12s %12s %8s  %-10s %s\n", figure.what.c_str(), daemon, baseline, ratio,
                figure.target.c_str(), figure.met ? "yes" : "NO");
    std::fflush(stdout);
}

}  // namespace vmd::bench
