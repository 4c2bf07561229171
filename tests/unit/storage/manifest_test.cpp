// Manifest parsing: OCI detection, layer digests and the composefs verity annotation.
#include "storage/manifest.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "fixtures/test_env.hpp"
#include "store_tree.hpp"

namespace vmd::storage::test {
namespace {

const std::vector<std::string> kKeys = {"io.containers.composefs.digest"};
const std::string kSha256 = "sha256:" + std::string(64, 'a');
const std::string kSha256b = "sha256:" + std::string(32, '0') + std::string(32, 'f');
const std::string kSha512 = "sha512:" + std::string(128, '9');

std::string oci(const std::string& layers, std::string_view head = "") {
    return R"({"schemaVersion":2,)" + std::string(head) +
           R"("config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:00","size":1},)"
           R"("layers":[)" +
           layers + "]}";
}

std::string layer(std::string_view digest, std::string_view annotations = "") {
    std::string out = R"({"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":")" +
                      std::string(digest) + R"(","size":10)";
    if (!annotations.empty()) {
        out += R"(,"annotations":)" + std::string(annotations);
    }
    return out + "}";
}

std::string annotated(std::string_view value) {
    return R"({"io.containers.composefs.digest":")" + std::string(value) + R"("})";
}

TEST(ParseManifest, OciLayersWithTrimmedAnnotations) {
    auto manifest =
        parse_manifest(oci(layer("sha256:l0", annotated(" " + kSha256 + " ,  " + kSha512 + "\\t")) +
                               "," + layer("sha256:l1", annotated(kSha256b)),
                           R"("mediaType":"application/vnd.oci.image.manifest.v1+json",)"),
                       kKeys);
    EXPECT_TRUE(manifest.is_oci);
    EXPECT_EQ(manifest.media_type, "application/vnd.oci.image.manifest.v1+json");
    ASSERT_EQ(manifest.layers.size(), 2u);
    EXPECT_EQ(manifest.layers[0].digest, "sha256:l0");
    EXPECT_THAT(manifest.layers[0].allowed, ::testing::ElementsAre(kSha256, kSha512));
    EXPECT_EQ(manifest.layers[1].digest, "sha256:l1");
    EXPECT_THAT(manifest.layers[1].allowed, ::testing::ElementsAre(kSha256b));
}

TEST(ParseManifest, MissingOrBlankAnnotationMeansNoAllowedDigests) {
    auto manifest = parse_manifest(
        oci(layer("sha256:l0") + "," + layer("sha256:l1", R"({"other":"x"})") + "," +
            layer("sha256:l2", annotated("")) + "," + layer("sha256:l3", annotated("  "))),
        kKeys);
    EXPECT_TRUE(manifest.is_oci);
    EXPECT_EQ(manifest.media_type, "");
    ASSERT_EQ(manifest.layers.size(), 4u);
    for (const auto& entry : manifest.layers) {
        EXPECT_TRUE(entry.allowed.empty()) << entry.digest;
    }
}

TEST(ParseManifest, FirstPresentAnnotationKeyWins) {
    const std::vector<std::string> keys = {"first.key", "second.key"};
    auto both = R"({"second.key":")" + kSha256b + R"(","first.key":")" + kSha256 + R"("})";
    auto second_only = R"({"second.key":")" + kSha256b + R"("})";
    auto first_empty = R"({"first.key":"","second.key":")" + kSha256b + R"("})";
    auto manifest =
        parse_manifest(oci(layer("sha256:a", both) + "," + layer("sha256:b", second_only) + "," +
                           layer("sha256:c", first_empty)),
                       keys);
    ASSERT_EQ(manifest.layers.size(), 3u);
    EXPECT_THAT(manifest.layers[0].allowed, ::testing::ElementsAre(kSha256));
    EXPECT_THAT(manifest.layers[1].allowed, ::testing::ElementsAre(kSha256b));
    EXPECT_TRUE(manifest.layers[2].allowed.empty());
}

TEST(ParseManifest, MalformedDigestEntriesAreVerityMissing) {
    const std::string upper = "sha256:" + std::string(64, 'A');
    const std::string bad_hex = "sha256:" + std::string(63, 'a') + "g";
    const std::string short_hex = "sha256:" + std::string(63, 'a');
    const std::string long_hex = "sha256:" + std::string(65, 'a');
    const std::string short512 = "sha512:" + std::string(64, 'a');
    const std::string md5 = "md5:" + std::string(32, 'a');
    const std::string no_algo = std::string(64, 'a');
    for (const auto& [value, shown] : std::vector<std::pair<std::string, std::string>>{
             {upper, upper},
             {bad_hex, bad_hex},
             {short_hex, short_hex},
             {long_hex, long_hex},
             {short512, short512},
             {md5, md5},
             {no_algo, no_algo},
             {kSha256 + ",", ""},
             {kSha256 + ", ," + kSha256b, ""},
             {kSha256 + ";" + kSha256b, kSha256 + ";" + kSha256b},
         }) {
        SCOPED_TRACE(value);
        auto bytes = oci(layer("sha256:l0", annotated(kSha256)) + "," +
                         layer("sha256:l1", annotated(value)));
        expect_error([&] { parse_manifest(bytes, kKeys); }, Errc::VerityMissing,
                     "manifest layers[1] annotation io.containers.composefs.digest: expected "
                     "sha256:<64 lowercase hex> or sha512:<128 lowercase hex>, found \"" +
                         shown + "\"");
    }
}

