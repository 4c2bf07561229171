// The store builder makes what DESIGN §6 describes: every file in place and parseable, digests
// equal to the fsverity tool's, signatures that OpenSSL accepts with the written public key.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <set>

#include "fixtures/fixture_files.hpp"
#include "fixtures/sample_images.hpp"
#include "fixtures/signing.hpp"
#include "fixtures/store_builder.hpp"
#include "fixtures/store_files.hpp"
#include "fixtures/test_env.hpp"
#include "fixtures_helpers.hpp"

namespace vmd::testing {
namespace {

namespace fs = std::filesystem;
using checks::JsonFile;
using checks::str;
using checks::strings;

// The tests of this suite only read the store, so it is built once for all of them.
class SampleStoreTest : public ::testing::Test {
  protected:
    static void SetUpTestSuite() {
        dir_ = std::make_unique<TempDir>();
        auto spec = sample_store();
        spec.containers = {{"demo", 0}};
        built_ = std::make_unique<BuiltStore>(build_store(spec, dir_->path()));
    }
    static void TearDownTestSuite() {
        built_.reset();
        dir_.reset();
    }
    static const BuiltStore& built() { return *built_; }
    static const fs::path& store() { return built_->paths.store; }

  private:
    static inline std::unique_ptr<TempDir> dir_;
    static inline std::unique_ptr<BuiltStore> built_;
};

TEST_F(SampleStoreTest, ImagesJsonDescribesTheImage) {
    const auto& image = built().image();
    JsonFile images(read_file(store() / "overlay-images" / "images.json"));
    simdjson::dom::array records = images.root.get_array();
    ASSERT_EQ(records.size(), 1u);
    simdjson::dom::element record = records.at(0);

    EXPECT_EQ(str(record, "id"), image.id);
    EXPECT_EQ(image.id, sha256_digest(image.config).substr(7));  // podman: the config's digest
    EXPECT_EQ(str(record, "digest"), image.manifest_digest);
    EXPECT_EQ(strings(record, "names"), std::vector<std::string>{"quay.io/example/demo:latest"});
    EXPECT_EQ(str(record, "layer"), image.layers.back().id);

    // Every big-data item is a file named by the rule, with the recorded size and digest.
    auto names = strings(record, "big-data-names");
    std::set<std::string> name_set(names.begin(), names.end());
    for (const auto& key : std::vector<std::string>{
             "manifest", "signatures", "manifest-" + image.manifest_digest, "sha256:" + image.id}) {
        EXPECT_TRUE(name_set.count(key)) << key;
    }
    for (const auto& key : names) {
        auto file = store() / "overlay-images" / image.id / big_data_file_name(key);
        ASSERT_TRUE(fs::is_regular_file(fs::symlink_status(file))) << file;
        auto bytes = read_file(file);
        EXPECT_EQ(uint64_t(record["big-data-sizes"][key]), bytes.size()) << key;
        EXPECT_EQ(std::string_view(record["big-data-digests"][key]), sha256_digest(bytes)) << key;
    }
    EXPECT_EQ(read_file(store() / "overlay-images" / image.id / "manifest"), image.manifest);
    EXPECT_TRUE(fs::exists(store() / "overlay-images" / image.id /
                           ("=" + base64("manifest-" + image.manifest_digest))));

    // metadata is a JSON string whose signature-sizes add up to the signatures item.
    JsonFile metadata(str(record, "metadata"));
    simdjson::dom::array sizes = metadata.root["signature-sizes"].get_array();
    ASSERT_EQ(sizes.size(), 1u);
    EXPECT_EQ(uint64_t(sizes.at(0)),
              read_file(store() / "overlay-images" / image.id / "signatures").size());
    EXPECT_EQ(uint64_t(metadata.root["signatures-sizes"][image.manifest_digest].at(0)),
              uint64_t(sizes.at(0)));
}

TEST_F(SampleStoreTest, LayersAndContainerAreInPlace) {
    const auto& image = built().image();
    JsonFile layers(read_file(store() / "overlay-layers" / "layers.json"));
    std::map<std::string, simdjson::dom::element> by_id;
    for (auto layer : layers.root.get_array()) {
        by_id[str(layer, "id")] = layer;
    }
    ASSERT_EQ(image.layers.size(), 2u);
    ASSERT_EQ(by_id.size(), 3u);  // two image layers, one container layer
    const auto& bottom = image.layers[0];
    const auto& top = image.layers[1];
    EXPECT_FALSE(by_id.at(bottom.id)["parent"].is_string());
    EXPECT_EQ(str(by_id.at(top.id), "parent"), bottom.id);
    EXPECT_EQ(bottom.id, layer_id_for("", bottom.diff_digest));
    EXPECT_EQ(top.id, layer_id_for(bottom.id, top.diff_digest));
    for (const auto& layer : image.layers) {
        EXPECT_EQ(layer.id.size(), 64u);
        EXPECT_EQ(str(by_id.at(layer.id), "diff-digest"), layer.diff_digest);
        auto dir = store() / "overlay" / layer.id;
        EXPECT_TRUE(fs::is_directory(dir / "diff"));
        EXPECT_TRUE(fs::is_directory(dir / "work"));
        EXPECT_TRUE(fs::is_empty(dir / "work"));
        EXPECT_TRUE(fs::is_regular_file(dir / "composefs-data" / "composefs.blob"));
        EXPECT_EQ(fs::read_symlink(store() / "overlay" / "l" / read_file(dir / "link")),
                  fs::path("..") / layer.id / "diff");
    }

    JsonFile containers(read_file(store() / "overlay-containers" / "containers.json"));
    simdjson::dom::array records = containers.root.get_array();
    ASSERT_EQ(records.size(), 1u);
    simdjson::dom::element record = records.at(0);
    const auto& container = built().containers.at(0);
    EXPECT_EQ(str(record, "id"), container.id);
    EXPECT_EQ(strings(record, "names"), std::vector<std::string>{"demo"});
    EXPECT_EQ(str(record, "image"), image.id);
    EXPECT_EQ(str(record, "layer"), container.layer_id);
    EXPECT_EQ(str(by_id.at(container.layer_id), "parent"), top.id);
    EXPECT_TRUE(fs::is_directory(store() / "overlay" / container.layer_id / "diff"));
    EXPECT_TRUE(fs::is_directory(store() / "overlay" / container.layer_id / "work"));
}

TEST_F(SampleStoreTest, ManifestAnnotatesEachLayerWithItsBlobDigest) {
    const auto& image = built().image();
    JsonFile manifest(image.manifest);
    EXPECT_EQ(int64_t(manifest.root["schemaVersion"]), 2);
    EXPECT_EQ(str(manifest.root, "mediaType"), "application/vnd.oci.image.manifest.v1+json");
    EXPECT_EQ(str(manifest.root["config"], "digest"), "sha256:" + image.id);
    simdjson::dom::array layers = manifest.root["layers"].get_array();
    ASSERT_EQ(layers.size(), image.layers.size());
    JsonFile config(image.config);
    simdjson::dom::array diff_ids = config.root["rootfs"]["diff_ids"].get_array();
    for (std::size_t i = 0; i < image.layers.size(); ++i) {
        const auto& layer = image.layers[i];
        EXPECT_EQ(str(layers.at(i), "digest"), layer.diff_digest);
        EXPECT_EQ(std::string_view(diff_ids.at(i)), layer.diff_digest);
        EXPECT_EQ(str(layers.at(i)["annotations"], "io.containers.composefs.digest"),
                  layer.blob_digest);
    }
}

TEST_F(SampleStoreTest, DigestsMatchTheFsverityTool) {
    ASSERT_TRUE(have_program("fsverity")) << missing_program("fsverity", "fsverity");
    std::size_t objects = 0;
    for (const auto& layer : built().image().layers) {
        EXPECT_EQ(checks::fsverity_tool_digest(blob_path(store(), layer.id)), layer.blob_digest);
        for (const auto& object : layer.objects) {
            auto path = store() / "overlay" / layer.id / "diff" / object.object;
            EXPECT_EQ(checks::fsverity_tool_digest(path), object.digest) << object.path;
            EXPECT_EQ(object.object, object.digest.substr(7, 2) + "/" + object.digest.substr(9));
            ++objects;
        }
    }
    EXPECT_EQ(objects, 8u);  // every non-empty regular file of both layers
}

TEST_F(SampleStoreTest, ObjectsHoldTheFileContents) {
    const auto& top = built().image().layers[1];
    std::map<std::string, std::string> content;
    for (const auto& object : top.objects) {
        content[object.path] = read_file(store() / "overlay" / top.id / "diff" / object.object);
    }
    EXPECT_EQ(content["/etc/motd"], kTopMotd);
    EXPECT_EQ(content["/usr/share/demo/top.txt"], kTopText);
    EXPECT_EQ(content.size(), 2u);  // the symlink has no object
}

TEST_F(SampleStoreTest, SignatureVerifiesWithOpenSslAgainstTheWrittenKey) {
    const auto& image = built().image();
    auto public_pem = read_file(built().paths.public_key);
    auto joined = read_file(store() / "overlay-images" / image.id / "signatures");
    auto blobs = checks::split_signatures(joined, {joined.size()});
    auto sig = checks::parse_sigstore(blobs.at(0));
    ASSERT_TRUE(sig);
    EXPECT_EQ(sig->mime_type, "application/vnd.dev.cosign.simplesigning.v1+json");
    EXPECT_TRUE(checks::openssl_verify(public_pem, sig->payload, sig->signature));
    EXPECT_FALSE(checks::openssl_verify(public_pem, sig->payload + " ", sig->signature));

    JsonFile payload(sig->payload);
    EXPECT_EQ(str(payload.root["critical"]["identity"], "docker-reference"), image.names[0]);
    EXPECT_EQ(str(payload.root["critical"]["image"], "docker-manifest-digest"),
              sha256_digest(read_file(store() / "overlay-images" / image.id / "manifest")));
    EXPECT_EQ(str(payload.root["critical"], "type"), "cosign container image signature");
}

TEST_F(SampleStoreTest, PolicyAndConfigPointAtTheFixture) {
    JsonFile policy(read_file(built().paths.policy));
    EXPECT_EQ(str(policy.root["default"].at(0), "type"), "reject");
    simdjson::dom::element requirement =
        policy.root["transports"]["docker"]["quay.io/example/demo"].at(0);
    EXPECT_EQ(str(requirement, "type"), "sigstoreSigned");
    EXPECT_EQ(fs::path(str(requirement, "keyPath")), built().paths.public_key);
    EXPECT_EQ(str(requirement["signedIdentity"], "type"), "matchRepoDigestOrExact");

    JsonFile config(read_file(built().paths.config));
    EXPECT_EQ(fs::path(str(config.root, "storage_root")), store());
    EXPECT_EQ(fs::path(str(config.root, "policy_path")), built().paths.policy);
    EXPECT_EQ(str(config.root, "verity"), "digest");
    EXPECT_EQ(str(config.root, "signature"), "require");
    EXPECT_EQ(int64_t(config.root["allowed_uids"].at(0)), 0);
    EXPECT_EQ(int64_t(config.root["idle_exit_seconds"]), 0);
    EXPECT_EQ((fs::status(built().paths.private_key).permissions() & fs::perms::group_all),
              fs::perms::none);
}

TEST(StoreBuilder, SameSpecGivesSameIdsAndDigests) {
    TempDir a, b;
    auto first = build_store(sample_store(), a.path());
    auto second = build_store(sample_store(), b.path());
    EXPECT_EQ(first.image().id, second.image().id);
    EXPECT_EQ(first.image().manifest_digest, second.image().manifest_digest);
    for (std::size_t i = 0; i < 2; ++i) {
        EXPECT_EQ(first.image().layers[i].id, second.image().layers[i].id);
        EXPECT_EQ(first.image().layers[i].blob_digest, second.image().layers[i].blob_digest);
    }
    // The keys differ, so the signatures do.
    EXPECT_NE(first.image().signatures, second.image().signatures);
}

TEST(StoreBuilder, AnnotationsCanBeOmittedOrCustom) {
    TempDir dir;
    StoreSpec spec;
    auto image = sample_image();
    image.layers[0].annotation =
        AnnotationSpec::custom(" {digest} , sha256:" + std::string(64, 'a'));
    image.layers[1].annotation = AnnotationSpec::omitted();
    spec.images = {image};
    auto built = build_store(spec, dir.path());
    JsonFile manifest(built.image().manifest);
    simdjson::dom::array layers = manifest.root["layers"].get_array();
    EXPECT_EQ(str(layers.at(0)["annotations"], "io.containers.composefs.digest"),
              " " + built.image().layers[0].blob_digest + " , sha256:" + std::string(64, 'a'));
    EXPECT_TRUE(layers.at(1)["annotations"].error() == simdjson::NO_SUCH_FIELD);
    EXPECT_FALSE(built.image().layers[1].annotation.has_value());
}

TEST(StoreBuilder, UnsignedImageHasNoSignaturesItem) {
    TempDir dir;
    auto spec = sample_store();
    spec.images[0].signatures.clear();
    spec.images[0].names = {"quay.io/example/demo:latest", "quay.io/example/demo:v1"};
    auto built = build_store(spec, dir.path());
    JsonFile images(read_file(images_json(built.paths.store)));
    simdjson::dom::element record = images.root.at(0);
    auto names = strings(record, "big-data-names");
    EXPECT_EQ(std::count(names.begin(), names.end(), "signatures"), 0);
    EXPECT_FALSE(fs::exists(image_dir(built.paths.store, built.image().id) / "signatures"));
    EXPECT_EQ(strings(record, "names"), built.image().names);
    JsonFile metadata(str(record, "metadata"));
    EXPECT_TRUE(metadata.root["signature-sizes"].error() == simdjson::NO_SUCH_FIELD);
}

TEST(StoreBuilder, OtherKeyTypesSignVerifiably) {
    for (auto type : {KeyType::Rsa2048, KeyType::Ed25519, KeyType::EcdsaP384}) {
        TempDir dir;
        auto spec = sample_store();
        spec.key_type = type;
        spec.policy.inline_key = true;
        auto built = build_store(spec, dir.path());
        auto sig = checks::parse_sigstore(built.image().signatures.at(0));
        ASSERT_TRUE(sig);
        EXPECT_TRUE(
            checks::openssl_verify(read_file(built.paths.public_key), sig->payload, sig->signature))
            << static_cast<int>(type);
        JsonFile policy(read_file(built.paths.policy));
        auto key_data = checks::base64_decode(
            str(policy.root["transports"]["docker"]["quay.io/example/demo"].at(0), "keyData"));
        EXPECT_EQ(key_data, read_file(built.paths.public_key));
    }
}

TEST(StoreBuilder, LayeredImageChainsTenLayers) {
    TempDir dir;
    StoreSpec spec;
    spec.images = {layered_image(10)};
    auto built = build_store(spec, dir.path());
    ASSERT_EQ(built.image().layers.size(), 10u);
    std::vector<std::string> ids;
    for (const auto& layer : built.image().layers) {
        ids.push_back(layer.id);
    }
    EXPECT_EQ(layer_chain(built.paths.store, built.image().id), ids);
    EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()).size(), 10u);
}

