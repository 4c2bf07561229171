// Skopeo mode: Debian's skopeo (containers/image + containers/storage, as podman uses them)
// writes the store, we add only what skopeo 1.9.3 cannot (composefs blobs, sigstore signatures).
// The result must read exactly like a natively built store: same IDs, digests and items.
#include <gtest/gtest.h>

#include <filesystem>
#include <iostream>

#include "fixtures/sample_images.hpp"
#include "fixtures/skopeo_import.hpp"
#include "fixtures/store_builder.hpp"
#include "fixtures/store_files.hpp"
#include "fixtures/test_env.hpp"
#include "fixtures_helpers.hpp"
#include "verity/digest.hpp"

namespace vmd::testing {
namespace {

namespace fs = std::filesystem;
using checks::JsonFile;
using checks::str;
using checks::strings;

std::string digest_of(const fs::path& path) {
    auto bytes = read_file(path);
    return verity::to_string(verity::digest_bytes(std::as_bytes(std::span(bytes))));
}

class SkopeoStoreTest : public ::testing::Test {
  protected:
    void SetUp() override {
        // scripts/install-deps.sh installs skopeo: without it the set-up is broken.
        auto reason = skopeo_unavailable_reason();
        ASSERT_TRUE(reason.empty()) << reason;
    }
};

TEST_F(SkopeoStoreTest, ReadsLikeTheNativeStore) {
    TempDir native_dir, skopeo_dir;
    auto spec = sample_store();
    spec.containers = {{"demo", 0}};
    auto native = build_store(spec, native_dir.path());
    spec.mode = StoreMode::Skopeo;
    auto made = build_store(spec, skopeo_dir.path());
    const auto& image = made.image();
    const auto& store = made.paths.store;
    for (const auto& layer : image.layers) {
        std::cout << "skopeo layer " << layer.id << " blob " << layer.blob_digest << "\n";
    }

    // The store code's private bind mount of STORE/overlay must not outlive the build.
    EXPECT_EQ(mounts_below(made.paths.dir), std::vector<fs::path>{});

    // skopeo chose the same image ID and layer IDs that the builder predicts.
    EXPECT_EQ(image.id, native.image().id);
    EXPECT_EQ(image.manifest_digest, native.image().manifest_digest);
    ASSERT_EQ(image.layers.size(), 2u);
    std::vector<std::string> ids;
    for (std::size_t i = 0; i < 2; ++i) {
        EXPECT_EQ(image.layers[i].id, native.image().layers[i].id);
        ids.push_back(image.layers[i].id);
    }
    EXPECT_EQ(layer_chain(store, image.id), ids);

    JsonFile images(read_file(images_json(store)));
    simdjson::dom::element record = images.root.at(0);
    EXPECT_EQ(strings(record, "names"), std::vector<std::string>{std::string(kDemoName)});
    EXPECT_EQ(str(record, "digest"), image.manifest_digest);
    EXPECT_EQ(str(record, "layer"), ids.back());
    auto names = strings(record, "big-data-names");
    for (const auto& key : std::vector<std::string>{
             "manifest", "signatures", "manifest-" + image.manifest_digest, "sha256:" + image.id,
             "signature-" + image.manifest_digest.substr(7)}) {
        EXPECT_EQ(std::count(names.begin(), names.end(), key), 1) << key;
        auto file = image_dir(store, image.id) / big_data_file_name(key);
        EXPECT_EQ(uint64_t(record["big-data-sizes"][key]), fs::file_size(file)) << key;
    }
    EXPECT_EQ(read_file(image_dir(store, image.id) / "manifest"), native.image().manifest);
    JsonFile metadata(str(record, "metadata"));
    auto signatures = read_file(image_dir(store, image.id) / "signatures");
    EXPECT_EQ(uint64_t(metadata.root["signature-sizes"].at(0)), signatures.size());
    EXPECT_EQ(uint64_t(metadata.root["signatures-sizes"][image.manifest_digest].at(0)),
              signatures.size());
    auto sig = checks::parse_sigstore(signatures);
    ASSERT_TRUE(sig);
    EXPECT_TRUE(
        checks::openssl_verify(read_file(made.paths.public_key), sig->payload, sig->signature));

    for (const auto& layer : image.layers) {
        EXPECT_EQ(digest_of(blob_path(store, layer.id)), layer.blob_digest);
        for (const auto& object : layer.objects) {
            auto path = layer_dir(store, layer.id) / "diff" / object.object;
            EXPECT_EQ(digest_of(path), object.digest) << object.path;
        }
    }

    JsonFile containers(read_file(containers_json(store)));
    simdjson::dom::element container = containers.root.at(0);
    EXPECT_EQ(str(container, "image"), image.id);
    EXPECT_EQ(str(container, "layer"), made.containers.at(0).layer_id);
    EXPECT_TRUE(fs::is_directory(layer_dir(store, made.containers[0].layer_id) / "work"));
}

TEST_F(SkopeoStoreTest, SecondImageReusesTheSharedBottomLayer) {
    TempDir dir;
    StoreSpec spec;
    spec.mode = StoreMode::Skopeo;
    spec.images = {sample_image(), layered_image(3, "quay.io/example/other:1")};
    auto made = build_store(spec, dir.path());
    EXPECT_EQ(made.images[0].layers[0].id, made.images[1].layers[0].id);
    ASSERT_EQ(made.images[1].layers.size(), 3u);
    for (std::size_t i = 1; i < 3; ++i) {
        EXPECT_EQ(made.images[1].layers[i].id, layer_id_for(made.images[1].layers[i - 1].id,
                                                            made.images[1].layers[i].diff_digest));
    }
    JsonFile images(read_file(images_json(made.paths.store)));
    EXPECT_EQ(simdjson::dom::array(images.root.get_array()).size(), 2u);
    JsonFile layers(read_file(layers_json(made.paths.store)));
    EXPECT_EQ(simdjson::dom::array(layers.root.get_array()).size(), 4u);
}

}  // namespace
}  // namespace vmd::testing