TEST(ParseManifest, DockerSchema2IsNotOci) {
    auto path =
        vmd::testing::containers_image_fixtures_dir() / "dir-img-cosign-valid/manifest.json";
    auto manifest = parse_manifest(vmd::testing::read_file(path), kKeys);
    EXPECT_FALSE(manifest.is_oci);
    EXPECT_EQ(manifest.media_type, "application/vnd.docker.distribution.manifest.v2+json");
    ASSERT_EQ(manifest.layers.size(), 1u);
    EXPECT_EQ(manifest.layers[0].digest,
              "sha256:9d16cba9fb961d1aafec9542f2bf7cb64acfc55245f9e4eb5abecd4cdc38d749");
}

TEST(ParseManifest, OciNeedsSchemaVersion2AndTheOciMediaType) {
    EXPECT_TRUE(parse_manifest(oci(layer("sha256:a")), kKeys).is_oci);
    EXPECT_FALSE(parse_manifest(R"({"schemaVersion":1,"layers":[]})", kKeys).is_oci);
    EXPECT_FALSE(parse_manifest(R"({"layers":[]})", kKeys).is_oci);
    EXPECT_FALSE(
        parse_manifest(
            R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]})",
            kKeys)
            .is_oci);
    auto docker = parse_manifest(
        oci(layer("sha256:a", annotated(kSha256)),
            R"("mediaType":"application/vnd.docker.distribution.manifest.v2+json",)"),
        kKeys);
    EXPECT_FALSE(docker.is_oci);
    EXPECT_THAT(docker.layers.at(0).allowed, ::testing::ElementsAre(kSha256));
}

TEST(ParseManifest, MalformedShapesAreStorageCorrupt) {
    for (const auto& [bytes, needle] : std::vector<std::pair<std::string, std::string>>{
             {"", "manifest: expected valid JSON"},
             {"not json", "manifest: expected valid JSON"},
             {R"({"schemaVersion":2,"layers":[})", "manifest: expected valid JSON"},
             {"[]", "manifest: expected an object, found an array"},
             {R"({"schemaVersion":"2","layers":[]})", "manifest schemaVersion: expected"},
             {R"({"schemaVersion":2,"mediaType":7,"layers":[]})",
              "manifest mediaType: expected a string"},
             {R"({"schemaVersion":2})", "manifest: expected a \"layers\" array, found none"},
             {R"({"schemaVersion":2,"layers":{}})", "manifest layers: expected an array"},
             {R"({"schemaVersion":2,"layers":["sha256:a"]})",
              "manifest layers[0]: expected an object, found a string"},
             {oci(R"({"size":1})"), "manifest layers[0]: missing key \"digest\""},
             {oci(R"({"digest":5})"), "manifest layers[0].digest: expected a string"},
             {oci(layer("sha256:a", "[]")), "manifest layers[0].annotations: expected an object"},
             {oci(layer("sha256:a", R"({"io.containers.composefs.digest":1})")),
              "manifest layers[0].annotations{}: expected a string, found a number"},
             {oci(layer("sha256:a", R"({"a":"1","a":"2"})")), "duplicate key \"a\""},
             {R"({"schemaVersion":2,"schemaVersion":2,"layers":[]})",
              "duplicate key \"schemaVersion\""},
         }) {
        SCOPED_TRACE(bytes);
        expect_error([&, &text = bytes] { parse_manifest(text, kKeys); }, Errc::StorageCorrupt,
                     needle);
    }
}

TEST(ManifestDigest, IsSha256OfTheExactBytes) {
    EXPECT_EQ(manifest_digest(""),
              "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    EXPECT_EQ(manifest_digest("abc"),
              "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    auto path =
        vmd::testing::containers_image_fixtures_dir() / "dir-img-cosign-valid/manifest.json";
    auto sum = vmd::testing::run({"sha256sum", path.string()});
    ASSERT_EQ(sum.exit_code, 0) << sum.err;
    EXPECT_EQ(manifest_digest(vmd::testing::read_file(path)), "sha256:" + sum.out.substr(0, 64));
}

}  // namespace
}  // namespace vmd::storage::test
