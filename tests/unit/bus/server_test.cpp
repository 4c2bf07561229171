// The server against a private dbus-daemon: introspection, status, argument errors, authorization
// (also as a real other uid), Busy, start-up failure and idle exit.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <regex>
#include <string>
#include <vector>

#include "bus_fixture.hpp"
#include "service/audit.hpp"

namespace vmd::bus {
namespace {

using ::testing::HasSubstr;
using testing::run;
using testing::bus_fixture::AuditCapture;
using testing::bus_fixture::call;
using testing::bus_fixture::CallResult;
using testing::bus_fixture::connect;
using testing::bus_fixture::Dict;
using testing::bus_fixture::PrivateBus;
using testing::bus_fixture::read_dict;
using testing::bus_fixture::ServerThread;
using testing::bus_fixture::test_kernel;
using testing::bus_fixture::TestStore;

const std::string kError = "io.containers.VerityMount1.Error.";
const std::string kMissingId(64, 'e');

/// A private bus with the server on it, serving a store without images.
class ServerTest : public ::testing::Test {
  protected:
    /// Starts the server with `config` (from the test store, adjusted by the test).
    void start(const config::Config& config) {
        service_ = std::make_unique<service::Service>(config, test_kernel());
        RunOptions options;
        options.bus_address = bus_.address();
        server_ = std::make_unique<ServerThread>(*service_, options);
        ASSERT_TRUE(server_->ready());
        client_ = connect(bus_.address());
    }
    void start() { start(store_.config()); }

    void TearDown() override {
        if (server_) {
            EXPECT_EQ(server_->stop(), 0);
        }
    }

    /// busctl against the private bus, as root.
    testing::RunResult busctl(std::vector<std::string> args) {
        args.insert(args.begin(), {"busctl", "--address=" + bus_.address()});
        return run(args);
    }

    CallResult verify(const std::string& image) {
        return call(client_.get(), "Verify", [&](sd_bus_message* m) {
            check(sd_bus_message_append(m, "sa{sv}", image.c_str(), 0), "append");
        });
    }

