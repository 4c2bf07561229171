// The verification half of a request: resolve, check signatures, check blob digests. Everything
// it decides comes from bytes it read once; the fds it returns are the ones that were measured.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "common/unique_fd.hpp"
#include "config/config.hpp"
#include "mount/composefs.hpp"
#include "service/service.hpp"
#include "storage/store.hpp"

namespace vmd::service {

/// The effective levels of one request: the stricter of config and request.
struct Levels {
    SignatureLevel signature;
    VerityLevel verity;
};
Levels effective_levels(const config::Config& config, const RequestOptions& options);

/// A layer whose blob passed the verity level; `blob` is the fd to mount (the measured one).
struct VerifiedLayer {
    std::string id;
    UniqueFd blob;
    mount::ErofsSourceKind source = mount::ErofsSourceKind::File;
};

struct VerifiedImage {
    Report report;
    std::vector<VerifiedLayer> layers;  // bottom first
    std::optional<storage::ContainerRecord> container;
};

/// Runs every check of DESIGN §1 steps 2–5. With `keep_blobs` the measured blob fds are kept
/// for mounting; otherwise they are closed after measuring.
VerifiedImage verify_image(const config::Config& config, const mount::KernelFeatures& kernel,
                           const storage::Store& store, std::string_view image,
                           std::string_view container, Levels levels, bool keep_blobs);

}  // namespace vmd::service
