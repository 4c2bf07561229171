// Hostile arguments, over the system bus and the peer-to-peer socket: arguments of megabytes,
// strings sd-bus would never write (invalid UTF-8, bodies that lie about their signature),
// thousands of options, wrong and nested variants, wrong signatures, unknown methods. Each gets
// a typed error (or the bus drops the sender) and the daemon keeps serving, holding nothing.
#include <gmock/gmock.h>

#include "hostile_support.hpp"

namespace vmd::testing::hostile {
namespace {

class HostileArguments : public HostileCallers {};

using ::testing::HasSubstr;
using ::testing::StartsWith;

/// An a{sv} entry key → variant of `type` holding `value` (a string).
void append_entry(sd_bus_message* m, const char* key, const char* type, const char* value) {
    ok(sd_bus_message_append(m, "{sv}", key, type, value), "append option");
}

bc::CallResult call_with(sd_bus* bus, const char* method,
                         const std::function<void(sd_bus_message*)>& append) {
    return bc::call(bus, method, append);
}

TEST_P(HostileArguments, ArgumentsOfMegabytesAreRefusedWithoutBeingEchoed) {
    const std::string huge(4 << 20, 'a');
    auto result = call_with(client_.get(), "Verify", [&](sd_bus_message* m) {
        ok(sd_bus_message_append(m, "sa{sv}", huge.c_str(), 0), "append");
    });
    EXPECT_EQ(result.error_name, kError + "InvalidArgument");
    EXPECT_EQ(result.error_message, "image: expected at most 1024 bytes, found 4194304 bytes");

    result = call_with(client_.get(), "Mount", [&](sd_bus_message* m) {
        ok(sd_bus_message_append(m, "ssa{sv}", std::string(kDemoName).c_str(), huge.c_str(), 0),
           "append");
    });
    EXPECT_EQ(result.error_name, kError + "InvalidArgument");
    EXPECT_EQ(result.error_message, "container: expected at most 1024 bytes, found 4194304 bytes");

    // A huge option key, and a huge level value: quoted only in part.
    for (const bool in_key : {true, false}) {
        result = call_with(client_.get(), "Verify", [&](sd_bus_message* m) {
            ok(sd_bus_message_append(m, "s", std::string(kDemoName).c_str()), "append");
            ok(sd_bus_message_open_container(m, 'a', "{sv}"), "open");
            append_entry(m, in_key ? huge.c_str() : "signature", "s", in_key ? "x" : huge.c_str());
            ok(sd_bus_message_close_container(m), "close");
        });
        EXPECT_EQ(result.error_name, kError + "InvalidArgument");
        EXPECT_THAT(result.error_message, HasSubstr("(4194304 bytes)"));
        EXPECT_LT(result.error_message.size(), 400u) << result.error_message.substr(0, 400);
    }
    expect_unharmed();
}

TEST_P(HostileArguments, ThousandsOfOptionsAreRefusedAtTheFirstBadOne) {
    for (const char* key : {"nonsense", "readonly"}) {
        auto result = call_with(client_.get(), "Mount", [&](sd_bus_message* m) {
            ok(sd_bus_message_append(m, "ss", std::string(kDemoName).c_str(), ""), "append");
            ok(sd_bus_message_open_container(m, 'a', "{sv}"), "open");
            for (int i = 0; i < 20000; ++i) {
                ok(sd_bus_message_append(m, "{sv}", key, "b", 1), "append option");
            }
            ok(sd_bus_message_close_container(m), "close");
        });
        EXPECT_EQ(result.error_name, kError + "InvalidArgument") << key;
        EXPECT_THAT(result.error_message, HasSubstr(std::string("\"") + key + "\""));
    }
    expect_unharmed();
}

TEST_P(HostileArguments, WrongAndNestedVariantsAreInvalidArguments) {
    struct Case {
        const char* key;
        std::function<void(sd_bus_message*)> value;  // appends the variant
        const char* found;
    };
    const std::vector<Case> cases = {
        {"signature",
         [](sd_bus_message* m) { ok(sd_bus_message_append(m, "v", "v", "s", "require"), "v"); },
         "found type v"},
        {"readonly",
         [](sd_bus_message* m) {
             ok(sd_bus_message_append(m, "v", "a{sv}", 1, "readonly", "b", 1), "v");
         },
         "found type a{sv}"},
        {"verity",
         [](sd_bus_message* m) { ok(sd_bus_message_append(m, "v", "as", 1, "off"), "v"); },
         "found type as"},
        {"nodev", [](sd_bus_message* m) { ok(sd_bus_message_append(m, "v", "s", "true"), "v"); },
         "found type s"},
    };
    for (const auto& c : cases) {
        // 30 levels of variants in variants, the deepest D-Bus allows well within.
        auto result = call_with(client_.get(), "Verify", [&](sd_bus_message* m) {
            ok(sd_bus_message_append(m, "s", std::string(kDemoName).c_str()), "append");
            ok(sd_bus_message_open_container(m, 'a', "{sv}"), "open");
            ok(sd_bus_message_open_container(m, 'e', "sv"), "entry");
            ok(sd_bus_message_append(m, "s", c.key), "key");
            c.value(m);
            ok(sd_bus_message_close_container(m), "entry");
            ok(sd_bus_message_close_container(m), "close");
        });
        EXPECT_EQ(result.error_name, kError + "InvalidArgument") << c.key;
        EXPECT_THAT(result.error_message, HasSubstr(c.found)) << c.key;
    }
    auto nested = call_with(client_.get(), "Verify", [&](sd_bus_message* m) {
        ok(sd_bus_message_append(m, "s", std::string(kDemoName).c_str()), "append");
        ok(sd_bus_message_open_container(m, 'a', "{sv}"), "open");
        ok(sd_bus_message_open_container(m, 'e', "sv"), "entry");
        ok(sd_bus_message_append(m, "s", "signature"), "key");
        for (int i = 0; i < 30; ++i) {
            ok(sd_bus_message_open_container(m, 'v', "v"), "nest");
        }
        ok(sd_bus_message_append(m, "v", "s", "off"), "innermost");
        for (int i = 0; i < 30; ++i) {
            ok(sd_bus_message_close_container(m), "unnest");
        }
        ok(sd_bus_message_close_container(m), "entry");
        ok(sd_bus_message_close_container(m), "close");
    });
    EXPECT_EQ(nested.error_name, kError + "InvalidArgument");
    EXPECT_THAT(nested.error_message, HasSubstr("expected type s, found type v"));
    expect_unharmed();
}

TEST_P(HostileArguments, WrongSignaturesAreInvalidArgumentsNamingBoth) {
    struct Case {
        const char* method;
        const char* signature;
        std::function<void(sd_bus_message*)> append;
    };
    const std::vector<Case> cases = {
        {"Mount", "s",
         [](sd_bus_message* m) { ok(sd_bus_message_append(m, "s", "busybox"), "a"); }},
        {"Mount", "", {}},
        {"Mount", "sss",
         [](sd_bus_message* m) { ok(sd_bus_message_append(m, "sss", "a", "b", "c"), "a"); }},
        {"Mount", "ssa{ss}",
         [](sd_bus_message* m) {
             ok(sd_bus_message_append(m, "ssa{ss}", "a", "", 1, "k", "v"), "a");
         }},
        {"Mount", "ssa{sv}h",  // an fd the daemon never asked for
         [](sd_bus_message* m) {
             ok(sd_bus_message_append(m, "ssa{sv}h", "a", "", 0, STDIN_FILENO), "a");
         }},
        {"Verify", "ssa{sv}",
         [](sd_bus_message* m) { ok(sd_bus_message_append(m, "ssa{sv}", "a", "", 0), "a"); }},
        {"GetStatus", "s", [](sd_bus_message* m) { ok(sd_bus_message_append(m, "s", "a"), "a"); }},
    };
    const auto refusals = counter("refusals");
    for (const auto& c : cases) {
        auto result = call_with(client_.get(), c.method, c.append);
        EXPECT_EQ(result.error_name, kError + "InvalidArgument")
            << c.method << "(" << c.signature << ")";
        EXPECT_THAT(result.error_message, HasSubstr(std::string("arguments of ") + c.method +
                                                    ": expected the signature"));
        EXPECT_THAT(result.error_message, HasSubstr(std::string("found \"") + c.signature + "\""));
    }
    EXPECT_EQ(counter("refusals"), refusals + cases.size());  // audited and counted
    expect_unharmed();
}

TEST_P(HostileArguments, UnknownMethodsInterfacesAndObjectsGetTheStandardErrors) {
    struct Case {
        const char* path;
        const char* interface;
        const char* method;
        const char* error;
    };
    const std::vector<Case> cases = {
        {"/io/containers/VerityMount1", "io.containers.VerityMount1", "Unmount",
         "org.freedesktop.DBus.Error.UnknownMethod"},
        {"/io/containers/VerityMount1", "io.containers.VerityMount2", "Mount",
         "org.freedesktop.DBus.Error.UnknownMethod"},
        {"/io/containers", "io.containers.VerityMount1", "Mount",
         "org.freedesktop.DBus.Error.UnknownObject"},
        {"/", "org.freedesktop.DBus.Properties", "Set", "org.freedesktop.DBus.Error."},
    };
    for (const auto& c : cases) {
        sd_bus_message* raw = nullptr;
        ok(sd_bus_message_new_method_call(client_.get(), &raw, "io.containers.VerityMount1", c.path,
                                          c.interface, c.method),
           "new call");
        bc::MessagePtr message(raw);
        sd_bus_error error{};
        sd_bus_message* reply = nullptr;
        EXPECT_LT(sd_bus_call(client_.get(), raw, 0, &error, &reply), 0) << c.method;
        bc::MessagePtr owned(reply);
        EXPECT_THAT(error.name != nullptr ? error.name : "", StartsWith(c.error)) << c.path;
        sd_bus_error_free(&error);
    }
    expect_unharmed();
}

/// Verify(image, {}) with `image` as raw bytes.
wire::Call verify_raw(std::string_view image) {
    wire::Writer body;
    body.string(image);
    body.empty_array(8);
    wire::Call call;
    call.member = "Verify";
    call.signature = "sa{sv}";
    call.body = body.bytes();
    return call;
}

TEST_P(HostileArguments, InvalidUtf8IsRefusedOrDroppedByTheBus) {
    {
        auto peer = raw_peer();
        const auto reply = peer.reply_to(peer.send(verify_raw("quay.io/x/x:1")));
        ASSERT_TRUE(reply.has_value());
        EXPECT_EQ(reply->error_name, kError + "ImageNotFound");
    }
    {
        auto peer = raw_peer();
        const auto reply = peer.reply_to(peer.send(verify_raw("quay.io/\xff\xfe/x:1")));
        if (GetParam() == Transport::SystemBus) {
            // dbus-daemon validates every message and drops a sender that breaks the format.
            EXPECT_FALSE(reply.has_value());
        } else {
            ASSERT_TRUE(reply.has_value());
            EXPECT_EQ(reply->error_name, kError + "InvalidArgument");
            EXPECT_THAT(reply->first_string(), HasSubstr("image: expected a valid UTF-8 string"));
        }
    }
    expect_unharmed();
}

TEST_P(HostileArguments, BodyThatLiesAboutItsSignatureIsRefusedOrDropped) {
    {
        auto peer = raw_peer();
        wire::Call call = verify_raw("busybox");
        call.signature = "ssa{sv}";  // one string short
        call.member = "Mount";
        const auto reply = peer.reply_to(peer.send(call));
        if (GetParam() == Transport::SystemBus) {
            EXPECT_FALSE(reply.has_value());  // dbus-daemon drops the sender
        } else {
            ASSERT_TRUE(reply.has_value());
            EXPECT_EQ(reply->error_name, kError + "InvalidArgument");
            EXPECT_EQ(reply->first_string(),
                      "container: expected a valid UTF-8 string, found bytes sd-bus refuses (Bad "
                      "message)");
        }
    }
    expect_unharmed();
}

INSTANTIATE_TEST_SUITE_P(Hostile, HostileArguments,
                         ::testing::Values(Transport::SystemBus, Transport::PeerToPeer),
                         transport_name);

}  // namespace
}  // namespace vmd::testing::hostile
