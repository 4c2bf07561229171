// Tampering helpers change exactly the one thing they name and keep the rest of the store
// consistent, so a daemon test's refusal can only come from that change.
#include <gtest/gtest.h>

#include <filesystem>

#include "fixtures/sample_images.hpp"
#include "fixtures/store_builder.hpp"
#include "fixtures/store_files.hpp"
#include "fixtures/store_tamper.hpp"
#include "fixtures/test_env.hpp"
#include "fixtures_helpers.hpp"
#include "verity/digest.hpp"

namespace vmd::testing {
namespace {

namespace fs = std::filesystem;
using checks::JsonFile;
using checks::str;

std::string blob_digest_now(const fs::path& path) {
    auto bytes = read_file(path);
    return verity::to_string(verity::digest_bytes(std::as_bytes(std::span(bytes))));
}

class TamperTest : public ::testing::Test {
  protected:
    void SetUp() override {
        built_ = std::make_unique<BuiltStore>(build_store(spec(), dir_.path()));
    }
    virtual StoreSpec spec() const { return sample_store(); }

    BuiltStore& built() { return *built_; }
    const fs::path& store() const { return built_->paths.store; }
    const BuiltImage& image() const { return built_->image(); }
    fs::path item(std::string_view key) const {
        return image_dir(store(), image().id) / big_data_file_name(key);
    }
    // The image's record, re-read from disk.
    std::unique_ptr<JsonFile> record() const {
        return std::make_unique<JsonFile>(read_file(images_json(store())));
    }
    // The payload of the n-th stored signature, if it verifies with `public_pem`.
    std::optional<std::string> verified_payload(std::size_t n, const std::string& public_pem) {
        auto sig = checks::parse_sigstore(image().signatures.at(n));
        if (!sig || !checks::openssl_verify(public_pem, sig->payload, sig->signature)) {
            return std::nullopt;
        }
        return sig->payload;
    }

