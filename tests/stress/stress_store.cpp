#include "stress/stress_store.hpp"

#include <fcntl.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "common/json.hpp"
#include "common/unique_fd.hpp"
#include "fixtures/process_probe.hpp"
#include "fixtures/sample_images.hpp"
#include "fixtures/store_files.hpp"
#include "fixtures/store_tamper.hpp"
#include "fixtures/test_env.hpp"
#include "verity/digest.hpp"

namespace vmd::testing::stress {
namespace fs = std::filesystem;
namespace {

constexpr std::string_view kRepositoryRoot = "quay.io/stress";
// EROFS keeps its superblock magic at byte 1024 of the image.
constexpr std::uint64_t kErofsMagicOffset = 1024;

const char* slug(Role role) {
    switch (role) {
        case Role::Good:
            return "good";
        case Role::Other:
            return "other";
        case Role::Unsigned:
            return "unsigned";
        case Role::WrongKey:
            return "wrongkey";
        case Role::NoAnnotation:
            return "noannotation";
        case Role::BlobFlipped:
            return "blobflipped";
        case Role::NotErofs:
            return "noterofs";
        case Role::Incomplete:
            return "incomplete";
        case Role::Rejected:
            return "rejected";
        case Role::BadKey:
            return "badkey";
    }
    throw std::logic_error("unknown role");
}

/// The image of `role`: the sample layers (three for Other), each with a file only it has.
ImageSpec image_of(Role role, std::string_view nonce) {
    ImageSpec image =
        role == Role::Other ? layered_image(3, image_name(role)) : sample_image(image_name(role));
    for (std::size_t i = 0; i < image.layers.size(); ++i) {
        image.layers[i].entries.push_back(
            Entry::file("/etc/stress-layer-" + std::to_string(i),
                        std::string(nonce) + " " + slug(role) + " layer " + std::to_string(i)));
    }
    image.layers.back().entries.push_back(Entry::file("/etc/stress-id", stress_id(nonce, role)));
    return image;
}

std::string policy_text(const BuiltStore& store, const fs::path& bad_key) {
    const auto key = json::quote(store.paths.public_key.string());
    const auto scope = [](Role role) { return json::quote(policy_scope(role)); };
    return "{\"default\": [{\"type\": \"reject\"}], \"transports\": {\"docker\": {\n  " +
           json::quote(kRepositoryRoot) + ": [{\"type\": \"sigstoreSigned\", \"keyPath\": " + key +
           ", \"signedIdentity\": {\"type\": \"matchRepoDigestOrExact\"}}],\n  " +
           scope(Role::Rejected) + ": [{\"type\": \"reject\"}],\n  " + scope(Role::BadKey) +
           ": [{\"type\": \"sigstoreSigned\", \"keyPath\": " + json::quote(bad_key.string()) +
           "}]\n}}}\n";
}

std::string bytes_of(const fs::path& path, std::uint64_t limit) {
    std::ifstream in(path, std::ios::binary);
    std::string bytes(limit, '\0');
    in.read(bytes.data(), static_cast<std::streamsize>(limit));
    bytes.resize(static_cast<std::size_t>(in.gcount()));
    return bytes;
}

std::uint64_t sysfs_number(const fs::path& path) {
    std::ifstream in(path);
    std::uint64_t value = 0;
    in >> value;
    return value;
}

}  // namespace

std::string image_name(Role role) {
    return std::string(kRepositoryRoot) + "/" + slug(role) + ":v1";
}

std::string stress_id(std::string_view nonce, Role role) {
    return std::string(nonce) + " " + slug(role) + "\n";
}

std::string container_name(Role role, std::size_t client) {
    return std::string(slug(role)) + "-c" + std::to_string(client);
}

std::string expected_error(Role role, bool mount) {
    switch (role) {
        case Role::Good:
        case Role::Other:
            return "";
        case Role::Unsigned:
            return error_name("SignatureRequired");
        case Role::WrongKey:
            return error_name("SignatureInvalid");
        case Role::NoAnnotation:
            return error_name("VerityMissing");
        case Role::BlobFlipped:
            return error_name("VerityMismatch");
        case Role::NotErofs:
            return mount ? error_name("MountFailed") : "";
        case Role::Incomplete:
            return error_name("StorageCorrupt");
        case Role::Rejected:
            return error_name("PolicyRejected");
        case Role::BadKey:
            return error_name("PolicyInvalid");
    }
    throw std::logic_error("unknown role");
}

std::string policy_scope(Role role) {
    if (role == Role::Rejected || role == Role::BadKey) {
        return std::string(kRepositoryRoot) + "/" + slug(role);
    }
    return std::string(kRepositoryRoot);
}

StoreSpec stress_store_spec(std::string_view nonce, std::size_t clients, std::size_t roles) {
    if (roles < 2 || roles > kRoles.size()) {
        throw std::invalid_argument("stress_store_spec: between 2 roles and all of them");
    }
    StoreSpec spec;
    for (std::size_t i = 0; i < roles; ++i) {
        spec.images.push_back(image_of(kRoles[i], nonce));
    }
    if (roles > index_of(Role::Unsigned)) {
        spec.images[index_of(Role::Unsigned)].signatures.clear();
    }
    for (std::size_t client = 0; client < clients; ++client) {
        for (Role role : {Role::Good, Role::Other}) {
            spec.containers.push_back({container_name(role, client), index_of(role)});
        }
    }
    spec.signature_level = "require";
    spec.verity_level = "off";
    return spec;
}

void damage_store(BuiltStore& store) {
    if (store.images.size() != kRoles.size()) {
        throw std::invalid_argument("damage_store: expected a store of every role");
    }
    const auto& root = store.paths.store;
    auto other_key = SigningKey::generate(KeyType::EcdsaP256);
    const std::vector<SignatureSpec> by_other_key{SignatureSpec::with_key(other_key)};
    resign(store, index_of(Role::WrongKey), by_other_key);
    remove_annotation(store, index_of(Role::NoAnnotation), 1);
    flip_blob_byte(root, store.image(index_of(Role::BlobFlipped)).layers.back().id);

    // A blob that is no EROFS image any more, and a manifest signed for exactly those bytes.
    auto& broken = store.images[index_of(Role::NotErofs)].layers.back();
    flip_blob_byte(root, broken.id, kErofsMagicOffset);
    UniqueFd blob(::open(blob_path(root, broken.id).c_str(), O_RDONLY | O_CLOEXEC));
    broken.blob_digest = verity::to_string(verity::digest_fd(blob.get()));
    set_annotation(store, index_of(Role::NotErofs), 1, AnnotationSpec{});

    mark_layer_incomplete(root, store.image(index_of(Role::Incomplete)).layers.back().id);
    const auto bad_key = store.paths.dir / "keys" / "not-a-key.pub";
    write_file(bad_key, "this file holds no public key\n");
    write_file(store.paths.policy, policy_text(store, bad_key));
}

std::string report_mismatch(const ReportInfo& report, const BuiltImage& image,
                            std::string_view requested, std::string_view verity) {
    std::string out;
    auto expect = [&](std::string_view what, std::string_view found, std::string_view want) {
        if (found != want) {
            out += std::string(what) + ": expected \"" + std::string(want) + "\", found \"" +
                   std::string(found) + "\"; ";
        }
    };
    expect("image_id", report.image_id, image.id);
    expect("manifest_digest", report.manifest_digest, image.manifest_digest);
    const bool by_name = requested.find(':') != std::string_view::npos;
    expect("identity", report.identity, by_name ? requested : image.names.front());
    expect("signature", report.signature, "require");
    expect("verity", report.verity, verity);
    if (report.layers.size() != image.layers.size()) {
        return out + "layers: expected " + std::to_string(image.layers.size()) + ", found " +
               std::to_string(report.layers.size());
    }
    const bool measured = verity != "off";
    for (std::size_t i = 0; i < image.layers.size(); ++i) {
        const auto& want = image.layers[i];
        const auto& found = report.layers[i];
        expect("layer_id", found.layer_id, want.id);
        expect("blob_digest", found.blob_digest, measured ? want.blob_digest : "");
        const std::vector<std::string> allowed =
            measured ? std::vector<std::string>{want.blob_digest} : std::vector<std::string>{};
        if (found.allowed != allowed) {
            out += "allowed of layer " + std::to_string(i + 1) + " differs; ";
        }
    }
    return out;
}

std::string error_name(std::string_view short_name) {
    return "io.containers.VerityMount1.Error." + std::string(short_name);
}

std::vector<std::string> loops_serving(const BuiltStore& store) {
    std::vector<std::string> blobs;
    for (const auto& image : store.images) {
        for (const auto& layer : image.layers) {
            const auto path = blob_path(store.paths.store, layer.id);
            blobs.push_back(bytes_of(path, fs::file_size(path)));
        }
    }
    std::vector<std::string> found;
    const auto dir = store.paths.dir.string();
    for (const auto& loop : bound_loop_devices()) {
        const auto name = "loop" + std::to_string(loop.number);
        const auto description = "/dev/" + name + " on " + loop.backing_file;
        if (loop.backing_file.starts_with(dir)) {
            found.push_back(description);
            continue;
        }
        if (!loop.backing_file.starts_with("/memfd:")) {
            continue;
        }
        // A memfd copy is recognised by its bytes; read only devices of a matching size (in
        // 512-byte sectors, rounded down).
        const auto sectors = sysfs_number("/sys/block/" + name + "/size");
        for (const auto& blob : blobs) {
            if (blob.size() / 512 == sectors && bytes_of("/dev/" + name, blob.size()) == blob) {
                found.push_back(description);
                break;
            }
        }
    }
    return found;
}

}  // namespace vmd::testing::stress
