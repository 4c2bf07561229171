// Decoding of request options and encoding of reports and status, on real sd-bus messages built
// in memory (no bus daemon needed).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <functional>

#include "bus/options.hpp"
#include "bus/reply.hpp"
#include "bus_fixture.hpp"
#include "common/error.hpp"

namespace vmd::bus {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::bus_fixture::Dict;
using testing::bus_fixture::keys_and_types;
using testing::bus_fixture::read_dict;

/// Builds messages on an sd-bus object that is connected to nothing that answers: enough to
/// append, seal and read back.
class Messages {
  public:
    Messages() {
        int pair[2];
        if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) {
            throw std::runtime_error("socketpair");
        }
        peer_.reset(pair[1]);
        sd_bus* raw = nullptr;
        check(sd_bus_new(&raw), "sd_bus_new");
        bus_.reset(raw);
        check(sd_bus_set_fd(raw, pair[0], pair[0]), "sd_bus_set_fd");
        check(sd_bus_start(raw), "sd_bus_start");
    }

    /// A sealed message whose body `append` wrote, rewound for reading.
    MessagePtr sealed(const std::function<void(sd_bus_message*)>& append) {
        sd_bus_message* raw = nullptr;
        check(sd_bus_message_new_method_call(bus_.get(), &raw, "io.containers.VerityMount1",
                                             "/io/containers/VerityMount1",
                                             "io.containers.VerityMount1", "Verify"),
              "new call");
        MessagePtr message(raw);
        append(raw);
        check(sd_bus_message_seal(raw, next_cookie_++, 0), "seal");
        check(sd_bus_message_rewind(raw, 1), "rewind");
        return message;
    }

  private:
    UniqueFd peer_;
    BusPtr bus_;
    std::uint64_t next_cookie_ = 1;
};

/// Decodes options appended by `append`; an Error propagates.
service::RequestOptions decode(const std::function<void(sd_bus_message*)>& append) {
    Messages messages;
    auto message = messages.sealed(append);
    return read_options(message.get());
}

/// The InvalidArgument message of decoding `append`'s options (fails the test otherwise).
std::string refusal(const std::function<void(sd_bus_message*)>& append) {
    try {
        decode(append);
    } catch (const Error& error) {
        EXPECT_EQ(error.code(), Errc::InvalidArgument) << error.message();
        return error.message();
    }
    ADD_FAILURE() << "options accepted";
    return {};
}

TEST(Options, EveryKnownOptionIsDecoded) {
    auto options = decode([](sd_bus_message* m) {
        check(
            sd_bus_message_append(m, "a{sv}", 5, "signature", "s", "check", "verity", "s", "digest",
                                  "readonly", "b", 1, "nodev", "b", 1, "nosuid", "b", 0),
            "append");
    });
    EXPECT_EQ(options.signature, SignatureLevel::Check);
    EXPECT_EQ(options.verity, VerityLevel::Digest);
    EXPECT_TRUE(options.readonly);
    EXPECT_TRUE(options.nodev);
    EXPECT_FALSE(options.nosuid);
}

TEST(Options, AbsentOptionsLeaveTheConfiguredLevels) {
    auto options =
        decode([](sd_bus_message* m) { check(sd_bus_message_append(m, "a{sv}", 0), "append"); });
    EXPECT_FALSE(options.signature.has_value());
    EXPECT_FALSE(options.verity.has_value());
    EXPECT_FALSE(options.readonly);
}

TEST(Options, UnknownKeyIsRefusedByName) {
    auto message = refusal([](sd_bus_message* m) {
        check(sd_bus_message_append(m, "a{sv}", 1, "insecure", "b", 1), "append");
    });
    EXPECT_THAT(message, HasSubstr("\"insecure\""));
    EXPECT_THAT(message, HasSubstr("expected one of signature, verity, readonly, nodev, nosuid"));
}

TEST(Options, WrongTypeNamesExpectedAndFoundTypes) {
    auto message = refusal([](sd_bus_message* m) {
        check(sd_bus_message_append(m, "a{sv}", 1, "readonly", "s", "yes"), "append");
    });
    EXPECT_THAT(message, HasSubstr("\"readonly\""));
    EXPECT_THAT(message, HasSubstr("expected type b, found type s"));

    message = refusal([](sd_bus_message* m) {
        check(sd_bus_message_append(m, "a{sv}", 1, "verity", "as", 1, "enforce"), "append");
    });
    EXPECT_THAT(message, HasSubstr("expected type s, found type as"));
}

TEST(Options, BadLevelValueIsRefused) {
    auto message = refusal([](sd_bus_message* m) {
        check(sd_bus_message_append(m, "a{sv}", 1, "verity", "s", "paranoid"), "append");
    });
    EXPECT_THAT(message, HasSubstr("\"paranoid\""));
    message = refusal([](sd_bus_message* m) {
        check(sd_bus_message_append(m, "a{sv}", 1, "signature", "s", "Require"), "append");
    });
    EXPECT_THAT(message, HasSubstr("\"Require\""));
}

TEST(Options, RepeatedKeyIsRefused) {
    auto message = refusal([](sd_bus_message* m) {
        check(sd_bus_message_append(m, "a{sv}", 2, "verity", "s", "enforce", "verity", "s", "off"),
              "append");
    });
    EXPECT_THAT(message, HasSubstr("\"verity\""));
    EXPECT_THAT(message, HasSubstr("at most once"));
}

