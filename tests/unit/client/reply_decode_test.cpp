// Replies read straight into the typed results: every contract key with its D-Bus type, unknown
// keys ignored, anything else a BadReply naming the key.
#include "client/reply_decode.hpp"

#include <fcntl.h>
#include <sys/stat.h>

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "fixtures/processes.hpp"
#include "fixtures/test_env.hpp"
#include "reply_maps.hpp"

namespace vmd::client {
namespace {

using test::kLayerId;
using test::report_map;
using test::status_map;
using test::VariantMap;

// Messages as the client reads them: `map` written into a method call on a connection to a
// private bus, then read back from the start. The call is never sent; sdbus-c++ makes messages
// only on a connection.
class ReplyMessages {
  public:
    ReplyMessages()
        : connection_(sdbus::createSessionBusConnectionWithAddress(bus_.address())),
          proxy_(sdbus::createProxy(*connection_, "org.example.Replies", "/replies")) {}

    /// A message of `values`, in order (none: a message that ends at once).
    template <typename... Values>
    sdbus::MethodCall holding(const Values&... values) {
        auto message = proxy_->createMethodCall("org.example.Replies", "Reply");
        if constexpr (sizeof...(Values) > 0) {
            (message << ... << values);
        }
        message.seal();
        message.rewind(true);
        return message;
    }

  private:
    vmd::testing::PrivateBus bus_;
    std::unique_ptr<sdbus::IConnection> connection_;
    std::unique_ptr<sdbus::IProxy> proxy_;
};

class ReadReply : public ::testing::Test {
  protected:
    static void SetUpTestSuite() {
        if (vmd::testing::have_program("dbus-daemon")) {
            messages_ = std::make_unique<ReplyMessages>();
        }
    }
    static void TearDownTestSuite() { messages_.reset(); }
    void SetUp() override {
        ASSERT_NE(messages_, nullptr) << vmd::testing::missing_program("dbus-daemon", "dbus");
    }

    static Report report(const VariantMap& map) {
        auto message = messages_->holding(map);
        return read_report(message);
    }
    static Status status(const VariantMap& map) {
        auto message = messages_->holding(map);
        return read_status(message);
    }

    /// The BadReply message `body` throws; "" when it throws nothing.
    static std::string bad_reply_of(const std::function<void()>& body) {
        try {
            body();
        } catch (const ClientError& error) {
            EXPECT_EQ(error.kind(), ErrorKind::BadReply);
            EXPECT_EQ(error.name(), kBadReplyName);
            return error.message();
        }
        return "";
    }
    /// The BadReply message of reading `message` with `read`; "" when it read.
    template <typename Read>
    static std::string bad_message(Read&& read, sdbus::Message& message) {
        return bad_reply_of([&] { read(message); });
    }
    /// The BadReply message of decoding `map` with `decode`; "" when it decoded.
    template <typename Decode>
    static std::string bad_reply(Decode&& decode, const VariantMap& map) {
        return bad_reply_of([&] { decode(map); });
    }

