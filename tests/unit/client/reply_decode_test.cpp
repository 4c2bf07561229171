// Replies read straight into the typed results: every contract key with its D-Bus type, unknown
// keys ignored, anything else a BadReply naming the key.
#include "client/reply_decode.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "reply_maps.hpp"

namespace vmd::client {
namespace {

using test::kLayerId;
using test::report_map;
using test::status_map;
using test::VariantMap;

/// The BadReply message of decoding `map` with `decode`; "" when it decoded.
template <typename Decode>
std::string bad_reply(Decode&& decode, const VariantMap& map) {
    try {
        decode(map);
    } catch (const ClientError& error) {
        EXPECT_EQ(error.kind(), ErrorKind::BadReply);
        EXPECT_EQ(error.name(), kBadReplyName);
        return error.message();
    }
    return "";
}

TEST(ReportFromReply, ReadsEveryKeyAndIgnoresUnknownOnes) {
    auto map = report_map("busybox");
    map.emplace("some_future_key", sdbus::Variant(true));
    Report report = report_from_reply(map);
    EXPECT_EQ(report.image_id, "busybox");
    EXPECT_EQ(report.manifest_digest, "sha256:dd");
    EXPECT_EQ(report.identity, "docker.io/library/busybox:latest");
    EXPECT_EQ(report.policy_scope, "docker.io/library");
    EXPECT_EQ(report.signature, "require");
    EXPECT_EQ(report.verity, "digest");
    EXPECT_EQ(report.elapsed_us, 42U);
    ASSERT_EQ(report.layers.size(), 1U);
    EXPECT_EQ(report.layers[0].layer_id, kLayerId);
    EXPECT_EQ(report.layers[0].blob_digest, "sha256:aa");
    EXPECT_EQ(report.layers[0].allowed, (std::vector<std::string>{"sha256:aa", "sha256:cc"}));
}

TEST(ReportFromReply, MissingKeyOrOtherTypeIsABadReplyNamingTheKey) {
    auto missing = report_map("x");
    missing.erase("identity");
    EXPECT_EQ(bad_reply(report_from_reply, missing),
              "reply: expected key \"identity\" of type s, found no such key");

    auto wrong = report_map("x");
    wrong["elapsed_us"] = sdbus::Variant(std::string("soon"));
    EXPECT_EQ(bad_reply(report_from_reply, wrong),
              "reply key \"elapsed_us\": expected type t, found type s");

    // A narrower integer is another type, not a value to widen.
    auto narrow = report_map("x");
    narrow["elapsed_us"] = sdbus::Variant(std::uint32_t{42});
    EXPECT_EQ(bad_reply(report_from_reply, narrow),
              "reply key \"elapsed_us\": expected type t, found type u");

    auto layer = report_map("x");
    layer["layers"] = sdbus::Variant(
        std::vector<VariantMap>{{{"layer_id", sdbus::Variant(std::string(kLayerId))},
                                 {"blob_digest", sdbus::Variant(std::string(""))},
                                 {"allowed", sdbus::Variant(std::string("sha256:aa"))}}});
    EXPECT_EQ(bad_reply(report_from_reply, layer),
              "reply layers[0] key \"allowed\": expected type as, found type s");
}

TEST(StatusFromReply, ReadsEveryKeyAndIgnoresUnknownOnes) {
    auto map = status_map();
    map.emplace("uptime", sdbus::Variant(std::uint64_t{5}));
    Status status = status_from_reply(map);
    EXPECT_EQ(status.version, "0.1.0");
    EXPECT_FALSE(status.kernel.fs_verity);
    EXPECT_TRUE(status.kernel.overlay_verity);
    EXPECT_TRUE(status.kernel.overlay_lowerdir_plus);
    EXPECT_TRUE(status.kernel.erofs_file_backed);
    EXPECT_FALSE(status.kernel.detached_layers);
    EXPECT_EQ(status.config.storage_root, "/var/lib/containers/storage");
    EXPECT_EQ(status.config.policy_path, "/etc/containers/policy.json");
    EXPECT_EQ(status.config.signature, "require");
    EXPECT_EQ(status.config.verity, "digest");
    EXPECT_EQ(status.config.annotation_keys,
              std::vector<std::string>{"io.containers.composefs.digest"});
    EXPECT_EQ(status.config.allowed_uids, (std::vector<std::uint32_t>{0, 4242}));
    EXPECT_EQ(status.config.max_concurrent, 16U);
    EXPECT_EQ(status.config.max_json_bytes, 67108864U);
    EXPECT_EQ(status.config.max_manifest_bytes, 4194304U);
    EXPECT_EQ(status.config.max_blob_bytes, 1073741824U);
    EXPECT_EQ(status.config.max_layers, 128U);
    EXPECT_EQ(status.config.idle_exit_seconds, 30U);
    EXPECT_EQ(status.requests, 3U);
    EXPECT_EQ(status.mounts, 2U);
    EXPECT_EQ(status.refusals, 1U);
}

TEST(StatusFromReply, NestedMapsAreHeldToTheContractToo) {
    auto kernel = status_map();
    auto features = kernel["kernel"].get<VariantMap>();
    features.erase("detached_layers");
    kernel["kernel"] = sdbus::Variant(features);
    EXPECT_EQ(bad_reply(status_from_reply, kernel),
              "reply kernel: expected key \"detached_layers\" of type b, found no such key");

    auto config = status_map();
    auto settings = config["config"].get<VariantMap>();
    settings["allowed_uids"] = sdbus::Variant(std::vector<std::int32_t>{0});
    config["config"] = sdbus::Variant(settings);
    EXPECT_EQ(bad_reply(status_from_reply, config),
              "reply config key \"allowed_uids\": expected type au, found type ai");

    auto flat = status_map();
    flat["kernel"] = sdbus::Variant(true);
    EXPECT_EQ(bad_reply(status_from_reply, flat),
              "reply key \"kernel\": expected type a{sv}, found type b");
}

}  // namespace
}  // namespace vmd::client
