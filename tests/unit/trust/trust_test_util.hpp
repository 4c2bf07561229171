// Helpers shared by the trust module's tests: signed images and small policies.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"
#include "fixtures/signing.hpp"
#include "fixtures/test_env.hpp"

namespace vmd::trust::test {

/// A small OCI-like manifest; only its bytes matter to the trust module.
inline const std::string kManifest =
    R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","layers":[]})";

/// One sigstore blob signed by `key` claiming `identity` for `manifest`'s digest.
inline std::string signed_blob(const testing::SigningKey& key, std::string_view identity,
                               std::string_view manifest = kManifest, bool raw = false) {
    auto payload = testing::sigstore_payload(identity, testing::sha256_digest(manifest));
    return testing::sigstore_blob(payload, key.sign(payload, raw));
}

/// base64 of the key's PEM, as keyData wants it.
inline std::string key_data(const testing::SigningKey& key) {
    return testing::base64(key.public_pem());
}

/// A policy whose docker transport has `scopes` (JSON object members) and default `def`.
inline std::string docker_policy(std::string_view scopes,
                                 std::string_view def = R"([{"type":"reject"}])") {
    return std::string(R"({"default":)") + std::string(def) + R"(,"transports":{"docker":{)" +
           std::string(scopes) + "}}}";
}

/// An image in containers/image's dir: layout, as its fixtures are stored.
struct DirImage {
    std::string manifest;  // "" when the fixture has none
    std::vector<std::string> signatures;
};

/// Reads `dir`/manifest.json and `dir`/signature-1, -2, …; a missing directory throws.
inline DirImage load_dir_image(const std::filesystem::path& dir) {
    if (!std::filesystem::is_directory(dir)) {
        throw std::runtime_error("fixture directory " + dir.string() + " is missing");
    }
    DirImage image;
    if (std::filesystem::exists(dir / "manifest.json")) {
        image.manifest = testing::read_file(dir / "manifest.json");
    }
    for (int i = 1; std::filesystem::exists(dir / ("signature-" + std::to_string(i))); ++i) {
        image.signatures.push_back(testing::read_file(dir / ("signature-" + std::to_string(i))));
    }
    return image;
}

/// Runs `action`, expecting an Error; returns it (a default Internal error when none).
inline Error error_of(const std::function<void()>& action) {
    try {
        action();
    } catch (const Error& e) {
        return e;
    }
    ADD_FAILURE() << "expected an Error, none was thrown";
    return Error(Errc::Internal, "no error");
}

}  // namespace vmd::trust::test
