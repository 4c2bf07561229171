#include "config/config.hpp"

#include <array>
#include <limits>
#include <string>

#include "common/error.hpp"
#include "common/file_read.hpp"
#include "common/json.hpp"
#include "common/key_table.hpp"

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

using KeyReader = void (*)(Config& config, json::Element value, const KeyContext& key);

// DESIGN §5's keys in its order, which is also the order of the "expected one of" list.
constexpr std::array<KeyEntry<KeyReader>, 12> kKeys = {{
    {"storage_root",
     [](Config& c, json::Element v, const KeyContext& k) { c.storage_root = absolute_path(v, k); }},
    {"policy_path",
     [](Config& c, json::Element v, const KeyContext& k) { c.policy_path = absolute_path(v, k); }},
    {"signature", [](Config& c, json::Element v,
                     const KeyContext& k) { c.signature = level(v, k, parse_signature_level); }},
    {"verity", [](Config& c, json::Element v,
                  const KeyContext& k) { c.verity = level(v, k, parse_verity_level); }},
    {"annotation_keys",
     [](Config& c, json::Element v, const KeyContext& k) {
         c.annotation_keys = json::expect_string_array(v, k.context());
         if (c.annotation_keys.empty()) {
             fail(Errc::InvalidArgument, "{}: expected at least one key, found none", k.what);
         }
     }},
    {"allowed_uids",
     [](Config& c, json::Element v, const KeyContext& k) {
         c.allowed_uids.clear();
         for (auto item : json::expect_array(v, k.context())) {
             c.allowed_uids.push_back(
                 bounded<uid_t>(item, k, 0, std::numeric_limits<uid_t>::max() - 1));
         }
     }},
    {"max_concurrent",
     [](Config& c, json::Element v, const KeyContext& k) {
         c.max_concurrent = bounded<unsigned>(v, k, 1, 1024);
     }},
    {"max_json_bytes",
     [](Config& c, json::Element v, const KeyContext& k) {
         c.max_json_bytes = bounded<std::uint64_t>(v, k, 1, 1ULL << 32);
     }},
    {"max_manifest_bytes",
     [](Config& c, json::Element v, const KeyContext& k) {
         c.max_manifest_bytes = bounded<std::uint64_t>(v, k, 1, 1ULL << 30);
     }},
    {"max_blob_bytes",
     [](Config& c, json::Element v, const KeyContext& k) {
         c.max_blob_bytes = bounded<std::uint64_t>(v, k, 1, 1ULL << 40);
     }},
    {"max_layers", [](Config& c, json::Element v,
                      const KeyContext& k) { c.max_layers = bounded<unsigned>(v, k, 1, 4096); }},
    {"idle_exit_seconds",
     [](Config& c, json::Element v, const KeyContext& k) {
         c.idle_exit_seconds = bounded<unsigned>(v, k, 0, 86400ULL * 365);
     }},
}};

}  // namespace

Config parse_config(std::string_view text) {
    auto doc = json::Document::parse(text, Errc::InvalidArgument, "config");
    auto object = json::expect_object(doc.root(), {Errc::InvalidArgument, "config"});
    Config config;
    // expect_object has refused duplicate keys already.
    for (auto field : object) {
        const auto key = key_context(field.key);
        auto index = find_key(kKeys, field.key);
        if (!index) {
            fail(Errc::InvalidArgument, "{}: expected one of {}; found an unknown key", key.what,
                 key_list(kKeys));
        }
        kKeys[*index].read(config, field.value, key);
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
