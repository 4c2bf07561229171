#include "config/config.hpp"

#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "fixtures/test_env.hpp"

namespace vmd::config {
namespace {

TEST(Config, EmptyObjectGivesDesignDefaults) {
    auto config = parse_config("{}");
    EXPECT_EQ(config.storage_root, "/var/lib/containers/storage");
    EXPECT_EQ(config.policy_path, "/etc/containers/policy.json");
    EXPECT_EQ(config.signature, SignatureLevel::Require);
    EXPECT_EQ(config.verity, VerityLevel::Enforce);
    EXPECT_EQ(config.annotation_keys, std::vector<std::string>{"io.containers.composefs.digest"});
    EXPECT_EQ(config.allowed_uids, std::vector<uid_t>{0});
    EXPECT_EQ(config.max_concurrent, 16u);
    EXPECT_EQ(config.max_json_bytes, 67108864u);
    EXPECT_EQ(config.max_manifest_bytes, 4194304u);
    EXPECT_EQ(config.max_blob_bytes, 1073741824u);
    EXPECT_EQ(config.max_layers, 128u);
    EXPECT_EQ(config.idle_exit_seconds, 30u);
}

TEST(Config, EveryKeyIsRead) {
    auto config = parse_config(R"({"storage_root": "/s", "policy_path": "/p.json",
        "signature": "check", "verity": "digest", "annotation_keys": ["a", "b"],
        "allowed_uids": [0, 1000], "max_concurrent": 2, "max_json_bytes": 100,
        "max_manifest_bytes": 50, "max_blob_bytes": 70, "max_layers": 3,
        "idle_exit_seconds": 0})");
    EXPECT_EQ(config.storage_root, "/s");
    EXPECT_EQ(config.policy_path, "/p.json");
    EXPECT_EQ(config.signature, SignatureLevel::Check);
    EXPECT_EQ(config.verity, VerityLevel::Digest);
    EXPECT_EQ(config.annotation_keys, (std::vector<std::string>{"a", "b"}));
    EXPECT_EQ(config.allowed_uids, (std::vector<uid_t>{0, 1000}));
    EXPECT_EQ(config.max_concurrent, 2u);
    EXPECT_EQ(config.max_json_bytes, 100u);
    EXPECT_EQ(config.max_manifest_bytes, 50u);
    EXPECT_EQ(config.max_blob_bytes, 70u);
    EXPECT_EQ(config.max_layers, 3u);
    EXPECT_EQ(config.idle_exit_seconds, 0u);
}

struct BadConfig {
    const char* json;
    const char* named;  // what the one-line message must name
};

class ConfigRefuses : public ::testing::TestWithParam<BadConfig> {};

TEST_P(ConfigRefuses, WithMessageNamingTheProblem) {
    try {
        parse_config(GetParam().json);
        FAIL() << "accepted " << GetParam().json;
    } catch (const Error& error) {
        EXPECT_EQ(error.code(), Errc::InvalidArgument);
        EXPECT_NE(error.message().find(GetParam().named), std::string::npos) << error.message();
        EXPECT_EQ(error.message().find('\n'), std::string::npos);
    }
}

INSTANTIATE_TEST_SUITE_P(
    Table, ConfigRefuses,
    ::testing::Values(
        BadConfig{R"({"storage_rot": "/x"})",
                  R"(config key "storage_rot": expected one of storage_root, policy_path,)"},
        BadConfig{R"({"max_layers": "3"})", R"(config key "max_layers")"},
        BadConfig{R"({"max_layers": 0})",
                  R"(config key "max_layers": expected 1 to 4096, found 0)"},
        BadConfig{R"({"max_concurrent": -1})", R"(config key "max_concurrent")"},
        BadConfig{R"({"max_blob_bytes": 0})",
                  R"(config key "max_blob_bytes": expected 1 to 1099511627776, found 0)"},
        BadConfig{
            R"({"signature": "maybe"})",
            R"(config key "signature": signature level: expected off, check or require, found "maybe")"},
        BadConfig{R"({"verity": "enforced"})", R"(config key "verity": verity level)"},
        BadConfig{R"({"storage_root": "relative/path"})",
                  R"(config key "storage_root": expected an absolute path, found "relative/path")"},
        BadConfig{R"({"allowed_uids": [0, "root"]})", R"(config key "allowed_uids")"},
        BadConfig{R"({"annotation_keys": []})", R"(config key "annotation_keys")"},
        BadConfig{R"({"verity": "digest", "verity": "off"})", R"(duplicate key "verity")"},
        BadConfig{R"([1, 2])", "expected an object"},
        BadConfig{R"({"idle_exit_seconds": 1.5})", R"(config key "idle_exit_seconds")"},
        BadConfig{"{\"a\\u0007b\": 1}", R"(config key "a\u0007b")"}, BadConfig{"{", "JSON"}));

TEST(Config, UnknownKeyMessageListsExactlyTheKeysItAccepts) {
    std::string message;
    try {
        parse_config(R"({"bogus": 1})");
    } catch (const Error& error) {
        message = error.message();
    }
    const std::string start = "expected one of ";
    const auto from = message.find(start);
    const auto to = message.find(';', from);
    ASSERT_NE(from, std::string::npos) << message;
    ASSERT_NE(to, std::string::npos) << message;
    std::vector<std::string> listed;
    std::stringstream list(message.substr(from + start.size(), to - from - start.size()));
    for (std::string key; std::getline(list, key, ',');) {
        listed.push_back(key.substr(key.find_first_not_of(' ')));
    }
    EXPECT_EQ(listed.size(), 12U) << message;  // every key of DESIGN §5
    for (const auto& key : listed) {
        // A value of the wrong type for every key: refused, but never as unknown.
        try {
            parse_config("{\"" + key + "\": {}}");
            ADD_FAILURE() << key << " accepted an object";
        } catch (const Error& error) {
            EXPECT_EQ(error.message().find("unknown key"), std::string::npos) << error.message();
        }
    }
}

TEST(Config, MissingFileAtDefaultPathGivesDefaults) {
    vmd::testing::TempDir dir;
    auto config = load_config(dir.path() / "absent.json", true);
    EXPECT_EQ(config.verity, VerityLevel::Enforce);
    EXPECT_THROW(load_config(dir.path() / "absent.json", false), Error);
}

TEST(Config, FileErrorsNameThePath) {
    vmd::testing::TempDir dir;
    auto path = dir.path() / "c.json";
    vmd::testing::write_file(path, R"({"bogus": 1})");
    try {
        load_config(path, false);
        FAIL();
    } catch (const Error& error) {
        EXPECT_NE(error.message().find(path.string()), std::string::npos);
        EXPECT_NE(error.message().find("bogus"), std::string::npos);
    }
}

}  // namespace
}  // namespace vmd::config