    TempDir dir_;
    std::unique_ptr<BuiltStore> built_;
};

TEST_F(TamperTest, RewriteManifestKeepsSizesButNotTheSignedDigest) {
    auto modified = image().manifest;
    modified.insert(modified.size() - 1, R"(,"annotations":{"x":"y"})");
    auto signatures_before = read_file(item("signatures"));
    rewrite_manifest(store(), image().id, modified);

    EXPECT_EQ(read_file(item("manifest")), modified);
    auto images = record();
    simdjson::dom::element entry = images->root.at(0);
    EXPECT_EQ(uint64_t(entry["big-data-sizes"]["manifest"]), modified.size());
    EXPECT_EQ(std::string_view(entry["big-data-digests"]["manifest"]), sha256_digest(modified));
    EXPECT_EQ(read_file(item("signatures")), signatures_before);
    EXPECT_EQ(str(entry, "digest"), image().manifest_digest);  // what was pulled and signed
}

TEST_F(TamperTest, SetSignaturesRecordsEachSize) {
    std::vector<std::string> blobs{std::string("\x89gpg-like", 9), image().signatures[0]};
    set_signatures(store(), image().id, blobs);
    EXPECT_EQ(read_file(item("signatures")), blobs[0] + blobs[1]);
    EXPECT_EQ(read_file(item("signature-" + image().manifest_digest.substr(7))),
              blobs[0] + blobs[1]);
    auto images = record();
    JsonFile metadata(str(images->root.at(0), "metadata"));
    EXPECT_EQ(uint64_t(metadata.root["signature-sizes"].at(0)), 9u);
    EXPECT_EQ(uint64_t(metadata.root["signature-sizes"].at(1)), blobs[1].size());

    set_signatures(store(), image().id, {});
    EXPECT_FALSE(fs::exists(item("signatures")));
}

TEST_F(TamperTest, SwapLayerOrderRewritesTheChain) {
    auto before = layer_chain(store(), image().id);
    swap_layer_order(store(), image().id, 0, 1);
    auto after = layer_chain(store(), image().id);
    ASSERT_EQ(after.size(), 2u);
    EXPECT_EQ(after[0], before[1]);
    EXPECT_EQ(after[1], before[0]);
}

TEST_F(TamperTest, ParentLinksCanLoop) {
    set_layer_parent(store(), image().layers[0].id, image().layers[1].id);
    EXPECT_THROW(layer_chain(store(), image().id), std::runtime_error);
}

TEST_F(TamperTest, ExtraLayerMakesTheChainLongerThanTheManifest) {
    auto extra = add_extra_layer(built(), 0, {{Entry::file("/extra", "more\n")}});
    auto chain = layer_chain(store(), image().id);
    ASSERT_EQ(chain.size(), 3u);
    EXPECT_EQ(chain.back(), extra.id);
    EXPECT_EQ(blob_digest_now(blob_path(store(), extra.id)), extra.blob_digest);
    JsonFile manifest(read_file(item("manifest")));
    EXPECT_EQ(simdjson::dom::array(manifest.root["layers"].get_array()).size(), 2u);
}

TEST_F(TamperTest, RemovedAnnotationIsSignedSoOnlyItIsWrong) {
    auto public_pem = read_file(built().paths.public_key);
    set_annotation(built(), 0, 1, AnnotationSpec::omitted());
    JsonFile manifest(read_file(item("manifest")));
    simdjson::dom::array layers = manifest.root["layers"].get_array();
    EXPECT_TRUE(layers.at(0)["annotations"].is_object());
    EXPECT_TRUE(layers.at(1)["annotations"].error() == simdjson::NO_SUCH_FIELD);

    auto payload = verified_payload(0, public_pem);
    ASSERT_TRUE(payload);
    JsonFile parsed(*payload);
    EXPECT_EQ(str(parsed.root["critical"]["image"], "docker-manifest-digest"),
              sha256_digest(read_file(item("manifest"))));
    EXPECT_EQ(str(record()->root.at(0), "digest"), image().manifest_digest);
    EXPECT_EQ(read_file(item("signatures")), image().signatures[0]);
}

TEST_F(TamperTest, ResignWithAnotherKeyOrIdentity) {
    auto public_pem = read_file(built().paths.public_key);
    auto other = SigningKey::generate(KeyType::EcdsaP256);
    std::vector<SignatureSpec> specs{SignatureSpec::with_key(other),
                                     SignatureSpec::for_identity("quay.io/example/other:latest")};
    resign(built(), 0, specs);

    EXPECT_FALSE(verified_payload(0, public_pem));
    EXPECT_TRUE(verified_payload(0, other.public_pem()));
    auto payload = verified_payload(1, public_pem);
    ASSERT_TRUE(payload);
    JsonFile parsed(*payload);
    EXPECT_EQ(str(parsed.root["critical"]["identity"], "docker-reference"),
              "quay.io/example/other:latest");
    EXPECT_EQ(read_file(item("signatures")), image().signatures[0] + image().signatures[1]);
}

TEST_F(TamperTest, FlipBlobByteChangesExactlyOneByte) {
    auto path = blob_path(store(), image().layers[1].id);
    auto before = read_file(path);
    auto offset = flip_blob_byte(store(), image().layers[1].id);
    auto after = read_file(path);
    ASSERT_EQ(after.size(), before.size());
    std::size_t differing = 0;
    for (std::size_t i = 0; i < before.size(); ++i) {
        differing += before[i] != after[i] ? 1 : 0;
    }
    EXPECT_EQ(differing, 1u);
    EXPECT_NE(before[offset], after[offset]);
    EXPECT_NE(blob_digest_now(path), image().layers[1].blob_digest);
    EXPECT_THROW(flip_blob_byte(store(), image().layers[1].id, before.size()), std::out_of_range);
}

TEST_F(TamperTest, BlobSymlinkPointsAtTheGenuineBlob) {
    auto path = blob_path(store(), image().layers[0].id);
    replace_blob_with_symlink(store(), image().layers[0].id);
    EXPECT_TRUE(fs::is_symlink(path));
    EXPECT_EQ(blob_digest_now(path), image().layers[0].blob_digest);
}

TEST_F(TamperTest, FlipObjectByteChangesItsDigest) {
    const auto& object = image().layers[0].objects.at(0);
    flip_object_byte(store(), image().layers[0].id, object.object);
    auto path = layer_dir(store(), image().layers[0].id) / "diff" / object.object;
    EXPECT_NE(blob_digest_now(path), object.digest);
}

TEST_F(TamperTest, IncompleteLayerIsFlagged) {
    mark_layer_incomplete(store(), image().layers[0].id);
    JsonFile layers(read_file(layers_json(store())));
    bool flagged = false;
    for (auto layer : layers.root.get_array()) {
        if (str(layer, "id") == image().layers[0].id) {
            flagged = bool(layer["flags"]["incomplete"]);
        }
    }
    EXPECT_TRUE(flagged);
}

}  // namespace
}  // namespace vmd::testing
