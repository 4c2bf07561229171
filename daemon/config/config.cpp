#include "config/config.hpp"

#include <limits>
#include <string>

#include "common/error.hpp"
#include "common/file_read.hpp"
#include "common/json.hpp"

namespace vmd::config {
namespace {

constexpr std::uint64_t kMaxConfigBytes = 1 << 20;

/// The error context of one key: every message about it starts "config key "KEY"".
struct KeyContext {
    std::string what;
    json::Context context() const { return {Errc::InvalidArgument, what}; }
};

KeyContext key_context(std::string_view key) {
    return {"config key " + json::quote(key)};
}

template <typename Number>
Number bounded(json::Element element, const KeyContext& key, std::uint64_t min, std::uint64_t max) {
    auto value = json::expect_uint(element, key.context());
    if (value < min || value > max) {
        fail(Errc::InvalidArgument, "{}: expected {} to {}, found {}", key.what, min, max, value);
    }
    return static_cast<Number>(value);
}

std::filesystem::path absolute_path(json::Element element, const KeyContext& key) {
    auto text = json::expect_string(element, key.context());
    if (text.empty() || text.front() != '/') {
        fail(Errc::InvalidArgument, "{}: expected an absolute path, found {}", key.what,
             json::quote(text));
    }
    return std::filesystem::path(text);
}

template <typename Parse>
auto level(json::Element element, const KeyContext& key, Parse parse) {
    auto text = json::expect_string(element, key.context());
    try {
        return parse(text);
    } catch (const Error& error) {
        throw Error(error.code(), key.what + ": " + error.message());
    }
}

void apply(Config& config, std::string_view name, json::Element value) {
    const auto key = key_context(name);
    if (name == "storage_root") {
        config.storage_root = absolute_path(value, key);
    } else if (name == "policy_path") {
        config.policy_path = absolute_path(value, key);
    } else if (name == "signature") {
        config.signature = level(value, key, parse_signature_level);
    } else if (name == "verity") {
        config.verity = level(value, key, parse_verity_level);
    } else if (name == "annotation_keys") {
        config.annotation_keys = json::expect_string_array(value, key.context());
        if (config.annotation_keys.empty()) {
            fail(Errc::InvalidArgument, "{}: expected at least one key, found none", key.what);
        }
    } else if (name == "allowed_uids") {
        config.allowed_uids.clear();
        for (auto item : json::expect_array(value, key.context())) {
            config.allowed_uids.push_back(
                bounded<uid_t>(item, key, 0, std::numeric_limits<uid_t>::max() - 1));
        }
    } else if (name == "max_concurrent") {
        config.max_concurrent = bounded<unsigned>(value, key, 1, 1024);
    } else if (name == "max_json_bytes") {
        config.max_json_bytes = bounded<std::uint64_t>(value, key, 1, 1ull << 32);
    } else if (name == "max_manifest_bytes") {
        config.max_manifest_bytes = bounded<std::uint64_t>(value, key, 1, 1ull << 30);
    } else if (name == "max_layers") {
        config.max_layers = bounded<unsigned>(value, key, 1, 4096);
    } else if (name == "idle_exit_seconds") {
        config.idle_exit_seconds = bounded<unsigned>(value, key, 0, 86400ULL * 365);
    } else {
        fail(Errc::InvalidArgument,
             "{}: expected one of storage_root, policy_path, signature, verity, annotation_keys, "
             "allowed_uids, max_concurrent, max_json_bytes, max_manifest_bytes, max_layers, "
             "idle_exit_seconds; found an unknown key",
             key.what);
    }
}

}  // namespace

Config parse_config(std::string_view text) {
    auto doc = json::Document::parse(text, Errc::InvalidArgument, "config");
    auto object = json::expect_object(doc.root(), {Errc::InvalidArgument, "config"});
    Config config;
    for (auto field : object) {
        apply(config, field.key, field.value);
    }
    return config;
}

Config load_config(const std::filesystem::path& path, bool missing_is_default) {
    const std::string what = "config " + path.string();
    auto text =
        read_regular_file(path, {what, kMaxConfigBytes, Errc::InvalidArgument}, missing_is_default);
    if (!text) {
        return Config{};
    }
    try {
        return parse_config(*text);
    } catch (const Error& error) {
        throw Error(error.code(), path.string() + ": " + error.message());
    }
}

}  // namespace vmd::config
