#include "client/ctl/format.hpp"

#include <gtest/gtest.h>

#include "client/reply.hpp"
#include "common/json.hpp"

namespace vmd::ctl {
namespace {

using client::ClientError;
using client::ErrorKind;
using client::Report;

constexpr std::string_view kImage =
    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
constexpr std::string_view kLayer1 =
    "aaaaaaaaaaaabbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
constexpr std::string_view kLayer2 =
    "cccccccccccc0000000000000000000000000000000000000000000000000000";
constexpr std::string_view kDigest1 =
    "sha256:1111111111111111111111111111111111111111111111111111111111111111";
constexpr std::string_view kDigest2 =
    "sha256:2222222222222222222222222222222222222222222222222222222222222222";

// A report as the client reads it from the daemon's reply.
Report sample_report() {
    Report report;
    report.image_id = kImage;
    report.manifest_digest = kDigest2;
    report.identity = "docker.io/library/busybox:latest";
    report.policy_scope = "";
    report.signature = "require";
    report.verity = "digest";
    report.layers = {
        {.layer_id = std::string(kLayer1),
         .blob_digest = std::string(kDigest1),
         .allowed = {std::string(kDigest1)}},
        {.layer_id = std::string(kLayer2),
         .blob_digest = "",
         .allowed = {std::string(kDigest2), std::string(kDigest1)}},
    };
    report.elapsed_us = 1234;
    return report;
}

TEST(ReportText, PrintsAlignedLinesWithOneLinePerLayer) {
    std::string text = report_text(sample_report(), "/mnt/rootfs");
    EXPECT_EQ(text, "image            " + std::string(kImage) +
                        "\n"
                        "identity         docker.io/library/busybox:latest\n"
                        "manifest digest  " +
                        std::string(kDigest2) +
                        "\n"
                        "policy scope     \"\" (the docker transport's default)\n"
                        "levels           signature=require verity=digest\n"
                        "layer 1          aaaaaaaaaaaa  " +
                        std::string(kDigest1) +
                        "\n"
                        "layer 2          cccccccccccc  (not measured)\n"
                        "elapsed          1.234 ms\n"
                        "mounted on       /mnt/rootfs\n");
}

TEST(ReportJson, IsAnObjectWithTheContractKeys) {
    std::string text = report_json(sample_report());
    auto doc = json::Document::parse(text, Errc::Internal, "report JSON");
    const json::Context ctx{Errc::Internal, "report JSON"};
    auto object = json::expect_object(doc.root(), ctx,
                                      {{"image_id", "manifest_digest", "identity", "policy_scope",
                                        "signature", "verity", "layers", "elapsed_us"}});
    EXPECT_EQ(json::expect_string(json::require(object, "image_id", ctx), ctx), kImage);
    EXPECT_EQ(json::expect_string(json::require(object, "policy_scope", ctx), ctx), "");
    EXPECT_EQ(json::expect_uint(json::require(object, "elapsed_us", ctx), ctx), 1234U);
    auto layers = json::expect_array(json::require(object, "layers", ctx), ctx);
    ASSERT_EQ(layers.size(), 2U);
    auto second =
        json::expect_object(layers.at(1).value(), ctx, {{"layer_id", "blob_digest", "allowed"}});
    EXPECT_EQ(json::expect_string(json::require(second, "layer_id", ctx), ctx), kLayer2);
    EXPECT_EQ(json::expect_string_array(json::require(second, "allowed", ctx), ctx).size(), 2U);
}

client::Status sample_status() {
    client::Status status;
    status.version = "0.1.0 \"beta\"";
    status.kernel = {.fs_verity = false,
                     .overlay_verity = true,
                     .overlay_lowerdir_plus = true,
                     .erofs_file_backed = true,
                     .detached_layers = false};
    status.config = {.storage_root = "/var/lib/containers/storage",
                     .policy_path = "/etc/containers/policy.json",
                     .signature = "require",
                     .verity = "digest",
                     .annotation_keys = {"io.containers.composefs.digest", "b"},
                     .allowed_uids = {},
                     .max_concurrent = 16,
                     .max_json_bytes = 67108864,
                     .max_manifest_bytes = 4194304,
                     .max_blob_bytes = 1073741824,
                     .max_layers = 128,
                     .idle_exit_seconds = 0};
    status.requests = 7;
    status.mounts = 5;
    status.refusals = 2;
    return status;
}

TEST(StatusText, PrintsSortedKeysWithTheBlocksIndented) {
    EXPECT_EQ(status_text(sample_status()),
              "config\n"
              "  allowed_uids        (none)\n"
              "  annotation_keys     io.containers.composefs.digest, b\n"
              "  idle_exit_seconds   0\n"
              "  max_blob_bytes      1073741824\n"
              "  max_concurrent      16\n"
              "  max_json_bytes      67108864\n"
              "  max_layers          128\n"
              "  max_manifest_bytes  4194304\n"
              "  policy_path         /etc/containers/policy.json\n"
              "  signature           require\n"
              "  storage_root        /var/lib/containers/storage\n"
              "  verity              digest\n"
              "kernel\n"
              "  detached_layers        false\n"
              "  erofs_file_backed      true\n"
              "  fs_verity              false\n"
              "  overlay_lowerdir_plus  true\n"
              "  overlay_verity         true\n"
              "mounts    5\n"
              "refusals  2\n"
              "requests  7\n"
              "version   0.1.0 \"beta\"\n");
}

TEST(StatusJson, IsOneObjectWithSortedKeysAndEscapedStrings) {
    auto status = sample_status();
    status.config.allowed_uids = {0, 4242};
    EXPECT_EQ(status_json(status),
              "{\"config\": {\"allowed_uids\": [0, 4242], \"annotation_keys\": "
              "[\"io.containers.composefs.digest\", \"b\"], \"idle_exit_seconds\": 0, "
              "\"max_blob_bytes\": 1073741824, \"max_concurrent\": 16, \"max_json_bytes\": "
              "67108864, \"max_layers\": 128, \"max_manifest_bytes\": 4194304, \"policy_path\": "
              "\"/etc/containers/policy.json\", \"signature\": \"require\", \"storage_root\": "
              "\"/var/lib/containers/storage\", \"verity\": \"digest\"}, \"kernel\": "
              "{\"detached_layers\": false, \"erofs_file_backed\": true, \"fs_verity\": false, "
              "\"overlay_lowerdir_plus\": true, \"overlay_verity\": true}, \"mounts\": 5, "
              "\"refusals\": 2, \"requests\": 7, \"version\": \"0.1.0 \\\"beta\\\"\"}\n");
}

TEST(DigestsOutput, SkipsFailedFilesInTextAndJson) {
    std::vector<FileDigest> digests = {
        {.path = "a b", .digest = std::string(kDigest1), .error = {}},
        {.path = "gone", .digest = {}, .error = "No such file or directory"},
        {.path = "q\"uote", .digest = std::string(kDigest2), .error = {}},
    };
    EXPECT_EQ(digests_text(digests),
              std::string(kDigest1) + "  a b\n" + std::string(kDigest2) + "  q\"uote\n");
    EXPECT_EQ(digests_json(digests), "[{\"path\": \"a b\", \"digest\": \"" + std::string(kDigest1) +
                                         "\"}, {\"path\": \"q\\\"uote\", \"digest\": \"" +
                                         std::string(kDigest2) + "\"}]\n");
}

TEST(ErrorNames, SortUnreachableFromRefused) {
    for (std::string_view name :
         {"org.freedesktop.DBus.Error.ServiceUnknown", "org.freedesktop.DBus.Error.NameHasNoOwner",
          "org.freedesktop.DBus.Error.NoReply", "org.freedesktop.DBus.Error.Disconnected",
          "org.freedesktop.DBus.Error.Spawn.ChildExited", "System.Error.ECONNREFUSED"}) {
        EXPECT_EQ(client::classify_error_name(name), ErrorKind::Unreachable) << name;
    }
    for (std::string_view name :
         {"io.containers.VerityMount1.Error.VerityMismatch",
          "org.freedesktop.DBus.Error.AccessDenied", "org.freedesktop.DBus.Error.UnknownMethod"}) {
        EXPECT_EQ(client::classify_error_name(name), ErrorKind::Refused) << name;
    }
}

TEST(ErrorNames, DaemonErrorMapsBackToTheTypedCode) {
    ClientError mismatch(ErrorKind::Refused, "io.containers.VerityMount1.Error.VerityMismatch",
                         "expected sha256:aa, found sha256:bb");
    EXPECT_EQ(mismatch.daemon_error(), Errc::VerityMismatch);
    EXPECT_STREQ(mismatch.what(),
                 "io.containers.VerityMount1.Error.VerityMismatch: expected "
                 "sha256:aa, found sha256:bb");
    ClientError unknown(ErrorKind::Refused, "io.containers.VerityMount1.Error.Nope", "?");
    EXPECT_EQ(unknown.daemon_error(), std::nullopt);
    ClientError bus(ErrorKind::Refused, "org.freedesktop.DBus.Error.AccessDenied", "policy");
    EXPECT_EQ(bus.daemon_error(), std::nullopt);
}

}  // namespace
}  // namespace vmd::ctl