TEST(StoreBuilder, SecondImageSharesNothingButTheStore) {
    TempDir dir;
    StoreSpec spec;
    spec.images = {sample_image(), layered_image(3, "quay.io/example/other:1")};
    spec.containers = {{"a", 0}, {"b", 1}};
    auto built = build_store(spec, dir.path());
    // Both images start with the same bottom layer: stored once, as containers/storage does.
    EXPECT_EQ(built.images[0].layers[0].id, built.images[1].layers[0].id);
    JsonFile layers(read_file(layers_json(built.paths.store)));
    EXPECT_EQ(simdjson::dom::array(layers.root.get_array()).size(), 2u + 2u + 2u);
    EXPECT_EQ(built.containers[1].image_id, built.images[1].id);
    JsonFile policy(read_file(built.paths.policy));
    EXPECT_TRUE(policy.root["transports"]["docker"]["quay.io/example/other"].is_array());
}

TEST(StoreBuilder, NamesNormaliseLikeDockerReferences) {
    EXPECT_EQ(normalize_reference("busybox"), "docker.io/library/busybox:latest");
    EXPECT_EQ(normalize_reference("ns/repo"), "docker.io/ns/repo:latest");
    EXPECT_EQ(normalize_reference("localhost:5000/x"), "localhost:5000/x:latest");
    EXPECT_EQ(normalize_reference("quay.io/a/b:1"), "quay.io/a/b:1");
    EXPECT_EQ(repository_of("quay.io/a/b:1"), "quay.io/a/b");
    EXPECT_EQ(repository_of("localhost:5000/x@sha256:00"), "localhost:5000/x");
}

}  // namespace
}  // namespace vmd::testing
