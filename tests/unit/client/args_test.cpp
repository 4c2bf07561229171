#include "client/ctl/args.hpp"

#include <gtest/gtest.h>

#include <initializer_list>
#include <ostream>

namespace vmd::ctl {
namespace {

std::variant<Invocation, UsageError> parse(std::initializer_list<std::string_view> args) {
    return parse_args(std::span<const std::string_view>(args.begin(), args.size()));
}

Invocation parse_ok(std::initializer_list<std::string_view> args) {
    auto result = parse(args);
    if (const auto* error = std::get_if<UsageError>(&result)) {
        ADD_FAILURE() << "unexpected usage error: " << error->message;
        return {};
    }
    return std::get<Invocation>(result);
}

TEST(ParseArgs, MountWithOptionsAfterPositionals) {
    auto inv = parse_ok({"mount", "busybox", "ctr1", "--target", "/mnt/x", "--readonly",
                         "--signature", "require", "--verity=digest", "--json"});
    EXPECT_EQ(inv.command, Command::Mount);
    EXPECT_EQ(inv.image, "busybox");
    EXPECT_EQ(inv.container, "ctr1");
    EXPECT_EQ(inv.target, "/mnt/x");
    EXPECT_TRUE(inv.json);
    EXPECT_FALSE(inv.help);
    EXPECT_EQ(inv.options.readonly, true);
    EXPECT_EQ(inv.options.nodev, std::nullopt);
    EXPECT_EQ(inv.options.signature, SignatureLevel::Require);
    EXPECT_EQ(inv.options.verity, VerityLevel::Digest);
    EXPECT_EQ(inv.address, std::nullopt);
}

TEST(ParseArgs, OptionsBeforeAndAfterGiveTheSameInvocation) {
    auto after = parse_ok(
        {"mount", "img", "--target=/t", "--nodev", "--nosuid", "--address", "unix:path=/run/x"});
    auto before = parse_ok(
        {"--address=unix:path=/run/x", "--nosuid", "mount", "--target", "/t", "--nodev", "img"});
    EXPECT_EQ(after, before);
    EXPECT_EQ(after.address, "unix:path=/run/x");
    EXPECT_EQ(after.container, "");
    EXPECT_EQ(after.options.nodev, true);
    EXPECT_EQ(after.options.nosuid, true);
    EXPECT_EQ(after.options.readonly, std::nullopt);
}

TEST(ParseArgs, VerifyStatusDigest) {
    auto verify = parse_ok({"--json", "verify", "--verity", "off", "sha256abc"});
    EXPECT_EQ(verify.command, Command::Verify);
    EXPECT_EQ(verify.image, "sha256abc");
    EXPECT_EQ(verify.options.verity, VerityLevel::Off);
    EXPECT_TRUE(verify.json);

    auto status = parse_ok({"status"});
    EXPECT_EQ(status.command, Command::Status);
    EXPECT_FALSE(status.json);

    auto digest = parse_ok({"digest", "a", "--json", "b", "--", "--c"});
    EXPECT_EQ(digest.command, Command::Digest);
    EXPECT_EQ(digest.files, (std::vector<std::string>{"a", "b", "--c"}));
    EXPECT_TRUE(digest.json);
}

TEST(ParseArgs, HelpWinsOverMissingArguments) {
    auto global = parse_ok({"--help"});
    EXPECT_TRUE(global.help);
    EXPECT_EQ(global.command, std::nullopt);

    auto mount = parse_ok({"mount", "-h"});
    EXPECT_TRUE(mount.help);
    EXPECT_EQ(mount.command, Command::Mount);

    auto digest = parse_ok({"--help", "digest"});
    EXPECT_TRUE(digest.help);
    EXPECT_EQ(digest.command, Command::Digest);
}

struct UsageCase {
    std::vector<std::string_view> args;
    std::string_view message_part;
};

// Names each case by its command line in test output.
void PrintTo(const UsageCase& param, std::ostream* out) {
    *out << "argv:";
    for (auto arg : param.args) {
        *out << ' ' << arg;
    }
}

class ParseArgsUsageError : public ::testing::TestWithParam<UsageCase> {};

TEST_P(ParseArgsUsageError, IsRefusedWithAMessage) {
    const auto& param = GetParam();
    auto result = parse_args(param.args);
    ASSERT_TRUE(std::holds_alternative<UsageError>(result))
        << "accepted: " << ::testing::PrintToString(param.args);
    const auto& message = std::get<UsageError>(result).message;
    EXPECT_NE(message.find(param.message_part), std::string::npos) << message;
}

INSTANTIATE_TEST_SUITE_P(
    Table, ParseArgsUsageError,
    ::testing::Values(
        UsageCase{{}, "missing COMMAND"},
        UsageCase{{"frobnicate"}, "unknown command \"frobnicate\""},
        UsageCase{{"frobnicate", "--help"}, "unknown command"},
        UsageCase{{"status", "--bogus"}, "unknown option --bogus"},
        UsageCase{{"-x", "status"}, "unknown option -x"},
        UsageCase{{"status", "--json=yes"}, "--json takes no value"},
        UsageCase{{"status", "extra"}, "expected no arguments, found 1"},
        UsageCase{{"mount", "img"}, "missing --target DIR"},
        UsageCase{{"mount", "--target", "/t"}, "expected IMAGE [CONTAINER], found 0"},
        UsageCase{{"mount", "a", "b", "c", "--target", "/t"}, "found 3 arguments"},
        UsageCase{{"mount", "img", "--target"}, "--target needs a value"},
        UsageCase{{"mount", "img", "--target", "--readonly"}, "--target needs a value"},
        UsageCase{{"mount", "img", "--target="}, "--target: expected a directory"},
        UsageCase{{"mount", "img", "--target", "/a", "--target", "/b"}, "--target given twice"},
        UsageCase{{"mount", "", "--target", "/t"}, "IMAGE: expected an image ID"},
        UsageCase{{"verify"}, "expected IMAGE, found 0"},
        UsageCase{{"verify", "a", "b"}, "expected IMAGE, found 2"},
        UsageCase{{"verify", "img", "--signature", "maybe"},
                  "--signature: expected off, check or require, found \"maybe\""},
        UsageCase{{"verify", "img", "--verity=strict"},
                  "--verity: expected off, digest or enforce, found \"strict\""},
        UsageCase{{"verify", "img", "--readonly"}, "--readonly does not apply"},
        UsageCase{{"verify", "img", "--target", "/t"}, "--target does not apply"},
        UsageCase{{"digest"}, "expected FILE..., found no file"},
        UsageCase{{"digest", "f", "--verity", "off"}, "--verity does not apply"},
        UsageCase{{"status", "--address="}, "--address: expected an address"},
        UsageCase{{"status", "--address"}, "--address needs a value"}));

TEST(ParseArgs, UsageErrorNamesItsCommand) {
    std::vector<std::string_view> args = {"verify", "--target", "/t", "img"};
    auto result = parse_args(args);
    ASSERT_TRUE(std::holds_alternative<UsageError>(result));
    EXPECT_EQ(std::get<UsageError>(result).command, Command::Verify);
    EXPECT_TRUE(std::get<UsageError>(result).message.starts_with("verify: "));
}

TEST(UsageText, EveryCommandHasHelpNamingItsOptions) {
    EXPECT_NE(usage_text(std::nullopt).find("Commands:"), std::string::npos);
    EXPECT_NE(usage_text(Command::Mount).find("--target DIR"), std::string::npos);
    EXPECT_NE(usage_text(Command::Verify).find("--signature L"), std::string::npos);
    EXPECT_NE(usage_text(Command::Status).find("--json"), std::string::npos);
    EXPECT_NE(usage_text(Command::Digest).find("FILE..."), std::string::npos);
}

}  // namespace
}  // namespace vmd::ctl
