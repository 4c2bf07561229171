// vmd-fixture, the command the demo and the VM harness run: its JSON line and its exit codes.
#include <gtest/gtest.h>

#include <filesystem>

#include "fixtures/signing.hpp"
#include "fixtures/store_files.hpp"
#include "fixtures/test_env.hpp"
#include "fixtures_helpers.hpp"
#include "verity/digest.hpp"

namespace vmd::testing {
namespace {

namespace fs = std::filesystem;
using checks::JsonFile;
using checks::str;

class FixtureCliTest : public ::testing::Test {
  protected:
    void SetUp() override {
        // common_tests is build/tests/common_tests; the tool is build/tests/fixtures/vmd-fixture.
        tool_ = fs::read_symlink("/proc/self/exe").parent_path() / "fixtures" / "vmd-fixture";
        if (!fs::exists(tool_)) {
            tool_ = binary_dir() / "tests" / "fixtures" / "vmd-fixture";
        }
        ASSERT_TRUE(fs::exists(tool_))
            << "vmd-fixture is not built beside this test binary nor at " << tool_;
    }
    RunResult fixture(std::vector<std::string> args) {
        args.insert(args.begin(), tool_.string());
        return run(args);
    }

    fs::path tool_;
    TempDir dir_;
};

std::string digest_of(const fs::path& path) {
    auto bytes = read_file(path);
    return verity::to_string(verity::digest_bytes(std::as_bytes(std::span(bytes))));
}

TEST_F(FixtureCliTest, CreatePrintsOneJsonLineThatMatchesTheStore) {
    auto out = fixture({"create", "--dir", dir_.path().string(), "--container", "demo"});
    ASSERT_EQ(out.exit_code, 0) << out.err;
    ASSERT_EQ(std::count(out.out.begin(), out.out.end(), '\n'), 1) << out.out;
    JsonFile line(out.out);
    auto image_id = str(line.root, "image_id");
    EXPECT_EQ(str(line.root, "name"), "quay.io/example/demo:latest");
    EXPECT_EQ(fs::path(str(line.root, "store")), dir_.path() / "store");
    EXPECT_EQ(fs::path(str(line.root, "policy")), dir_.path() / "policy.json");
    EXPECT_EQ(fs::path(str(line.root, "config")), dir_.path() / "verity-mountd.json");
    EXPECT_TRUE(fs::exists(dir_.path() / "keys" / "signer.pub"));

    auto store = dir_.path() / "store";
    EXPECT_EQ(str(line.root, "manifest_digest"),
              sha256_digest(read_file(image_dir(store, image_id) / "manifest")));
    std::vector<std::string> ids;
    for (auto layer : line.root["layers"].get_array()) {
        ids.push_back(str(layer, "id"));
        EXPECT_EQ(digest_of(blob_path(store, ids.back())), str(layer, "blob_digest"));
    }
    EXPECT_EQ(layer_chain(store, image_id), ids);
    JsonFile containers(read_file(containers_json(store)));
    EXPECT_EQ(str(containers.root.at(0), "id"), str(line.root, "container_id"));

    // The demo's tampering: one byte of the top layer's blob.
    auto tamper = fixture({"tamper", "--dir", dir_.path().string(), "--what", "flip-blob-byte"});
    ASSERT_EQ(tamper.exit_code, 0) << tamper.err;
    JsonFile report(tamper.out);
    EXPECT_EQ(str(report.root, "layer_id"), ids.back());
    EXPECT_NE(digest_of(blob_path(store, ids.back())),
              str(line.root["layers"].at(1), "blob_digest"));
}

TEST_F(FixtureCliTest, EveryTamperingChangesTheStore) {
    auto out = fixture({"create", "--dir", dir_.path().string()});
    ASSERT_EQ(out.exit_code, 0) << out.err;
    JsonFile line(out.out);
    auto store = dir_.path() / "store";
    auto image_id = str(line.root, "image_id");
    auto chain = layer_chain(store, image_id);
    auto tamper = [&](const std::string& what, const std::string& layer) {
        auto result =
            fixture({"tamper", "--dir", dir_.path().string(), "--what", what, "--layer", layer});
        EXPECT_EQ(result.exit_code, 0) << what << ": " << result.err;
        return result.out;
    };

    JsonFile object(tamper("flip-object-byte", "0"));
    auto object_path = str(object.root, "object");
    EXPECT_NE(digest_of(layer_dir(store, chain[0]) / "diff" / object_path),
              "sha256:" + object_path.substr(0, 2) + object_path.substr(3));

    tamper("modify-manifest", "1");
    EXPECT_NE(sha256_digest(read_file(image_dir(store, image_id) / "manifest")),
              str(line.root, "manifest_digest"));

    tamper("drop-signatures", "1");
    EXPECT_FALSE(fs::exists(image_dir(store, image_id) / "signatures"));

    tamper("incomplete-layer", "0");
    EXPECT_NE(read_file(layers_json(store)).find(R"("incomplete":true)"), std::string::npos);

    tamper("blob-symlink", "1");
    EXPECT_TRUE(fs::is_symlink(blob_path(store, chain[1])));

    tamper("swap-layers", "1");
    EXPECT_EQ(layer_chain(store, image_id), (std::vector<std::string>{chain[1], chain[0]}));
}

TEST_F(FixtureCliTest, LayersOptionMakesThatManyLayers) {
    auto out = fixture({"create", "--dir", dir_.path().string(), "--layers", "4", "--name",
                        "busybox", "--verity", "enforce"});
    ASSERT_EQ(out.exit_code, 0) << out.err;
    JsonFile line(out.out);
    EXPECT_EQ(simdjson::dom::array(line.root["layers"].get_array()).size(), 4u);
    EXPECT_EQ(str(line.root, "name"), "docker.io/library/busybox:latest");
    EXPECT_EQ(str(line.root, "container_id"), "");
    JsonFile config(read_file(dir_.path() / "verity-mountd.json"));
    EXPECT_EQ(str(config.root, "verity"), "enforce");
}

TEST_F(FixtureCliTest, WithBusyboxPutsTheHostsBusyboxAndAppletLinksInTheBottomLayer) {
    auto out = fixture({"create", "--dir", dir_.path().string(), "--with-busybox"});
    ASSERT_EQ(out.exit_code, 0) << out.err;
    JsonFile line(out.out);
    auto store = dir_.path() / "store";
    auto bottom = layer_dir(store, str(line.root["layers"].at(0), "id")) / "diff";
    // diff/ is content-addressed: the host's busybox is there under its own fs-verity digest.
    auto hex = digest_of("/bin/busybox").substr(7);
    EXPECT_EQ(read_file(bottom / hex.substr(0, 2) / hex.substr(2)), read_file("/bin/busybox"));

    // The image differs from the plain sample (another bottom layer, so another image ID).
    TempDir plain_dir;
    auto plain = fixture({"create", "--dir", plain_dir.path().string()});
    ASSERT_EQ(plain.exit_code, 0) << plain.err;
    JsonFile plain_line(plain.out);
    EXPECT_NE(str(plain_line.root, "image_id"), str(line.root, "image_id"));
}

TEST_F(FixtureCliTest, PathsAsRewritesTrustedPaths) {
    auto out = fixture({"create", "--dir", dir_.path().string(), "--paths-as", "/srv/fixture"});
    ASSERT_EQ(out.exit_code, 0) << out.err;
    JsonFile config(read_file(dir_.path() / "verity-mountd.json"));
    EXPECT_EQ(str(config.root, "storage_root"), "/srv/fixture/store");
    EXPECT_EQ(str(config.root, "policy_path"), "/srv/fixture/policy.json");
    JsonFile policy(read_file(dir_.path() / "policy.json"));
    EXPECT_EQ(str(policy.root["transports"]["docker"]["quay.io/example/demo"].at(0), "keyPath"),
              "/srv/fixture/keys/signer.pub");
}

TEST_F(FixtureCliTest, UsageErrorsExitTwo) {
    EXPECT_EQ(fixture({"create"}).exit_code, 2);
    EXPECT_EQ(fixture({"create", "--dir", dir_.path().string(), "--layers", "x"}).exit_code, 2);
    EXPECT_EQ(fixture({"frobnicate"}).exit_code, 2);
    ASSERT_EQ(fixture({"create", "--dir", dir_.path().string()}).exit_code, 0);
    EXPECT_EQ(fixture({"tamper", "--dir", dir_.path().string(), "--what", "nothing"}).exit_code, 2);
    // A second create into the same directory refuses instead of mixing two stores.
    EXPECT_EQ(fixture({"create", "--dir", dir_.path().string()}).exit_code, 1);
}

}  // namespace
}  // namespace vmd::testing
