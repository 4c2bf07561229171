#include "client/ctl/format.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <optional>

#include "common/json.hpp"

namespace vmd::ctl {
namespace {

using client::Value;
using json::quote;

constexpr int kLabelWidth = 17;
constexpr std::size_t kShortIdLength = 12;

void line(std::string& out, std::string_view label, std::string_view value) {
    fmt::format_to(std::back_inserter(out), "{:<{}}{}\n", label, kLabelWidth, value);
}

std::string scope_text(std::string_view scope) {
    if (scope.empty()) {
        return "\"\" (the docker transport's default)";
    }
    if (scope == "default") {
        return "default (the policy's default)";
    }
    return std::string(scope);
}

// A value that fits on one line, or nullopt for dicts and arrays holding dicts or arrays.
std::optional<std::string> scalar_text(const Value& value) {
    struct Visitor {
        std::optional<std::string> operator()(bool b) const { return b ? "true" : "false"; }
        std::optional<std::string> operator()(std::int64_t n) const { return fmt::format("{}", n); }
        std::optional<std::string> operator()(std::uint64_t n) const {
            return fmt::format("{}", n);
        }
        std::optional<std::string> operator()(double d) const { return fmt::format("{}", d); }
        std::optional<std::string> operator()(const std::string& s) const {
            return s.empty() ? "\"\"" : s;
        }
        std::optional<std::string> operator()(const Value::List& list) const {
            if (list.empty()) {
                return "(none)";
            }
            std::string joined;
            for (const auto& item : list) {
                auto text = scalar_text(item);
                if (!text || std::holds_alternative<Value::List>(item.data)) {
                    return std::nullopt;
                }
                joined += joined.empty() ? *text : ", " + *text;
            }
            return joined;
        }
        std::optional<std::string> operator()(const Value::Map& map) const {
            return map.empty() ? std::optional<std::string>("(none)") : std::nullopt;
        }
        std::optional<std::string> operator()(const client::Opaque& opaque) const {
            return fmt::format("(a value of D-Bus type {})", opaque.signature);
        }
    };
    return std::visit(Visitor{}, value.data);
}

void write_map(std::string& out, const Value::Map& map, std::size_t indent);

void write_entry(std::string& out, std::string_view key, const Value& value, std::size_t indent,
                 std::size_t width) {
    std::string pad(indent, ' ');
    if (auto text = scalar_text(value)) {
        fmt::format_to(std::back_inserter(out), "{}{:<{}}{}\n", pad, key, width, *text);
        return;
    }
    fmt::format_to(std::back_inserter(out), "{}{}\n", pad, key);
    if (const auto* map = std::get_if<Value::Map>(&value.data)) {
        write_map(out, *map, indent + 2);
        return;
    }
    // An array holding dicts or arrays: one numbered block per item.
    const auto& list = std::get<Value::List>(value.data);
    for (std::size_t i = 0; i < list.size(); ++i) {
        write_entry(out, fmt::format("[{}]", i), list[i], indent + 2, 6);
    }
}

void write_map(std::string& out, const Value::Map& map, std::size_t indent) {
    std::size_t width = 0;
    for (const auto& [key, value] : map) {
        width = std::max(width, key.size());
    }
    for (const auto& [key, value] : map) {
        write_entry(out, key, value, indent, width + 2);
    }
}

void append_json(std::string& out, const Value& value) {
    struct Visitor {
        std::string& out;
        void operator()(bool b) const { out += b ? "true" : "false"; }
        void operator()(std::int64_t n) const { fmt::format_to(std::back_inserter(out), "{}", n); }
        void operator()(std::uint64_t n) const { fmt::format_to(std::back_inserter(out), "{}", n); }
        void operator()(double d) const {
            // JSON has no NaN or infinity.
            if (std::isfinite(d)) {
                fmt::format_to(std::back_inserter(out), "{}", d);
            } else {
                out += "null";
            }
        }
        void operator()(const std::string& s) const { out += quote(s); }
        void operator()(const Value::List& list) const {
            out += '[';
            for (std::size_t i = 0; i < list.size(); ++i) {
                out += i == 0 ? "" : ", ";
                append_json(out, list[i]);
            }
            out += ']';
        }
        void operator()(const Value::Map& map) const {
            out += '{';
            for (std::size_t i = 0; i < map.size(); ++i) {
                out += i == 0 ? "" : ", ";
                out += quote(map[i].key);
                out += ": ";
                append_json(out, map[i].value);
            }
            out += '}';
        }
        void operator()(const client::Opaque&) const { out += "null"; }
    };
    std::visit(Visitor{out}, value.data);
}

}  // namespace

std::string report_text(const client::Report& report, std::string_view target) {
    std::string out;
    line(out, "image", report.image_id);
    line(out, "identity", report.identity);
    line(out, "manifest digest", report.manifest_digest);
    line(out, "policy scope", scope_text(report.policy_scope));
    line(out, "levels", fmt::format("signature={} verity={}", report.signature, report.verity));
    for (std::size_t i = 0; i < report.layers.size(); ++i) {
        const auto& layer = report.layers[i];
        std::string_view id = layer.layer_id;
        line(out, fmt::format("layer {}", i + 1),
             fmt::format("{}  {}", id.substr(0, kShortIdLength),
                         layer.blob_digest.empty() ? "(not measured)" : layer.blob_digest));
    }
    line(out, "elapsed", fmt::format("{:.3f} ms", static_cast<double>(report.elapsed_us) / 1000.0));
    if (!target.empty()) {
        line(out, "mounted on", target);
    }
    return out;
}

std::string report_json(const client::Report& report) {
    Value::List layers;
    for (const auto& layer : report.layers) {
        Value::List allowed;
        for (const auto& digest : layer.allowed) {
            allowed.push_back(Value{digest});
        }
        layers.push_back(Value{Value::Map{
            {"layer_id", Value{layer.layer_id}},
            {"blob_digest", Value{layer.blob_digest}},
            {"allowed", Value{std::move(allowed)}},
        }});
    }
    Value tree{Value::Map{
        {"image_id", Value{report.image_id}},
        {"manifest_digest", Value{report.manifest_digest}},
        {"identity", Value{report.identity}},
        {"policy_scope", Value{report.policy_scope}},
        {"signature", Value{report.signature}},
        {"verity", Value{report.verity}},
        {"layers", Value{std::move(layers)}},
        {"elapsed_us", Value{report.elapsed_us}},
    }};
    return value_json(tree);
}

std::string status_text(const Value::Map& status) {
    std::string out;
    write_map(out, status, 0);
    return out;
}

std::string value_json(const Value& value) {
    std::string out;
    append_json(out, value);
    out += '\n';
    return out;
}

std::string digests_text(std::span<const FileDigest> digests) {
    std::string out;
    for (const auto& file : digests) {
        if (file.error.empty()) {
            fmt::format_to(std::back_inserter(out), "{}  {}\n", file.digest, file.path);
        }
    }
    return out;
}

std::string digests_json(std::span<const FileDigest> digests) {
    Value::List list;
    for (const auto& file : digests) {
        if (file.error.empty()) {
            list.push_back(
                Value{Value::Map{{"path", Value{file.path}}, {"digest", Value{file.digest}}}});
        }
    }
    return value_json(Value{std::move(list)});
}

}  // namespace vmd::ctl