    PrivateBus bus_;
    TestStore store_;
    std::unique_ptr<service::Service> service_;
    std::unique_ptr<ServerThread> server_;
    BusPtr client_;
};

/// The methods of interface `name` in introspection XML: "Method(dir name type, …)" each.
std::vector<std::string> methods_of(std::string xml, const std::string& name) {
    xml = std::regex_replace(xml, std::regex("<!--[\\s\\S]*?-->"), "");
    const std::regex interface("<interface name=\"" +
                               std::regex_replace(name, std::regex("\\."), "\\.") +
                               "\">([\\s\\S]*?)</interface>");
    std::smatch found;
    if (!std::regex_search(xml, found, interface)) {
        return {};
    }
    const std::string body = found[1];
    const std::regex method("<method name=\"([^\"]+)\"\\s*(/>|>([\\s\\S]*?)</method>)");
    const std::regex arg("<arg\\s([^>]*?)/?>");
    const std::regex attribute("(\\w+)=\"([^\"]*)\"");
    std::vector<std::string> methods;
    for (auto m = std::sregex_iterator(body.begin(), body.end(), method);
         m != std::sregex_iterator(); ++m) {
        std::string text = (*m)[1].str() + "(";
        const std::string args = (*m)[3];
        for (auto a = std::sregex_iterator(args.begin(), args.end(), arg);
             a != std::sregex_iterator(); ++a) {
            const std::string attributes = (*a)[1];
            std::map<std::string, std::string> values{{"direction", "in"}};
            for (auto v = std::sregex_iterator(attributes.begin(), attributes.end(), attribute);
                 v != std::sregex_iterator(); ++v) {
                values[(*v)[1]] = (*v)[2];
            }
            text += values["direction"] + " " + values["name"] + " " + values["type"] + ",";
        }
        methods.push_back(text + ")");
    }
    std::sort(methods.begin(), methods.end());
    return methods;
}

TEST_F(ServerTest, IntrospectionMatchesTheInterfaceXml) {
    start();
    const auto xml =
        testing::read_file(testing::source_dir() / "dbus" / "io.containers.VerityMount1.xml");
    const auto expected = methods_of(xml, "io.containers.VerityMount1");
    ASSERT_EQ(expected.size(), 3u) << xml;

    auto result = busctl({"introspect", "--xml-interface", "io.containers.VerityMount1",
                          "/io/containers/VerityMount1"});
    ASSERT_EQ(result.exit_code, 0) << result.err;
    EXPECT_EQ(methods_of(result.out, "io.containers.VerityMount1"), expected) << result.out;
}

TEST_F(ServerTest, GetStatusAnswersWithTheDesignKeys) {
    start();
    auto result = call(client_.get(), "GetStatus");
    ASSERT_EQ(result.error_name, "") << result.error_message;
    Dict status = read_dict(result.reply.get());
    EXPECT_EQ(status["version"].signature, "s");
    EXPECT_EQ(status["kernel"].dict.size(), 5u);
    EXPECT_EQ(status["config"].dict["storage_root"].text, store_.config().storage_root.string());
    EXPECT_EQ(status["requests"].signature, "t");

    // And through busctl, the tool an administrator uses.
    auto out = busctl({"call", "io.containers.VerityMount1", "/io/containers/VerityMount1",
                       "io.containers.VerityMount1", "GetStatus"});
    ASSERT_EQ(out.exit_code, 0) << out.err;
    EXPECT_THAT(out.out, HasSubstr("\"overlay_lowerdir_plus\" b true"));
    EXPECT_THAT(out.out, HasSubstr("\"allowed_uids\" au 1 0"));
}

TEST_F(ServerTest, UnknownOptionKeyIsInvalidArgumentNamingIt) {
    start();
    auto result = call(client_.get(), "Verify", [](sd_bus_message* m) {
        check(sd_bus_message_append(m, "sa{sv}", "busybox", 1, "insecure", "b", 1), "append");
    });
    EXPECT_EQ(result.error_name, kError + "InvalidArgument");
    EXPECT_THAT(result.error_message, HasSubstr("\"insecure\""));

    result = call(client_.get(), "Mount", [](sd_bus_message* m) {
        check(sd_bus_message_append(m, "ssa{sv}", "busybox", "", 1, "rw", "b", 1), "append");
    });
    EXPECT_EQ(result.error_name, kError + "InvalidArgument");
    EXPECT_THAT(result.error_message, HasSubstr("\"rw\""));
}

TEST_F(ServerTest, WrongOptionTypeAndBadLevelAreInvalidArgument) {
    start();
    auto result = call(client_.get(), "Verify", [](sd_bus_message* m) {
        check(sd_bus_message_append(m, "sa{sv}", "busybox", 1, "nodev", "u", 1), "append");
    });
    EXPECT_EQ(result.error_name, kError + "InvalidArgument");
    EXPECT_THAT(result.error_message, HasSubstr("expected type b, found type u"));

    auto out = busctl({"call", "io.containers.VerityMount1", "/io/containers/VerityMount1",
                       "io.containers.VerityMount1", "Verify", "sa{sv}", "busybox", "1", "verity",
                       "s", "sloppy"});
    EXPECT_NE(out.exit_code, 0);
    EXPECT_THAT(out.err, HasSubstr("\"sloppy\""));
}

TEST_F(ServerTest, MissingImageIsImageNotFound) {
    start();
    auto result = verify(kMissingId);
    EXPECT_EQ(result.error_name, kError + "ImageNotFound") << result.error_message;
    result = call(client_.get(), "Mount", [](sd_bus_message* m) {
        check(sd_bus_message_append(m, "ssa{sv}", "quay.io/ns/missing:tag", "", 0), "append");
    });
    EXPECT_EQ(result.error_name, kError + "ImageNotFound") << result.error_message;

    // Both were counted, as requests and as refusals.
    auto status = call(client_.get(), "GetStatus");
    ASSERT_EQ(status.error_name, "");
    Dict dict = read_dict(status.reply.get());
    EXPECT_EQ(dict["requests"].text, "2");
    EXPECT_EQ(dict["refusals"].text, "2");
    EXPECT_EQ(dict["mounts"].text, "0");
}

TEST_F(ServerTest, PathLikeImageIsRefusedNotFollowed) {
    start();
    for (const std::string image : {"../../etc", "/etc/passwd", "", "a\tb"}) {
        auto result = verify(image);
        EXPECT_THAT(result.error_name,
                    ::testing::AnyOf(kError + "InvalidArgument", kError + "ImageNotFound"))
            << image << ": " << result.error_message;
    }
    EXPECT_EQ(call(client_.get(), "GetStatus").error_name, "");  // still serving
}

TEST_F(ServerTest, UidOutsideAllowedUidsIsDeniedOnEveryMethod) {
    auto config = store_.config();
    config.allowed_uids = {4242};
    start(config);
    auto result = call(client_.get(), "GetStatus");
    EXPECT_EQ(result.error_name, kError + "AccessDenied");
    EXPECT_THAT(result.error_message, HasSubstr("uid 0"));
    EXPECT_EQ(verify(kMissingId).error_name, kError + "AccessDenied");
    result = call(client_.get(), "Mount", [](sd_bus_message* m) {
        check(sd_bus_message_append(m, "ssa{sv}", "busybox", "", 0), "append");
    });
    EXPECT_EQ(result.error_name, kError + "AccessDenied");
    // Authorization comes before argument checks: a denied caller learns nothing more.
    result = call(client_.get(), "Verify", [](sd_bus_message* m) {
        check(sd_bus_message_append(m, "sa{sv}", "x", 1, "bogus", "b", 1), "append");
    });
    EXPECT_EQ(result.error_name, kError + "AccessDenied");
    result = call(client_.get(), "Mount", [](sd_bus_message* m) {
        check(sd_bus_message_append(m, "s", "wrong signature"), "append");
    });
    EXPECT_EQ(result.error_name, kError + "AccessDenied");
}

TEST_F(ServerTest, RefusalsBeforeThePipelineAreAuditedAndCounted) {
    AuditCapture audit;
    auto config = store_.config();
    config.max_concurrent = 1;
    start(config);
    EXPECT_EQ(call(client_.get(), "Verify",
                   [](sd_bus_message* m) {
                       check(sd_bus_message_append(m, "sa{sv}", "img-a", 1, "bogus", "b", 1),
                             "append");
                   })
                  .error_name,
              kError + "InvalidArgument");
    {
        auto held = service_->acquire_slot();
        EXPECT_EQ(verify("img-b").error_name, kError + "Busy");
    }
    EXPECT_EQ(verify(kMissingId).error_name, kError + "ImageNotFound");  // the pipeline's own
    EXPECT_EQ(service_->counters().requests, 3u);
    EXPECT_EQ(service_->counters().refusals, 3u);
    EXPECT_EQ(server_->stop(), 0);
    server_.reset();

    config.allowed_uids = {4242};
    start(config);
    EXPECT_EQ(verify("img-d").error_name, kError + "AccessDenied");
    EXPECT_EQ(call(client_.get(), "GetStatus").error_name, kError + "AccessDenied");
    const auto counters = service_->counters();
    EXPECT_EQ(counters.requests, 1u);  // a refused GetStatus is a refusal, not a request
    EXPECT_EQ(counters.refusals, 2u);

    const std::string e = kError;
    EXPECT_EQ(audit.lines(), (std::vector<std::string>{
                                 "Verify img-a " + e + "InvalidArgument",
                                 "Verify img-b " + e + "Busy",
                                 "Verify " + kMissingId + " " + e + "ImageNotFound",
                                 "Verify img-d " + e + "AccessDenied",
                                 "GetStatus  " + e + "AccessDenied",
                             }));
}

TEST_F(ServerTest, AnotherRealUidIsDenied) {
    start();  // allowed_uids [0]
    const std::vector<std::string> as_nobody = {"setpriv", "--reuid=65534", "--regid=65534",
                                                "--clear-groups"};
    auto args = as_nobody;
    args.insert(args.end(),
                {"busctl", "--address=" + bus_.address(), "call", "io.containers.VerityMount1",
                 "/io/containers/VerityMount1", "io.containers.VerityMount1", "GetStatus"});
    auto out = run(args);
    EXPECT_NE(out.exit_code, 0);
    EXPECT_THAT(out.err, HasSubstr("uid 65534"));

    // dbus-send prints the error name too.
    args = as_nobody;
    args.insert(args.end(), {"dbus-send", "--bus=" + bus_.address(), "--print-reply",
                             "--dest=io.containers.VerityMount1", "/io/containers/VerityMount1",
                             "io.containers.VerityMount1.GetStatus"});
    out = run(args);
    EXPECT_NE(out.exit_code, 0);
    EXPECT_THAT(out.err, HasSubstr(kError + "AccessDenied"));
}

TEST_F(ServerTest, EachConnectionIsJudgedByItsOwnUid) {
    // The bus is asked for a sender's uid once per connection: a root caller's answer must
    // not carry over to another connection of another uid, before or after it.
    start();  // allowed_uids [0]
    ASSERT_EQ(call(client_.get(), "GetStatus").error_name, "");
    auto out = run({"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "busctl",
                    "--address=" + bus_.address(), "call", "io.containers.VerityMount1",
                    "/io/containers/VerityMount1", "io.containers.VerityMount1", "GetStatus"});
    EXPECT_NE(out.exit_code, 0);
    EXPECT_THAT(out.err, HasSubstr("uid 65534"));
    EXPECT_EQ(call(client_.get(), "GetStatus").error_name, "");
    auto other_root = connect(bus_.address());
    EXPECT_EQ(call(other_root.get(), "GetStatus").error_name, "");
}

TEST_F(ServerTest, BusyAtOnceWhenEverySlotIsTaken) {
    auto config = store_.config();
    config.max_concurrent = 1;
    start(config);
    {
        auto held = service_->acquire_slot();  // the one request that may be in flight
        auto result = verify(kMissingId);
        EXPECT_EQ(result.error_name, kError + "Busy");
        EXPECT_THAT(result.error_message, HasSubstr("max_concurrent (1)"));
        // GetStatus is not a request and still answers.
        EXPECT_EQ(call(client_.get(), "GetStatus").error_name, "");
    }
    EXPECT_EQ(verify(kMissingId).error_name, kError + "ImageNotFound");
}

TEST_F(ServerTest, ConcurrentRequestsAreAllAnswered) {
    auto config = store_.config();
    config.max_concurrent = 64;
    start(config);
    // Many calls in flight on one connection: each reply must reach its own call.
    std::vector<std::uint64_t> cookies;
    for (int i = 0; i < 32; ++i) {
        sd_bus_message* raw = nullptr;
        ASSERT_GE(sd_bus_message_new_method_call(client_.get(), &raw, "io.containers.VerityMount1",
                                                 "/io/containers/VerityMount1",
                                                 "io.containers.VerityMount1", "Verify"),
                  0);
        MessagePtr message(raw);
        const std::string image = i % 2 == 0 ? kMissingId : "bad/../name";
        ASSERT_GE(sd_bus_message_append(raw, "sa{sv}", image.c_str(), 0), 0);
        std::uint64_t cookie = 0;
        ASSERT_GE(sd_bus_send(client_.get(), raw, &cookie), 0);
        cookies.push_back(cookie);
    }
    std::size_t answered = 0;
    while (answered < cookies.size()) {
        sd_bus_message* raw = nullptr;
        int r = sd_bus_process(client_.get(), &raw);
        ASSERT_GE(r, 0);
        MessagePtr message(raw);
        if (message && sd_bus_message_is_method_error(raw, nullptr) > 0) {
            std::uint64_t cookie = 0;
            ASSERT_GE(sd_bus_message_get_reply_cookie(raw, &cookie), 0);
            EXPECT_NE(std::find(cookies.begin(), cookies.end(), cookie), cookies.end());
            EXPECT_THAT(sd_bus_message_get_error(raw)->name,
                        ::testing::AnyOf(kError + "ImageNotFound", kError + "InvalidArgument"));
            ++answered;
        }
        if (r == 0) {
            ASSERT_GE(sd_bus_wait(client_.get(), UINT64_MAX), 0);
        }
    }
    EXPECT_EQ(service_->counters().requests, 32u);
}

TEST(ServerStart, SecondServerCannotTakeTheNameAndSaysSo) {
    PrivateBus bus;
    TestStore store;
    service::Service service(store.config(), test_kernel());
    RunOptions options;
    options.bus_address = bus.address();
    ServerThread first(service, options);
    ASSERT_TRUE(first.ready());
    ServerThread second(service, options);
    EXPECT_FALSE(second.ready());
    EXPECT_EQ(second.wait(), 1);
    EXPECT_EQ(first.stop(), 0);
}

TEST(ServerStart, UnreachableBusIsAStartFailure) {
    TestStore store;
    service::Service service(store.config(), test_kernel());
    RunOptions options;
    options.bus_address = "unix:path=" + (store.dir.path() / "no-such-socket").string();
    ServerThread server(service, options);
    EXPECT_FALSE(server.ready());
    EXPECT_EQ(server.wait(), 1);
}

TEST(ServerStart, ExitsByItselfWhenIdle) {
    PrivateBus bus;
    TestStore store;
    auto config = store.config();
    config.idle_exit_seconds = 1;
    service::Service service(config, test_kernel());
    RunOptions options;
    options.bus_address = bus.address();
    ServerThread server(service, options);
    ASSERT_TRUE(server.ready());
    EXPECT_EQ(server.wait(), 0);  // no stop request: the idle timer ended it
}

}  // namespace
}  // namespace vmd::bus
