#include "client/ctl/format.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <type_traits>
#include <vector>

#include "common/json.hpp"

namespace vmd::ctl {
namespace {

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

/// One key of structured output, its value rendered both ways, or a nested block of keys.
struct Field {
    std::string key;
    std::string text;           // the value on one line, for people
    std::string json;           // the value as JSON
    std::vector<Field> fields;  // non-empty: a nested object (text and json unused)
};

Field flag_field(std::string key, bool value) {
    std::string text = value ? "true" : "false";
    return {std::move(key), text, text, {}};
}

Field number_field(std::string key, std::uint64_t value) {
    std::string text = fmt::format("{}", value);
    return {std::move(key), text, text, {}};
}

Field string_field(std::string key, const std::string& value) {
    return {std::move(key), value.empty() ? "\"\"" : value, quote(value), {}};
}

template <typename Item>
Field list_field(std::string key, const std::vector<Item>& items) {
    std::string text;
    std::string json = "[";
    for (const auto& item : items) {
        const bool first = json.size() == 1;
        if constexpr (std::is_same_v<Item, std::string>) {
            text += (first ? "" : ", ") + item;
            json += (first ? "" : ", ") + quote(item);
        } else {
            text += fmt::format("{}{}", first ? "" : ", ", item);
            json += fmt::format("{}{}", first ? "" : ", ", item);
        }
    }
    return {std::move(key), items.empty() ? "(none)" : text, json + "]", {}};
}

Field block_field(std::string key, std::vector<Field> fields) {
    return {std::move(key), {}, {}, std::move(fields)};
}

/// "key  value" lines, values aligned two columns after the longest key; blocks indented by 2.
void write_text(std::string& out, const std::vector<Field>& fields, std::size_t indent) {
    std::size_t width = 0;
    for (const auto& field : fields) {
        width = std::max(width, field.key.size());
    }
    const std::string pad(indent, ' ');
    for (const auto& field : fields) {
        if (field.fields.empty()) {
            fmt::format_to(std::back_inserter(out), "{}{:<{}}{}\n", pad, field.key, width + 2,
                           field.text);
        } else {
            fmt::format_to(std::back_inserter(out), "{}{}\n", pad, field.key);
            write_text(out, field.fields, indent + 2);
        }
    }
}

/// The fields as one JSON object, in their order.
std::string object_json(const std::vector<Field>& fields) {
    std::string out = "{";
    for (const auto& field : fields) {
        out += out.size() == 1 ? "" : ", ";
        out += quote(field.key);
        out += ": ";
        out += field.fields.empty() ? field.json : object_json(field.fields);
    }
    return out + "}";
}

/// JSON objects as one array.
std::string array_json(const std::vector<std::string>& objects) {
    std::string out = "[";
    for (const auto& object : objects) {
        out += out.size() == 1 ? "" : ", ";
        out += object;
    }
    return out + "]";
}

/// GetStatus as fields, keys sorted at every level as the daemon's dictionaries are.
std::vector<Field> status_fields(const client::Status& status) {
    const auto& k = status.kernel;
    const auto& c = status.config;
    return {
        block_field(
            "config",
            {list_field("allowed_uids", c.allowed_uids),
             list_field("annotation_keys", c.annotation_keys),
             number_field("idle_exit_seconds", c.idle_exit_seconds),
             number_field("max_blob_bytes", c.max_blob_bytes),
             number_field("max_concurrent", c.max_concurrent),
             number_field("max_json_bytes", c.max_json_bytes),
             number_field("max_layers", c.max_layers),
             number_field("max_manifest_bytes", c.max_manifest_bytes),
             string_field("policy_path", c.policy_path), string_field("signature", c.signature),
             string_field("storage_root", c.storage_root), string_field("verity", c.verity)}),
        block_field("kernel", {flag_field("detached_layers", k.detached_layers),
                               flag_field("erofs_file_backed", k.erofs_file_backed),
                               flag_field("fs_verity", k.fs_verity),
                               flag_field("overlay_lowerdir_plus", k.overlay_lowerdir_plus),
                               flag_field("overlay_verity", k.overlay_verity)}),
        number_field("mounts", status.mounts),
        number_field("refusals", status.refusals),
        number_field("requests", status.requests),
        string_field("version", status.version),
    };
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
    std::vector<std::string> layers;
    layers.reserve(report.layers.size());
    for (const auto& layer : report.layers) {
        layers.push_back(object_json({string_field("layer_id", layer.layer_id),
                                      string_field("blob_digest", layer.blob_digest),
                                      list_field("allowed", layer.allowed)}));
    }
    Field layers_field{"layers", {}, array_json(layers), {}};
    return object_json({string_field("image_id", report.image_id),
                        string_field("manifest_digest", report.manifest_digest),
                        string_field("identity", report.identity),
                        string_field("policy_scope", report.policy_scope),
                        string_field("signature", report.signature),
                        string_field("verity", report.verity), std::move(layers_field),
                        number_field("elapsed_us", report.elapsed_us)}) +
           "\n";
}

std::string status_text(const client::Status& status) {
    std::string out;
    write_text(out, status_fields(status), 0);
    return out;
}

std::string status_json(const client::Status& status) {
    return object_json(status_fields(status)) + "\n";
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
    std::vector<std::string> objects;
    for (const auto& file : digests) {
        if (file.error.empty()) {
            objects.push_back(object_json(
                {string_field("path", file.path), string_field("digest", file.digest)}));
        }
    }
    return array_json(objects) + "\n";
}

}  // namespace vmd::ctl
