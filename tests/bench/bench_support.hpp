// Measuring on a shared, noisy machine: interleaved samples (the daemon and its baseline take
// turns, so both see the same load), percentiles, throughput of concurrent workers, RSS.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace vmd::bench {

/// Makes SIGINT and SIGTERM stop the measurement loops below, which then throw, so that the
/// bench's daemons, buses, mounts and temporary directories are cleaned up on the way out.
void install_stop_handler();
/// Throws std::runtime_error once SIGINT or SIGTERM arrived.
void throw_if_stopped();

/// Latencies in microseconds, with their percentiles.
class Samples {
  public:
    void add(double us) { values_.push_back(us); }
    void append(const Samples& other);
    std::size_t size() const { return values_.size(); }
    /// The q-quantile (0 ≤ q ≤ 1, nearest rank); 0 when empty.
    double quantile(double q) const;
    double p50() const { return quantile(0.5); }
    double p99() const { return quantile(0.99); }

  private:
    mutable std::vector<double> values_;
    mutable bool sorted_ = false;
};

/// Microseconds that `body` took.
double time_us(const std::function<void()>& body);

/// Runs `a` and `b` `iterations` times each, alternating (a, b, b, a, a, b, …) after `warmup`
/// untimed rounds, and returns their latencies.
std::pair<Samples, Samples> interleaved(int iterations, int warmup, const std::function<void()>& a,
                                        const std::function<void()>& b);

/// What `threads` workers achieved together.
struct Throughput {
    double per_second = 0;
    Samples latency;
};

/// Runs `per_thread` calls of `body(thread index)` on each of `threads` threads at once, after
/// `setup(thread index)` ran on each (untimed; e.g. connecting). Measures wall time and each
/// call's latency.
Throughput concurrent(unsigned threads, int per_thread,
                      const std::function<std::function<void()>(unsigned)>& setup);

/// Alternates `rounds` concurrent runs of `a` and of `b` (a, b, b, a, …) and adds them up.
std::pair<Throughput, Throughput> interleaved_concurrent(
    unsigned threads, int per_thread, int rounds,
    const std::function<std::function<void()>(unsigned)>& a,
    const std::function<std::function<void()>(unsigned)>& b);

/// Resident set size of process `pid` in KiB (VmRSS).
std::uint64_t rss_kib(pid_t pid);

/// CPU time all threads of process `pid` have used so far, in microseconds (schedstat).
double cpu_us(pid_t pid);

/// The 1-minute load average, as `uptime` shows it.
double load_average();

/// One printed figure: what, the daemon's value, the baseline's, their ratio, the target.
struct Figure {
    std::string what;
    double daemon = 0;
    double baseline = 0;  // 0: an absolute figure, no ratio
    std::string unit;     // "us", "/s", "MiB"
    std::string target;   // e.g. "<= 1.25x"
    bool met = false;
};

/// Prints `figure` as one aligned table line.
void print(const Figure& figure);
/// Prints the table's header.
void print_header();

}  // namespace vmd::bench
