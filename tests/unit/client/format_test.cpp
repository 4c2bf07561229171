#include "client/ctl/format.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "client/reply.hpp"
#include "common/json.hpp"

namespace vmd::ctl {
namespace {

using client::ClientError;
using client::ErrorKind;
using client::Report;
using client::Value;

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

Value str(std::string_view text) {
    return Value{std::string(text)};
}

// The info map the daemon sends, as the client decodes it.
Value::Map report_map() {
    Value::List layers;
    layers.push_back(Value{Value::Map{{"allowed", Value{Value::List{str(kDigest1)}}},
                                      {"blob_digest", str(kDigest1)},
                                      {"layer_id", str(kLayer1)}}});
    layers.push_back(Value{Value::Map{{"allowed", Value{Value::List{str(kDigest2), str(kDigest1)}}},
                                      {"blob_digest", str("")},
                                      {"layer_id", str(kLayer2)}}});
    return {
        {"elapsed_us", Value{std::uint64_t{1234}}},
        {"identity", str("docker.io/library/busybox:latest")},
        {"image_id", str(kImage)},
        {"layers", Value{std::move(layers)}},
        {"manifest_digest", str(kDigest2)},
        {"policy_scope", str("")},
        {"signature", str("require")},
        {"verity", str("digest")},
        {"some_future_key", Value{true}},
    };
}

TEST(ReportFromMap, DecodesEveryKeyAndIgnoresUnknownOnes) {
    Report report = client::report_from_map(report_map());
    EXPECT_EQ(report.image_id, kImage);
    EXPECT_EQ(report.identity, "docker.io/library/busybox:latest");
    EXPECT_EQ(report.manifest_digest, kDigest2);
    EXPECT_EQ(report.policy_scope, "");
    EXPECT_EQ(report.signature, "require");
    EXPECT_EQ(report.verity, "digest");
    EXPECT_EQ(report.elapsed_us, 1234U);
    ASSERT_EQ(report.layers.size(), 2U);
    EXPECT_EQ(report.layers[0].layer_id, kLayer1);
    EXPECT_EQ(report.layers[0].blob_digest, kDigest1);
    EXPECT_EQ(report.layers[1].allowed,
              (std::vector<std::string>{std::string(kDigest2), std::string(kDigest1)}));
}

TEST(ReportFromMap, MissingKeyOrWrongTypeIsABadReplyNamingTheKey) {
    auto missing = report_map();
    std::erase_if(missing, [](const auto& entry) { return entry.key == "identity"; });
    try {
        client::report_from_map(missing);
        FAIL() << "accepted a report without identity";
    } catch (const ClientError& error) {
        EXPECT_EQ(error.kind(), ErrorKind::BadReply);
        EXPECT_NE(error.message().find("\"identity\""), std::string::npos) << error.message();
    }

    auto wrong = report_map();
    for (auto& [key, value] : wrong) {
        if (key == "elapsed_us") {
            value = str("soon");
        }
    }
    try {
        client::report_from_map(wrong);
        FAIL() << "accepted a string elapsed_us";
    } catch (const ClientError& error) {
        EXPECT_EQ(error.kind(), ErrorKind::BadReply);
        EXPECT_NE(error.message().find("expected an unsigned integer, found a string"),
                  std::string::npos)
            << error.message();
    }
}

TEST(ReportText, PrintsAlignedLinesWithOneLinePerLayer) {
    std::string text = report_text(client::report_from_map(report_map()), "/mnt/rootfs");
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
    std::string text = report_json(client::report_from_map(report_map()));
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

Value::Map status_map() {
    return {
        {"config", Value{Value::Map{{"allowed_uids", Value{Value::List{Value{std::uint64_t{0}}}}},
                                    {"signature", str("require")}}}},
        {"kernel", Value{Value::Map{{"fs_verity", Value{false}}, {"overlay_verity", Value{true}}}}},
        {"odd", Value{client::Opaque{"(ii)"}}},
        {"ratio", Value{std::numeric_limits<double>::quiet_NaN()}},
        {"requests", Value{std::uint64_t{7}}},
        {"version", str("0.1.0 \"beta\"")},
    };
}

TEST(StatusText, PrintsNestedMapsIndented) {
    EXPECT_EQ(status_text(status_map()),
              "config\n"
              "  allowed_uids  0\n"
              "  signature     require\n"
              "kernel\n"
              "  fs_verity       false\n"
              "  overlay_verity  true\n"
              "odd       (a value of D-Bus type (ii))\n"
              "ratio     nan\n"
              "requests  7\n"
              "version   0.1.0 \"beta\"\n");
}

TEST(ValueJson, EscapesStringsAndMapsWhatJsonCannotHoldToNull) {
    EXPECT_EQ(value_json(Value{status_map()}),
              "{\"config\": {\"allowed_uids\": [0], \"signature\": \"require\"}, "
              "\"kernel\": {\"fs_verity\": false, \"overlay_verity\": true}, \"odd\": null, "
              "\"ratio\": null, \"requests\": 7, \"version\": \"0.1.0 \\\"beta\\\"\"}\n");
    EXPECT_EQ(value_json(Value{std::int64_t{-3}}), "-3\n");
    EXPECT_EQ(value_json(Value{Value::List{}}), "[]\n");
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