service::Report sample_report() {
    service::Report report;
    report.image_id = std::string(64, 'a');
    report.manifest_digest = "sha256:" + std::string(64, 'b');
    report.identity = "docker.io/library/busybox:latest";
    report.policy_scope = "";
    report.signature = SignatureLevel::Check;
    report.verity = VerityLevel::Digest;
    report.layers.push_back({std::string(64, '1'),
                             "sha256:" + std::string(64, '2'),
                             {"sha256:" + std::string(64, '2'), "sha256:" + std::string(64, '3')}});
    report.layers.push_back({std::string(64, '4'), "sha256:" + std::string(64, '5'), {}});
    report.elapsed_us = 1234;
    return report;
}

TEST(Reply, ReportHasExactlyTheDesignKeysAndTypes) {
    Messages messages;
    const auto report = sample_report();
    auto message = messages.sealed([&](sd_bus_message* m) { append_report(m, report); });
    Dict dict = read_dict(message.get());
    EXPECT_THAT(keys_and_types(dict),
                ElementsAre("elapsed_us:t", "identity:s", "image_id:s", "layers:aa{sv}",
                            "manifest_digest:s", "policy_scope:s", "signature:s", "verity:s"));
    EXPECT_EQ(dict["image_id"].text, report.image_id);
    EXPECT_EQ(dict["manifest_digest"].text, report.manifest_digest);
    EXPECT_EQ(dict["identity"].text, report.identity);
    EXPECT_EQ(dict["policy_scope"].text, "");
    EXPECT_EQ(dict["signature"].text, "check");
    EXPECT_EQ(dict["verity"].text, "digest");
    EXPECT_EQ(dict["elapsed_us"].text, "1234");
    const auto& layers = dict["layers"].dicts;
    ASSERT_EQ(layers.size(), 2u);  // bottom first, as given
    EXPECT_THAT(keys_and_types(layers[0]),
                ElementsAre("allowed:as", "blob_digest:s", "layer_id:s"));
    EXPECT_EQ(layers[0].at("layer_id").text, report.layers[0].layer_id);
    EXPECT_EQ(layers[0].at("blob_digest").text, report.layers[0].blob_digest);
    EXPECT_EQ(layers[0].at("allowed").items, report.layers[0].allowed);
    EXPECT_EQ(layers[1].at("layer_id").text, report.layers[1].layer_id);
    EXPECT_TRUE(layers[1].at("allowed").items.empty());
}

TEST(Reply, StatusHasVersionKernelConfigAndCounters) {
    testing::bus_fixture::TestStore store;
    auto config = store.config();
    config.allowed_uids = {0, 4242};
    config.max_concurrent = 3;
    config.signature = SignatureLevel::Check;
    service::Service service(config, testing::bus_fixture::test_kernel());
    Messages messages;
    auto message = messages.sealed([&](sd_bus_message* m) { append_status(m, service); });
    Dict dict = read_dict(message.get());
    EXPECT_THAT(keys_and_types(dict), ElementsAre("config:a{sv}", "kernel:a{sv}", "mounts:t",
                                                  "refusals:t", "requests:t", "version:s"));
    EXPECT_EQ(dict["version"].text, daemon_version());
    EXPECT_EQ(dict["requests"].text, "0");
    const auto& kernel = dict["kernel"].dict;
    EXPECT_THAT(keys_and_types(kernel),
                ElementsAre("detached_layers:b", "erofs_file_backed:b", "fs_verity:b",
                            "overlay_lowerdir_plus:b", "overlay_verity:b"));
    EXPECT_EQ(kernel.at("fs_verity").text, "false");
    EXPECT_EQ(kernel.at("overlay_verity").text, "true");
    EXPECT_EQ(kernel.at("erofs_file_backed").text, "false");
    EXPECT_EQ(kernel.at("detached_layers").text, "true");
    const auto& effective = dict["config"].dict;
    EXPECT_THAT(keys_and_types(effective),
                ElementsAre("allowed_uids:au", "annotation_keys:as", "idle_exit_seconds:u",
                            "max_blob_bytes:t", "max_concurrent:u", "max_json_bytes:t",
                            "max_layers:u", "max_manifest_bytes:t", "policy_path:s", "signature:s",
                            "storage_root:s", "verity:s"));
    EXPECT_EQ(effective.at("storage_root").text, config.storage_root.string());
    EXPECT_EQ(effective.at("policy_path").text, config.policy_path.string());
    EXPECT_EQ(effective.at("signature").text, "check");
    EXPECT_EQ(effective.at("verity").text, "digest");
    EXPECT_THAT(effective.at("allowed_uids").items, ElementsAre("0", "4242"));
    EXPECT_THAT(effective.at("annotation_keys").items,
                ElementsAre("io.containers.composefs.digest"));
    EXPECT_EQ(effective.at("max_concurrent").text, "3");
    EXPECT_EQ(effective.at("max_json_bytes").text, std::to_string(config.max_json_bytes));
    EXPECT_EQ(effective.at("max_manifest_bytes").text, std::to_string(config.max_manifest_bytes));
    EXPECT_EQ(effective.at("max_blob_bytes").text, std::to_string(config.max_blob_bytes));
    EXPECT_EQ(effective.at("max_layers").text, "128");
    EXPECT_EQ(effective.at("idle_exit_seconds").text, "0");
}

}  // namespace
}  // namespace vmd::bus
