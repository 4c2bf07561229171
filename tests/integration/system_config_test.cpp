// The built daemon refuses a bad config at start-up: non-zero exit, one line naming the key.
#include <gtest/gtest.h>

#include "system_support.hpp"

namespace vmd::testing::sys {
namespace {

struct BadConfig {
    std::string name;
    std::string json;
    std::string key;  // the key the one line must name
};

void PrintTo(const BadConfig& config, std::ostream* out) {
    *out << config.name;
}

/// True when `key` occurs in `text` as a whole word (not inside a longer identifier).
bool names_key(std::string_view text, std::string_view key) {
    auto is_word = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
    for (auto at = text.find(key); at != std::string_view::npos; at = text.find(key, at + 1)) {
        auto end = at + key.size();
        if ((at == 0 || !is_word(text[at - 1])) && (end == text.size() || !is_word(text[end]))) {
            return true;
        }
    }
    return false;
}

class StartWithBadConfig : public ::testing::TestWithParam<BadConfig> {};

TEST_P(StartWithBadConfig, ExitsWithOneLineNamingTheKey) {
    TempDir dir;
    auto config = dir.path() / "verity-mountd.json";
    write_file(config, GetParam().json);
    // Never the machine's system bus, should the config be accepted after all.
    auto result = run({built("daemon/verity-mountd").string(), "--config", config.string()},
                      {"DBUS_SYSTEM_BUS_ADDRESS=unix:path=" + (dir.path() / "none").string()});
    EXPECT_NE(result.exit_code, 0);
    EXPECT_EQ(result.out, "");
    ASSERT_FALSE(result.err.empty());
    EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 1) << result.err;
    EXPECT_TRUE(result.err.ends_with('\n')) << result.err;
    // "verity-mountd: PATH: <reason naming the key>"
    const std::string prefix = "verity-mountd: " + config.string() + ": ";
    ASSERT_TRUE(result.err.starts_with(prefix)) << result.err;
    EXPECT_TRUE(names_key(std::string_view(result.err).substr(prefix.size()), GetParam().key))
        << result.err;
}

INSTANTIATE_TEST_SUITE_P(
    Config, StartWithBadConfig,
    ::testing::Values(
        BadConfig{"UnknownKey", R"({"storage_rot": "/var/lib/containers/storage"})", "storage_rot"},
        BadConfig{"WrongType", R"({"max_layers": "128"})", "max_layers"},
        BadConfig{"WrongTypeInArray", R"({"allowed_uids": ["root"]})", "allowed_uids"},
        BadConfig{"BadLevel", R"({"signature": "sometimes"})", "signature"},
        BadConfig{"OutOfRange", R"({"max_concurrent": 0})", "max_concurrent"},
        BadConfig{"RelativePath", R"({"policy_path": "policy.json"})", "policy_path"},
        BadConfig{"DuplicateKey", R"({"verity": "off", "verity": "enforce"})", "verity"}),
    [](const auto& test) { return test.param.name; });

}  // namespace
}  // namespace vmd::testing::sys
