#include "client/reply.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>

namespace vmd::client {
namespace {

// Errors that mean "nobody answered", as the bus daemon, sd-bus and sdbus-c++ name them. Any other
// error in reply to a call was decided by someone who received it: a refusal.
constexpr std::array<std::string_view, 21> kUnreachableNames = {
    "org.freedesktop.DBus.Error.ServiceUnknown",
    "org.freedesktop.DBus.Error.NameHasNoOwner",
    "org.freedesktop.DBus.Error.NoServer",
    "org.freedesktop.DBus.Error.NoNetwork",
    "org.freedesktop.DBus.Error.FileNotFound",
    "org.freedesktop.DBus.Error.Disconnected",
    "org.freedesktop.DBus.Error.NoReply",
    "org.freedesktop.DBus.Error.Timeout",
    "org.freedesktop.DBus.Error.TimedOut",
    "org.freedesktop.DBus.Error.BadAddress",
    "System.Error.ECONNREFUSED",
    "System.Error.ECONNRESET",
    "System.Error.ECONNABORTED",
    "System.Error.ENOTCONN",
    "System.Error.EPIPE",
    "System.Error.ENOENT",
    "System.Error.ETIMEDOUT",
    "System.Error.EHOSTDOWN",
    "System.Error.EHOSTUNREACH",
    "System.Error.ENXIO",
    "System.Error.ESHUTDOWN",
};

// The bus could not start the daemon by activation (org.freedesktop.DBus.Error.Spawn.*).
constexpr std::string_view kSpawnPrefix = "org.freedesktop.DBus.Error.Spawn.";

constexpr Errc kLastErrc = Errc::Internal;

std::string_view type_name(const Value& value) {
    static constexpr std::array<std::string_view, 8> kNames = {
        "a boolean", "a signed integer", "an unsigned integer", "a double", "a string",
        "an array",  "a dict",           "an unsupported type",
    };
    return kNames[value.data.index()];
}

[[noreturn]] void bad_reply(std::string_view key, std::string_view expected, const Value& found) {
    throw ClientError(
        ErrorKind::BadReply, std::string(kBadReplyName),
        fmt::format("reply key \"{}\": expected {}, found {}", key, expected, type_name(found)));
}

const Value& require(const Value::Map& map, std::string_view key, std::string_view expected) {
    const Value* value = find(map, key);
    if (value == nullptr) {
        throw ClientError(
            ErrorKind::BadReply, std::string(kBadReplyName),
            fmt::format("reply: expected key \"{}\" ({}), found no such key", key, expected));
    }
    return *value;
}

std::string require_string(const Value::Map& map, std::string_view key) {
    const Value& value = require(map, key, "a string");
    const auto* text = std::get_if<std::string>(&value.data);
    if (text == nullptr) {
        bad_reply(key, "a string", value);
    }
    return *text;
}

std::vector<std::string> require_strings(const Value::Map& map, std::string_view key) {
    const Value& value = require(map, key, "an array of strings");
    const auto* list = std::get_if<Value::List>(&value.data);
    if (list == nullptr) {
        bad_reply(key, "an array of strings", value);
    }
    std::vector<std::string> out;
    out.reserve(list->size());
    for (const auto& item : *list) {
        const auto* text = std::get_if<std::string>(&item.data);
        if (text == nullptr) {
            bad_reply(key, "an array of strings", item);
        }
        out.push_back(*text);
    }
    return out;
}

}  // namespace

bool Value::operator==(const Value& other) const {
    return data == other.data;
}

const Value* find(const Value::Map& map, std::string_view key) {
    auto it =
        std::find_if(map.begin(), map.end(), [&](const auto& entry) { return entry.key == key; });
    return it == map.end() ? nullptr : &it->value;
}

ClientError::ClientError(ErrorKind kind, std::string name, std::string message)
    : std::runtime_error(name + ": " + message),
      kind_(kind),
      name_(std::move(name)),
      message_(std::move(message)) {}

std::optional<Errc> ClientError::daemon_error() const {
    std::string_view name = name_;
    if (!name.starts_with(kErrorPrefix)) {
        return std::nullopt;
    }
    name.remove_prefix(kErrorPrefix.size());
    for (int i = 0; i <= static_cast<int>(kLastErrc); ++i) {
        auto code = static_cast<Errc>(i);
        if (errc_name(code) == name) {
            return code;
        }
    }
    return std::nullopt;
}

ErrorKind classify_error_name(std::string_view name) {
    if (name.starts_with(kSpawnPrefix) ||
        std::find(kUnreachableNames.begin(), kUnreachableNames.end(), name) !=
            kUnreachableNames.end()) {
        return ErrorKind::Unreachable;
    }
    return ErrorKind::Refused;
}

Report report_from_map(const Value::Map& map) {
    Report report;
    report.image_id = require_string(map, "image_id");
    report.manifest_digest = require_string(map, "manifest_digest");
    report.identity = require_string(map, "identity");
    report.policy_scope = require_string(map, "policy_scope");
    report.signature = require_string(map, "signature");
    report.verity = require_string(map, "verity");

    const Value& elapsed_value = require(map, "elapsed_us", "an unsigned integer");
    const auto* elapsed = std::get_if<std::uint64_t>(&elapsed_value.data);
    if (elapsed == nullptr) {
        bad_reply("elapsed_us", "an unsigned integer", elapsed_value);
    }
    report.elapsed_us = *elapsed;

    constexpr std::string_view kLayersType = "an array of a{sv}";
    const Value& layers_value = require(map, "layers", kLayersType);
    const auto* layers = std::get_if<Value::List>(&layers_value.data);
    if (layers == nullptr) {
        bad_reply("layers", kLayersType, layers_value);
    }
    for (const auto& item : *layers) {
        const auto* layer = std::get_if<Value::Map>(&item.data);
        if (layer == nullptr) {
            bad_reply("layers", kLayersType, item);
        }
        report.layers.push_back({
            .layer_id = require_string(*layer, "layer_id"),
            .blob_digest = require_string(*layer, "blob_digest"),
            .allowed = require_strings(*layer, "allowed"),
        });
    }
    return report;
}

}  // namespace vmd::client
