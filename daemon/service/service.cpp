#include "service/service.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

#include "common/error.hpp"
#include "service/audit.hpp"
#include "service/pipeline.hpp"

namespace vmd::service {
namespace {

std::int64_t now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

storage::Limits store_limits(const config::Config& config) {
    return {config.max_json_bytes, config.max_manifest_bytes, config.max_blob_bytes,
            config.max_layers};
}

}  // namespace

RequestSlot::RequestSlot(RequestSlot&& other) noexcept
    : in_flight_(std::exchange(other.in_flight_, nullptr)) {}

RequestSlot::~RequestSlot() {
    if (in_flight_ != nullptr) {
        in_flight_->fetch_sub(1);
    }
}

LayerMounts::LayerMounts(std::vector<UniqueFd> mounts, std::atomic<unsigned>* open_sets) noexcept
    : mounts_(std::move(mounts)), open_sets_(open_sets) {
    open_sets_->fetch_add(1);
}

LayerMounts::LayerMounts(LayerMounts&& other) noexcept
    : mounts_(std::move(other.mounts_)), open_sets_(std::exchange(other.open_sets_, nullptr)) {}

LayerMounts& LayerMounts::operator=(LayerMounts&& other) noexcept {
    if (this != &other) {
        close();
        mounts_ = std::move(other.mounts_);
        open_sets_ = std::exchange(other.open_sets_, nullptr);
    }
    return *this;
}

void LayerMounts::close() noexcept {
    mounts_.clear();
    if (auto* open_sets = std::exchange(open_sets_, nullptr)) {
        open_sets->fetch_sub(1);
        open_sets->notify_all();
    }
}

Service::Service(config::Config config, mount::KernelFeatures kernel)
    : config_(std::move(config)), kernel_(std::move(kernel)), last_request_ns_(now_ns()) {}

void Service::authorize(const Caller& caller) const {
    const auto& allowed = config_.allowed_uids;
    if (std::find(allowed.begin(), allowed.end(), caller.uid) == allowed.end()) {
        fail(Errc::AccessDenied, "caller uid {}: expected one of the allowed_uids, found it absent",
             caller.uid);
    }
}

RequestSlot Service::acquire_slot() {
    unsigned current = in_flight_.load();
    do {
        if (current >= config_.max_concurrent) {
            fail(Errc::Busy,
                 "requests in flight: expected fewer than max_concurrent ({}), found {}",
                 config_.max_concurrent, current);
        }
    } while (!in_flight_.compare_exchange_weak(current, current + 1));
    return RequestSlot(&in_flight_);
}

MountResult Service::mount(const Request& request) {
    authorize(request.caller);
    const auto levels = effective_levels(config_, request.options);
    const auto store = storage::Store::open(config_.storage_root, store_limits(config_));
    auto verified =
        verify_image(config_, kernel_, store, request.image, request.container, levels, true);
    return mount_verified(store, verified, request.options);
}

Report Service::verify(const Request& request) {
    authorize(request.caller);
    const auto levels = effective_levels(config_, request.options);
    const auto store = storage::Store::open(config_.storage_root, store_limits(config_));
    return verify_image(config_, kernel_, store, request.image, "", levels, false).report;
}

void Service::answered(const Request& request, const Report& report,
                       std::uint64_t elapsed_us) noexcept {
    if (request.method == "Mount") {
        mounts_.fetch_add(1);
    }
    finished(request, &report, nullptr, elapsed_us);
}

void Service::refused(const Request& request, const Error& error,
                      std::uint64_t elapsed_us) noexcept {
    refusals_.fetch_add(1);
    finished(request, nullptr, &error, elapsed_us);
}

void Service::finished(const Request& request, const Report* report, const Error* error,
                       std::uint64_t elapsed_us) noexcept {
    if (request.method != "GetStatus") {
        requests_.fetch_add(1);
        last_request_ns_.store(now_ns());
    }
    AuditRecord audit{request.caller, request.method, request.image, request.container};
    const auto levels = effective_levels(config_, request.options);
    audit.signature = levels.signature;
    audit.verity = levels.verity;
    audit.report = report;
    audit.error = error;
    audit.elapsed_us = elapsed_us;
    write_audit(audit);
}

MountResult Service::mount_verified(const storage::Store& store, VerifiedImage& verified,
                                    const RequestOptions& options) {
    // EROFS mounts bottom first; the overlay wants them (and the data dirs) top first.
    std::vector<UniqueFd> erofs;
    std::vector<UniqueFd> data_dirs;
    for (auto& layer : verified.layers) {
        bool noacl = !mount::composefs_blob_has_acl(layer.blob.get());
        erofs.push_back(mount::mount_erofs(layer.blob.get(), layer.source, noacl, kernel_));
        layer.blob.reset();
        data_dirs.push_back(store.open_layer_dir(layer.id, "diff"));
    }
    mount::OverlaySpec spec;
    for (auto it = erofs.rbegin(); it != erofs.rend(); ++it) {
        spec.metadata_layers.push_back(it->get());
    }
    for (auto it = data_dirs.rbegin(); it != data_dirs.rend(); ++it) {
        spec.data_layers.push_back(it->get());
    }
    UniqueFd upper;
    UniqueFd work;
    if (verified.container) {
        upper = store.open_layer_dir(verified.container->layer, "diff");
        work = store.open_layer_dir(verified.container->layer, "work");
        spec.upper_dir = upper.get();
        spec.work_dir = work.get();
    }
    spec.readonly = options.readonly || !verified.container;
    spec.nodev = options.nodev;
    spec.nosuid = options.nosuid;
    spec.verity_require = verified.report.verity == VerityLevel::Enforce;
    auto rootfs = mount::mount_overlay(spec, kernel_);
    return {std::move(rootfs), std::move(verified.report),
            LayerMounts(std::move(erofs), &open_layer_mounts_)};
}

void Service::wait_layer_mounts_closed() const {
    for (unsigned open = open_layer_mounts_.load(); open != 0; open = open_layer_mounts_.load()) {
        open_layer_mounts_.wait(open);
    }
}

Counters Service::counters() const {
    return {requests_.load(), mounts_.load(), refusals_.load()};
}

std::uint64_t Service::idle_seconds() const {
    if (in_flight_.load() > 0) {
        return 0;
    }
    auto idle_ns = now_ns() - last_request_ns_.load();
    return idle_ns > 0 ? static_cast<std::uint64_t>(idle_ns / 1'000'000'000) : 0;
}

}  // namespace vmd::service
