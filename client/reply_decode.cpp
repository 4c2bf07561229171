#include "client/reply_decode.hpp"

#include <fmt/format.h>

#include <cstdint>
#include <string_view>
#include <vector>

namespace vmd::client {
namespace {

[[noreturn]] void bad_reply(const std::string& message) {
    throw ClientError(ErrorKind::BadReply, std::string(kBadReplyName), message);
}

/// The contract's keys of one reply map, each read with the D-Bus type the contract gives it.
class MapReader {
  public:
    /// `where` names the map in messages: "reply", "reply kernel", "reply layers[1]".
    MapReader(const VariantMap& map, std::string where) : map_(map), where_(std::move(where)) {}

    /// The value of `key`, which must hold exactly the D-Bus type of T.
    template <typename T>
    T get(std::string_view key) const {
        const std::string expected = sdbus::signature_of<T>::str();
        auto it = map_.find(std::string(key));
        if (it == map_.end()) {
            bad_reply(fmt::format("{}: expected key \"{}\" of type {}, found no such key", where_,
                                  key, expected));
        }
        if (!it->second.template containsValueOfType<T>()) {
            bad_reply(fmt::format("{} key \"{}\": expected type {}, found type {}", where_, key,
                                  expected, it->second.peekValueType()));
        }
        try {
            return it->second.template get<T>();
        } catch (const sdbus::Error& error) {
            bad_reply(fmt::format("{} key \"{}\": {}", where_, key, error.getMessage()));
        }
    }

  private:
    const VariantMap& map_;
    std::string where_;
};

}  // namespace

Report report_from_reply(const VariantMap& map) {
    const MapReader reply(map, "reply");
    Report report;
    report.image_id = reply.get<std::string>("image_id");
    report.manifest_digest = reply.get<std::string>("manifest_digest");
    report.identity = reply.get<std::string>("identity");
    report.policy_scope = reply.get<std::string>("policy_scope");
    report.signature = reply.get<std::string>("signature");
    report.verity = reply.get<std::string>("verity");
    const auto layers = reply.get<std::vector<VariantMap>>("layers");
    report.layers.reserve(layers.size());
    for (std::size_t i = 0; i < layers.size(); ++i) {
        const MapReader layer(layers[i], fmt::format("reply layers[{}]", i));
        report.layers.push_back({
            .layer_id = layer.get<std::string>("layer_id"),
            .blob_digest = layer.get<std::string>("blob_digest"),
            .allowed = layer.get<std::vector<std::string>>("allowed"),
        });
    }
    report.elapsed_us = reply.get<std::uint64_t>("elapsed_us");
    return report;
}

Status status_from_reply(const VariantMap& map) {
    const MapReader reply(map, "reply");
    Status status;
    status.version = reply.get<std::string>("version");

    const auto kernel_map = reply.get<VariantMap>("kernel");
    const MapReader kernel(kernel_map, "reply kernel");
    status.kernel = {
        .fs_verity = kernel.get<bool>("fs_verity"),
        .overlay_verity = kernel.get<bool>("overlay_verity"),
        .overlay_lowerdir_plus = kernel.get<bool>("overlay_lowerdir_plus"),
        .erofs_file_backed = kernel.get<bool>("erofs_file_backed"),
        .detached_layers = kernel.get<bool>("detached_layers"),
    };

    const auto config_map = reply.get<VariantMap>("config");
    const MapReader config(config_map, "reply config");
    status.config = {
        .storage_root = config.get<std::string>("storage_root"),
        .policy_path = config.get<std::string>("policy_path"),
        .signature = config.get<std::string>("signature"),
        .verity = config.get<std::string>("verity"),
        .annotation_keys = config.get<std::vector<std::string>>("annotation_keys"),
        .allowed_uids = config.get<std::vector<std::uint32_t>>("allowed_uids"),
        .max_concurrent = config.get<std::uint32_t>("max_concurrent"),
        .max_json_bytes = config.get<std::uint64_t>("max_json_bytes"),
        .max_manifest_bytes = config.get<std::uint64_t>("max_manifest_bytes"),
        .max_blob_bytes = config.get<std::uint64_t>("max_blob_bytes"),
        .max_layers = config.get<std::uint32_t>("max_layers"),
        .idle_exit_seconds = config.get<std::uint32_t>("idle_exit_seconds"),
    };

    status.requests = reply.get<std::uint64_t>("requests");
    status.mounts = reply.get<std::uint64_t>("mounts");
    status.refusals = reply.get<std::uint64_t>("refusals");
    return status;
}

}  // namespace vmd::client
