#include "bus/reply.hpp"

#include <cstdint>
#include <span>
#include <string>

#include "bus/sd_ptr.hpp"
#include "common/levels.hpp"

// The build may pass the project version; the fallback keeps a library build self-contained.
#ifndef VMD_VERSION
#define VMD_VERSION "0.1.0"
#endif

namespace vmd::bus {
namespace {

/// Writes one `a{sv}`: open() on construction, entries, close() on finish().
class DictWriter {
  public:
    explicit DictWriter(sd_bus_message* message) : message_(message) {
        check(sd_bus_message_open_container(message_, SD_BUS_TYPE_ARRAY, "{sv}"), "open dict");
    }
    DictWriter(const DictWriter&) = delete;
    DictWriter& operator=(const DictWriter&) = delete;

    void string(const char* key, std::string_view value) {
        const std::string copy(value);  // sd-bus wants a NUL-terminated string
        check(sd_bus_message_append(message_, "{sv}", key, "s", copy.c_str()), key);
    }
    void boolean(const char* key, bool value) {
        check(sd_bus_message_append(message_, "{sv}", key, "b", static_cast<int>(value)), key);
    }
    void u32(const char* key, std::uint32_t value) {
        check(sd_bus_message_append(message_, "{sv}", key, "u", value), key);
    }
    void u64(const char* key, std::uint64_t value) {
        check(sd_bus_message_append(message_, "{sv}", key, "t", value), key);
    }
    void strings(const char* key, std::span<const std::string> values) {
        open(key, "as");
        check(sd_bus_message_open_container(message_, SD_BUS_TYPE_ARRAY, "s"), key);
        for (const auto& value : values) {
            check(sd_bus_message_append_basic(message_, SD_BUS_TYPE_STRING, value.c_str()), key);
        }
        check(sd_bus_message_close_container(message_), key);
        close();
    }
    template <typename Uint>
    void u32s(const char* key, std::span<const Uint> values) {
        open(key, "au");
        check(sd_bus_message_open_container(message_, SD_BUS_TYPE_ARRAY, "u"), key);
        for (auto value : values) {
            const auto u = static_cast<std::uint32_t>(value);
            check(sd_bus_message_append_basic(message_, SD_BUS_TYPE_UINT32, &u), key);
        }
        check(sd_bus_message_close_container(message_), key);
        close();
    }
    /// Opens the entry `key` holding a variant of `signature`; the caller appends the value.
    void open(const char* key, const char* signature) {
        check(sd_bus_message_open_container(message_, SD_BUS_TYPE_DICT_ENTRY, "sv"), key);
        check(sd_bus_message_append_basic(message_, SD_BUS_TYPE_STRING, key), key);
        check(sd_bus_message_open_container(message_, SD_BUS_TYPE_VARIANT, signature), key);
    }
    /// Closes what open() opened.
    void close() {
        check(sd_bus_message_close_container(message_), "close variant");
        check(sd_bus_message_close_container(message_), "close dict entry");
    }
    void finish() { check(sd_bus_message_close_container(message_), "close dict"); }

  private:
    sd_bus_message* message_;
};

void append_layers(sd_bus_message* message, const service::Report& report) {
    check(sd_bus_message_open_container(message, SD_BUS_TYPE_ARRAY, "a{sv}"), "layers");
    for (const auto& layer : report.layers) {
        DictWriter dict(message);
        dict.string("layer_id", layer.layer_id);
        dict.string("blob_digest", layer.blob_digest);
        dict.strings("allowed", layer.allowed);
        dict.finish();
    }
    check(sd_bus_message_close_container(message), "layers");
}

void append_kernel(sd_bus_message* message, const mount::KernelFeatures& kernel) {
    DictWriter dict(message);
    dict.boolean("fs_verity", kernel.fs_verity);
    dict.boolean("overlay_verity", kernel.overlay_verity);
    dict.boolean("overlay_lowerdir_plus", kernel.overlay_lowerdir_plus);
    dict.boolean("erofs_file_backed", kernel.erofs_file_backed);
    dict.boolean("detached_layers", kernel.detached_layers);
    dict.finish();
}

void append_config(sd_bus_message* message, const config::Config& config) {
    DictWriter dict(message);
    dict.string("storage_root", config.storage_root.string());
    dict.string("policy_path", config.policy_path.string());
    dict.string("signature", to_string(config.signature));
    dict.string("verity", to_string(config.verity));
    dict.strings("annotation_keys", config.annotation_keys);
    dict.u32s<uid_t>("allowed_uids", config.allowed_uids);
    dict.u32("max_concurrent", config.max_concurrent);
    dict.u64("max_json_bytes", config.max_json_bytes);
    dict.u64("max_manifest_bytes", config.max_manifest_bytes);
    dict.u64("max_blob_bytes", config.max_blob_bytes);
    dict.u32("max_layers", config.max_layers);
    dict.u32("idle_exit_seconds", config.idle_exit_seconds);
    dict.finish();
}

}  // namespace

std::string_view daemon_version() {
    return VMD_VERSION;
}

void append_report(sd_bus_message* message, const service::Report& report) {
    DictWriter dict(message);
    dict.string("image_id", report.image_id);
    dict.string("manifest_digest", report.manifest_digest);
    dict.string("identity", report.identity);
    dict.string("policy_scope", report.policy_scope);
    dict.string("signature", to_string(report.signature));
    dict.string("verity", to_string(report.verity));
    dict.open("layers", "aa{sv}");
    append_layers(message, report);
    dict.close();
    dict.u64("elapsed_us", report.elapsed_us);
    dict.finish();
}

void append_status(sd_bus_message* message, const service::Service& service) {
    const service::Counters counters = service.counters();
    DictWriter dict(message);
    dict.string("version", daemon_version());
    dict.open("kernel", "a{sv}");
    append_kernel(message, service.kernel());
    dict.close();
    dict.open("config", "a{sv}");
    append_config(message, service.config());
    dict.close();
    dict.u64("requests", counters.requests);
    dict.u64("mounts", counters.mounts);
    dict.u64("refusals", counters.refusals);
    dict.finish();
}

}  // namespace vmd::bus
