#include "service/pipeline.hpp"

#include <algorithm>

#include "common/error.hpp"
#include "mount/sealed_memfd.hpp"
#include "storage/manifest.hpp"
#include "trust/evaluate.hpp"
#include "trust/policy/reference.hpp"
#include "verity/measure.hpp"

namespace vmd::service {
namespace {

// Far above the longest image reference (a 255-byte name, a 128-byte tag and a sha512 digest)
// and container name: anything longer is refused before it is parsed, quoted or logged.
constexpr std::size_t kMaxArgumentBytes = 1024;

void check_argument_size(std::string_view name, std::string_view value) {
    if (value.size() > kMaxArgumentBytes) {
        fail(Errc::InvalidArgument, "{}: expected at most {} bytes, found {} bytes", name,
             kMaxArgumentBytes, value.size());
    }
}

Levels checked_levels(const mount::KernelFeatures& kernel, Levels levels) {
    if (levels.verity == VerityLevel::Enforce) {
        if (!kernel.fs_verity) {
            fail(Errc::KernelUnsupported,
                 "verity=enforce: expected a kernel with fs-verity, found kernel {} without it "
                 "(use verity=digest on such kernels)",
                 kernel.release);
        }
        if (!kernel.overlay_verity) {
            fail(Errc::KernelUnsupported,
                 "verity=enforce: expected overlayfs with the verity= option, found kernel {} "
                 "without it",
                 kernel.release);
        }
    }
    return levels;
}

bool valid_container_argument(std::string_view text) {
    if (text.empty() || text.size() > 253) {
        return false;
    }
    auto name_char = [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '_' || c == '.' || c == '-';
    };
    return std::all_of(text.begin(), text.end(), name_char) && text.front() != '.' &&
           text.front() != '-';
}

struct Resolved {
    storage::ImageRecord image;
    std::optional<trust::DockerReference> identity;
};

Resolved resolve_image(const storage::Store& store, std::string_view image) {
    if (image.empty()) {
        fail(Errc::InvalidArgument, "image: expected an ID, ID prefix or name, found \"\"");
    }
    if (storage::is_id_or_prefix(image)) {
        Resolved resolved{store.find_image_by_id(image), std::nullopt};
        if (!resolved.image.names.empty()) {
            try {
                resolved.identity = trust::parse_docker_reference(resolved.image.names.front());
            } catch (const Error& error) {
                fail(Errc::StorageCorrupt, "image {}: its first name \"{}\" is not a reference: {}",
                     resolved.image.id, resolved.image.names.front(), error.message());
            }
        }
        return resolved;
    }
    auto reference = trust::parse_docker_reference(image);
    return {store.find_image_by_name(reference.string()), reference};
}

void check_chain_matches_manifest(const storage::Manifest& manifest,
                                  std::span<const storage::LayerRecord> chain) {
    if (!manifest.is_oci) {
        fail(Errc::VerityMissing,
             "manifest: expected an OCI image manifest with composefs annotations, found "
             "mediaType \"{}\"",
             manifest.media_type);
    }
    if (manifest.layers.size() != chain.size()) {
        fail(Errc::StorageCorrupt,
             "layer chain: expected {} layers as the manifest lists, found {}",
             manifest.layers.size(), chain.size());
    }
    for (std::size_t i = 0; i < chain.size(); ++i) {
        if (manifest.layers[i].allowed.empty()) {
            fail(Errc::VerityMissing,
                 "layer {} of {} ({}): expected a composefs digest annotation in the manifest, "
                 "found none",
                 i + 1, chain.size(), chain[i].id);
        }
    }
}

std::string join(std::span<const std::string> items) {
    std::string out;
    for (const auto& item : items) {
        out += out.empty() ? "" : ", ";
        out += item;
    }
    return out;
}

}  // namespace

Levels effective_levels(const config::Config& config, const RequestOptions& options) {
    return {stricter(config.signature, options.signature.value_or(config.signature)),
            stricter(config.verity, options.verity.value_or(config.verity))};
}

VerifiedImage verify_image(const config::Config& config, const mount::KernelFeatures& kernel,
                           const storage::Store& store, std::string_view image,
                           std::string_view container, Levels levels, bool keep_blobs) {
    check_argument_size("image", image);
    check_argument_size("container", container);
    levels = checked_levels(kernel, levels);
    if (!container.empty() && !valid_container_argument(container)) {
        fail(Errc::InvalidArgument, "container: expected an ID or a name, found \"{}\"", container);
    }
    Resolved resolved = resolve_image(store, image);
    VerifiedImage out;
    out.report.image_id = resolved.image.id;
    out.report.signature = levels.signature;
    out.report.verity = levels.verity;
    if (resolved.identity) {
        out.report.identity = resolved.identity->string();
    }
    if (!container.empty()) {
        out.container = store.find_container(container);
        if (out.container->image != resolved.image.id) {
            fail(Errc::InvalidArgument,
                 "container {}: expected a container of image {}, found one "
                 "of image {}",
                 out.container->id, resolved.image.id, out.container->image);
        }
    }

    auto chain = store.layer_chain(resolved.image);
    // The manifest and signatures are read once; every decision below uses these bytes.
    const std::string manifest = store.read_manifest(resolved.image);
    out.report.manifest_digest = storage::manifest_digest(manifest);

    if (levels.signature != SignatureLevel::Off) {
        if (!resolved.identity) {
            fail(Errc::PolicyRejected,
                 "image {}: a policy check needs the image's name, found an image with no name "
                 "(only signature=off can pass)",
                 resolved.image.id);
        }
        const auto signatures = store.read_signatures(resolved.image);
        const auto policy = trust::Policy::load_cached(config.policy_path, config.max_json_bytes);
        auto decision =
            trust::evaluate(*policy, *resolved.identity, manifest, signatures, levels.signature);
        out.report.policy_scope = decision.scope;
    }

    std::optional<storage::Manifest> parsed;
    if (levels.verity != VerityLevel::Off) {
        parsed = storage::parse_manifest(manifest, config.annotation_keys);
        check_chain_matches_manifest(*parsed, chain);
    }

    for (std::size_t i = 0; i < chain.size(); ++i) {
        LayerReport report{chain[i].id, {}, {}};
        VerifiedLayer layer{chain[i].id, store.open_layer_blob(chain[i].id),
                            mount::ErofsSourceKind::File};
        std::optional<verity::Sha256> digest;
        if (levels.verity == VerityLevel::Enforce) {
            digest = verity::measure_verity(layer.blob.get());
        } else if (levels.verity == VerityLevel::Digest) {
            if (keep_blobs) {
                // The bytes mounted are the bytes measured: a sealed copy nobody can change.
                auto copy = mount::sealed_copy(layer.blob.get(), store.limits().max_blob_bytes);
                layer.blob = std::move(copy.memfd);
                layer.source = mount::ErofsSourceKind::Loop;
                digest = copy.digest;
            } else {
                digest = verity::digest_fd(layer.blob.get(), store.limits().max_blob_bytes);
            }
        }
        if (parsed) {
            report.allowed = parsed->layers[i].allowed;
            report.blob_digest = verity::to_string(*digest);
            if (std::find(report.allowed.begin(), report.allowed.end(), report.blob_digest) ==
                report.allowed.end()) {
                fail(Errc::VerityMismatch,
                     "layer {} of {} ({}): expected a composefs blob digest in [{}], found {}",
                     i + 1, chain.size(), chain[i].id, join(report.allowed), report.blob_digest);
            }
        }
        out.report.layers.push_back(std::move(report));
        if (keep_blobs) {
            out.layers.push_back(std::move(layer));
        }
    }
    return out;
}

}  // namespace vmd::service