    inline static std::unique_ptr<ReplyMessages> messages_;
};

TEST_F(ReadReply, ReportReadsEveryKeyAndIgnoresUnknownOnes) {
    auto map = report_map("busybox");
    map.emplace("some_future_key", sdbus::Variant(true));
    Report got = report(map);
    EXPECT_EQ(got.image_id, "busybox");
    EXPECT_EQ(got.manifest_digest, "sha256:dd");
    EXPECT_EQ(got.identity, "docker.io/library/busybox:latest");
    EXPECT_EQ(got.policy_scope, "docker.io/library");
    EXPECT_EQ(got.signature, "require");
    EXPECT_EQ(got.verity, "digest");
    EXPECT_EQ(got.elapsed_us, 42U);
    ASSERT_EQ(got.layers.size(), 1U);
    EXPECT_EQ(got.layers[0].layer_id, kLayerId);
    EXPECT_EQ(got.layers[0].blob_digest, "sha256:aa");
    EXPECT_EQ(got.layers[0].allowed, (std::vector<std::string>{"sha256:aa", "sha256:cc"}));
}

TEST_F(ReadReply, ReportKeepsTheLayersInOrderAndSkipsUnknownValuesOfAnyShape) {
    auto map = report_map("busybox");
    std::vector<VariantMap> layers;
    for (const char* id : {"a", "b", "c"}) {
        layers.push_back({{"allowed", sdbus::Variant(std::vector<std::string>{})},
                          {"layer_id", sdbus::Variant(std::string(id))},
                          {"future", sdbus::Variant(VariantMap{{"x", sdbus::Variant(true)}})},
                          {"blob_digest", sdbus::Variant(std::string("sha256:") + id)}});
    }
    map["layers"] = sdbus::Variant(layers);
    map["future_list"] = sdbus::Variant(std::vector<VariantMap>{{{"y", sdbus::Variant(1.5)}}});
    Report got = report(map);
    ASSERT_EQ(got.layers.size(), 3U);
    EXPECT_EQ(got.layers[0].layer_id, "a");
    EXPECT_EQ(got.layers[2].blob_digest, "sha256:c");
    EXPECT_TRUE(got.layers[1].allowed.empty());
    EXPECT_EQ(got.elapsed_us, 42U);  // the keys after the skipped ones are still read

    map["layers"] = sdbus::Variant(std::vector<VariantMap>{});
    EXPECT_TRUE(report(map).layers.empty());
}

TEST_F(ReadReply, ReportMissingKeyOrOtherTypeIsABadReplyNamingTheKey) {
    auto missing = report_map("x");
    missing.erase("identity");
    EXPECT_EQ(bad_reply(report, missing),
              "reply: expected key \"identity\" of type s, found no such key");

    auto wrong = report_map("x");
    wrong["elapsed_us"] = sdbus::Variant(std::string("soon"));
    EXPECT_EQ(bad_reply(report, wrong), "reply key \"elapsed_us\": expected type t, found type s");

    // A narrower integer is another type, not a value to widen.
    auto narrow = report_map("x");
    narrow["elapsed_us"] = sdbus::Variant(std::uint32_t{42});
    EXPECT_EQ(bad_reply(report, narrow), "reply key \"elapsed_us\": expected type t, found type u");

    auto layer = report_map("x");
    layer["layers"] = sdbus::Variant(
        std::vector<VariantMap>{{{"layer_id", sdbus::Variant(std::string(kLayerId))},
                                 {"blob_digest", sdbus::Variant(std::string(""))},
                                 {"allowed", sdbus::Variant(std::string("sha256:aa"))}}});
    EXPECT_EQ(bad_reply(report, layer),
              "reply layers[0] key \"allowed\": expected type as, found type s");
}

TEST_F(ReadReply, ReplyOfAnotherShapeIsABadReplyNamingWhatItHolds) {
    const std::function<void(sdbus::Message&)> decoders[] = {
        [](sdbus::Message& m) { read_report(m); }, [](sdbus::Message& m) { read_status(m); }};
    for (const auto& decode : decoders) {
        auto empty = messages_->holding();
        EXPECT_EQ(bad_message(decode, empty), "reply: expected a map of type a{sv}, found nothing");
        auto text = messages_->holding(std::string("report"));
        EXPECT_EQ(bad_message(decode, text), "reply: expected a map of type a{sv}, found type s");
        auto list = messages_->holding(std::vector<std::string>{"a"});
        EXPECT_EQ(bad_message(decode, list), "reply: expected a map of type a{sv}, found type as");
    }
}

TEST_F(ReadReply, RootfsIsTheFirstValueAndComesBackCloseOnExec) {
    const auto read = [](sdbus::Message& m) { read_rootfs(m); };
    auto empty = messages_->holding();
    EXPECT_EQ(bad_message(read, empty),
              "Mount reply: expected the rootfs as type h first, found nothing");
    auto map_first = messages_->holding(report_map("x"));
    EXPECT_EQ(bad_message(read, map_first),
              "Mount reply: expected the rootfs as type h first, found type a{sv}");

    UniqueFd sent(::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
    ASSERT_TRUE(sent);
    auto message = messages_->holding(sdbus::UnixFd(sent.get()), report_map("x"));
    UniqueFd got = read_rootfs(message);
    ASSERT_TRUE(got);
    EXPECT_NE(got.get(), sent.get());
    EXPECT_EQ(::fcntl(got.get(), F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
    struct stat got_stat {};
    struct stat sent_stat {};
    ASSERT_EQ(::fstat(got.get(), &got_stat), 0);
    ASSERT_EQ(::fstat(sent.get(), &sent_stat), 0);
    EXPECT_EQ(got_stat.st_ino, sent_stat.st_ino);
    EXPECT_EQ(read_report(message).image_id, "x");  // the report follows the fd
}

TEST_F(ReadReply, StatusReadsEveryKeyAndIgnoresUnknownOnes) {
    auto map = status_map();
    map.emplace("uptime", sdbus::Variant(std::uint64_t{5}));
    Status got = status(map);
    EXPECT_EQ(got.version, "0.1.0");
    EXPECT_FALSE(got.kernel.fs_verity);
    EXPECT_TRUE(got.kernel.overlay_verity);
    EXPECT_TRUE(got.kernel.overlay_lowerdir_plus);
    EXPECT_TRUE(got.kernel.erofs_file_backed);
    EXPECT_FALSE(got.kernel.detached_layers);
    EXPECT_EQ(got.config.storage_root, "/var/lib/containers/storage");
    EXPECT_EQ(got.config.policy_path, "/etc/containers/policy.json");
    EXPECT_EQ(got.config.signature, "require");
    EXPECT_EQ(got.config.verity, "digest");
    EXPECT_EQ(got.config.annotation_keys,
              std::vector<std::string>{"io.containers.composefs.digest"});
    EXPECT_EQ(got.config.allowed_uids, (std::vector<std::uint32_t>{0, 4242}));
    EXPECT_EQ(got.config.max_concurrent, 16U);
    EXPECT_EQ(got.config.max_json_bytes, 67108864U);
    EXPECT_EQ(got.config.max_manifest_bytes, 4194304U);
    EXPECT_EQ(got.config.max_blob_bytes, 1073741824U);
    EXPECT_EQ(got.config.max_layers, 128U);
    EXPECT_EQ(got.config.idle_exit_seconds, 30U);
    EXPECT_EQ(got.requests, 3U);
    EXPECT_EQ(got.mounts, 2U);
    EXPECT_EQ(got.refusals, 1U);
}

TEST_F(ReadReply, StatusNestedMapsAreHeldToTheContractToo) {
    auto kernel = status_map();
    auto features = kernel["kernel"].get<VariantMap>();
    features.erase("detached_layers");
    kernel["kernel"] = sdbus::Variant(features);
    EXPECT_EQ(bad_reply(status, kernel),
              "reply kernel: expected key \"detached_layers\" of type b, found no such key");

    auto config = status_map();
    auto settings = config["config"].get<VariantMap>();
    settings["allowed_uids"] = sdbus::Variant(std::vector<std::int32_t>{0});
    config["config"] = sdbus::Variant(settings);
    EXPECT_EQ(bad_reply(status, config),
              "reply config key \"allowed_uids\": expected type au, found type ai");

    auto flat = status_map();
    flat["kernel"] = sdbus::Variant(true);
    EXPECT_EQ(bad_reply(status, flat), "reply key \"kernel\": expected type a{sv}, found type b");
}

}  // namespace
}  // namespace vmd::client
