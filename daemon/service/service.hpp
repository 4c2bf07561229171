// The request pipeline: resolve → verify signatures → check blob digests → mount. No D-Bus here;
// bus/ only translates messages to calls of this class and back.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"
#include "common/levels.hpp"
#include "common/unique_fd.hpp"
#include "config/config.hpp"
#include "mount/kernel_features.hpp"

namespace vmd::storage {
class Store;
}

namespace vmd::service {

struct VerifiedImage;

/// Who is asking (from the transport's peer credentials).
struct Caller {
    uid_t uid = static_cast<uid_t>(-1);
    pid_t pid = 0;
};

/// The request's options (DESIGN §4); absent levels mean "the configured minimum".
struct RequestOptions {
    std::optional<SignatureLevel> signature;
    std::optional<VerityLevel> verity;
    bool readonly = false;
    bool nodev = false;
    bool nosuid = false;
};

/// One call as the transport read it: who asked for what. The audit record names these.
struct Request {
    Caller caller;
    std::string_view method;  // "Mount", "Verify" or "GetStatus" (a literal)
    std::string image;
    std::string container;  // "" for none (and for Verify)
    RequestOptions options;
};

struct LayerReport {
    std::string layer_id;
    std::string blob_digest;           // measured fs-verity digest of the composefs blob
    std::vector<std::string> allowed;  // from the verified manifest
};

/// The `info` / `report` dictionary of DESIGN §4.
struct Report {
    std::string image_id;
    std::string manifest_digest;
    std::string identity;
    std::string policy_scope;
    SignatureLevel signature = SignatureLevel::Require;
    VerityLevel verity = VerityLevel::Enforce;
    std::vector<LayerReport> layers;  // bottom first
    std::uint64_t elapsed_us = 0;
};

/// The detached EROFS mounts an overlay was built from; the overlay holds its own references.
/// Closing one dissolves a detached mount, for which the kernel waits out an RCU grace period
/// (0.1 to 10 ms each, with the load), so the transport closes them once the reply is on its
/// way. Counted in the Service while open: Service::wait_layer_mounts_closed().
class LayerMounts {
  public:
    LayerMounts() = default;
    LayerMounts(LayerMounts&& other) noexcept;
    LayerMounts& operator=(LayerMounts&& other) noexcept;
    LayerMounts(const LayerMounts&) = delete;
    LayerMounts& operator=(const LayerMounts&) = delete;
    ~LayerMounts() { close(); }

    /// Closes them now (nothing when already closed or empty).
    void close() noexcept;

  private:
    friend class Service;
    LayerMounts(std::vector<UniqueFd> mounts, std::atomic<unsigned>* open_sets) noexcept;

    std::vector<UniqueFd> mounts_;
    std::atomic<unsigned>* open_sets_ = nullptr;  // the Service's count, while mounts_ is open
};

struct MountResult {
    UniqueFd rootfs;  // detached overlay mount
    Report report;
    LayerMounts layer_mounts;
};

struct Counters {
    std::uint64_t requests = 0;
    std::uint64_t mounts = 0;
    std::uint64_t refusals = 0;
};

class Service;

/// A place among the max_concurrent requests in flight; released on destruction.
class RequestSlot {
  public:
    RequestSlot(RequestSlot&& other) noexcept;
    RequestSlot& operator=(RequestSlot&&) = delete;
    RequestSlot(const RequestSlot&) = delete;
    RequestSlot& operator=(const RequestSlot&) = delete;
    ~RequestSlot();

  private:
    friend class Service;
    explicit RequestSlot(std::atomic<unsigned>* in_flight) : in_flight_(in_flight) {}
    std::atomic<unsigned>* in_flight_;
};

class Service {
  public:
    Service(config::Config config, mount::KernelFeatures kernel);

    /// Throws Error(AccessDenied) unless caller.uid is in allowed_uids.
    void authorize(const Caller& caller) const;
    /// A slot for one more request, or Error(Busy) when max_concurrent are in flight.
    RequestSlot acquire_slot();

    /// Verifies request.image and mounts it (with request.container's upper/work dirs unless
    /// ""): the whole pipeline of DESIGN §1. Every refusal is an Error. Neither counts nor
    /// audits: the transport calls answered() or refused() once it knows elapsed_us.
    MountResult mount(const Request& request);
    /// The checks of mount() without mounting.
    Report verify(const Request& request);

    /// Counts and audits `request`, answered with `report`; `elapsed_us` is the value the reply
    /// carries (DESIGN §8a: from reading the request to sending the reply). Never throws.
    void answered(const Request& request, const Report& report, std::uint64_t elapsed_us) noexcept;
    /// Counts and audits `request`, refused with `error` wherever that happened (access,
    /// arguments, Busy, the pipeline, the reply). A refused GetStatus counts as a refusal but
    /// not as a request. Never throws.
    void refused(const Request& request, const Error& error, std::uint64_t elapsed_us) noexcept;

    const config::Config& config() const { return config_; }
    const mount::KernelFeatures& kernel() const { return kernel_; }
    Counters counters() const;
    /// The request slots taken now (0 when nothing is in flight).
    unsigned in_flight() const { return in_flight_.load(); }
    /// Blocks until every LayerMounts that mount() returned is closed.
    void wait_layer_mounts_closed() const;
    /// Seconds since the last counted request (or since start).
    std::uint64_t idle_seconds() const;

  private:
    void finished(const Request& request, const Report* report, const Error* error,
                  std::uint64_t elapsed_us) noexcept;
    MountResult mount_verified(const storage::Store& store, VerifiedImage& verified,
                               const RequestOptions& options);

    config::Config config_;
    mount::KernelFeatures kernel_;
    std::atomic<unsigned> in_flight_{0};
    std::atomic<unsigned> open_layer_mounts_{0};  // LayerMounts not yet closed
    std::atomic<std::uint64_t> requests_{0};
    std::atomic<std::uint64_t> mounts_{0};
    std::atomic<std::uint64_t> refusals_{0};
    std::atomic<std::int64_t> last_request_ns_{0};
};

}  // namespace vmd::service
