#include "client/reply_decode.hpp"

#include <fcntl.h>
#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace vmd::client {
namespace {

[[noreturn]] void bad_reply(const std::string& message) {
    throw ClientError(ErrorKind::BadReply, std::string(kBadReplyName), message);
}

/// The D-Bus signature of the value at `message`'s read position; "" at the end of the message
/// or of the container being read. Peeking first lets a reply of another shape be a BadReply
/// that names it, where reading it blindly fails in sd-bus with ENXIO.
std::string next_signature(sdbus::Message& message) {
    std::string type;
    std::string contents;
    message.peekType(type, contents);
    if (type.empty() || type.front() == '\0') {
        return "";
    }
    switch (type.front()) {
        case 'a':
            return "a" + contents;
        case 'r':
            return "(" + contents + ")";
        case 'e':
            return "{" + contents + "}";
        default:
            return type;
    }
}

std::string shown_signature(const std::string& signature) {
    return signature.empty() ? "nothing" : "type " + signature;
}

/// One a{sv} of a reply, read into the fields registered with field(): each contract key with
/// the D-Bus type the contract gives it.
class MapReader {
  public:
    using ReadValue = std::function<void(sdbus::Message&)>;

    /// `where` names the map in messages: "reply", "reply kernel", "reply layers[1]".
    explicit MapReader(std::string where) : where_(std::move(where)) {}

    /// Reads `key` into `out`, which must hold exactly the D-Bus type of T.
    template <typename T>
    MapReader& field(std::string_view key, T& out) {
        return field(key, sdbus::signature_of<T>::str(), [&out](sdbus::Message& m) { m >> out; });
    }
    /// Reads `key`, of D-Bus type `signature`, with `read` (for values that are maps).
    MapReader& field(std::string_view key, std::string signature, ReadValue read) {
        fields_.push_back({key, std::move(signature), std::move(read), false});
        return *this;
    }

    /// Reads the map at `message`'s read position; false at the end of the message or of the
    /// enclosing array (no map there). A value of another type there is a BadReply.
    bool read(sdbus::Message& message) {
        const std::string found = next_signature(message);
        if (found.empty()) {
            return false;
        }
        if (found != "a{sv}") {
            bad_reply(fmt::format("{}: expected a map of type a{{sv}}, found {}", where_,
                                  shown_signature(found)));
        }
        message.enterContainer("{sv}");
        while (message.enterDictEntry("sv")) {
            std::string key;
            message >> key;
            read_value(message, key);
            message.exitDictEntry();
        }
        message.clearFlags();
        message.exitContainer();
        for (const auto& field : fields_) {
            if (!field.seen) {
                bad_reply(fmt::format("{}: expected key \"{}\" of type {}, found no such key",
                                      where_, field.key, field.signature));
            }
        }
        return true;
    }
    /// Reads the map that must stand at `message`'s read position.
    void read_whole(sdbus::Message& message) {
        if (!read(message)) {
            bad_reply(fmt::format("{}: expected a map of type a{{sv}}, found nothing", where_));
        }
    }

  private:
    struct Field {
        std::string_view key;
        std::string signature;
        ReadValue read;
        bool seen;
    };

    void read_value(sdbus::Message& message, const std::string& key) {
        auto field = std::find_if(fields_.begin(), fields_.end(),
                                  [&](const Field& candidate) { return candidate.key == key; });
        if (field == fields_.end()) {
            sdbus::Variant skipped;
            message >> skipped;
            return;
        }
        std::string type;
        std::string contents;
        message.peekType(type, contents);
        if (contents != field->signature) {
            bad_reply(fmt::format("{} key \"{}\": expected type {}, found type {}", where_, key,
                                  field->signature, contents));
        }
        message.enterVariant(contents);
        field->read(message);
        message.exitVariant();
        field->seen = true;
    }

    std::string where_;
    std::vector<Field> fields_;
};

/// Reads an aa{sv} of layer reports (the variant's contents, entered).
void read_layers(sdbus::Message& message, std::vector<LayerReport>& layers) {
    message.enterContainer("a{sv}");
    for (;;) {
        LayerReport layer;
        MapReader reader(fmt::format("reply layers[{}]", layers.size()));
        reader.field("layer_id", layer.layer_id)
            .field("blob_digest", layer.blob_digest)
            .field("allowed", layer.allowed);
        if (!reader.read(message)) {
            break;
        }
        layers.push_back(std::move(layer));
    }
    message.exitContainer();
}

/// How a field whose value is a nested a{sv} (kernel, config) is read: by `inner`.
MapReader::ReadValue nested(MapReader& inner) {
    return [&inner](sdbus::Message& message) { inner.read_whole(message); };
}

}  // namespace

UniqueFd read_rootfs(sdbus::Message& reply) {
    const std::string found = next_signature(reply);
    if (found != "h") {
        bad_reply(fmt::format("Mount reply: expected the rootfs as type h first, found {}",
                              shown_signature(found)));
    }
    sdbus::UnixFd fd;
    reply >> fd;
    // sdbus-c++ duplicated the received fd without O_CLOEXEC; the caller's copy must not leak
    // into programs it starts.
    UniqueFd rootfs(fd.release());
    if (!rootfs || ::fcntl(rootfs.get(), F_SETFD, FD_CLOEXEC) != 0) {
        bad_reply("Mount reply: expected a usable rootfs file descriptor, found none");
    }
    return rootfs;
}

Report read_report(sdbus::Message& reply) {
    Report report;
    MapReader reader("reply");
    reader.field("image_id", report.image_id)
        .field("manifest_digest", report.manifest_digest)
        .field("identity", report.identity)
        .field("policy_scope", report.policy_scope)
        .field("signature", report.signature)
        .field("verity", report.verity)
        .field("layers", "aa{sv}",
               [&report](sdbus::Message& message) { read_layers(message, report.layers); })
        .field("elapsed_us", report.elapsed_us);
    reader.read_whole(reply);
    return report;
}

Status read_status(sdbus::Message& reply) {
    Status status;
    MapReader kernel("reply kernel");
    kernel.field("fs_verity", status.kernel.fs_verity)
        .field("overlay_verity", status.kernel.overlay_verity)
        .field("overlay_lowerdir_plus", status.kernel.overlay_lowerdir_plus)
        .field("erofs_file_backed", status.kernel.erofs_file_backed)
        .field("detached_layers", status.kernel.detached_layers);
    auto& config = status.config;
    MapReader settings("reply config");
    settings.field("storage_root", config.storage_root)
        .field("policy_path", config.policy_path)
        .field("signature", config.signature)
        .field("verity", config.verity)
        .field("annotation_keys", config.annotation_keys)
        .field("allowed_uids", config.allowed_uids)
        .field("max_concurrent", config.max_concurrent)
        .field("max_json_bytes", config.max_json_bytes)
        .field("max_manifest_bytes", config.max_manifest_bytes)
        .field("max_blob_bytes", config.max_blob_bytes)
        .field("max_layers", config.max_layers)
        .field("idle_exit_seconds", config.idle_exit_seconds);
    MapReader reader("reply");
    reader.field("version", status.version)
        .field("kernel", "a{sv}", nested(kernel))
        .field("config", "a{sv}", nested(settings))
        .field("requests", status.requests)
        .field("mounts", status.mounts)
        .field("refusals", status.refusals);
    reader.read_whole(reply);
    return status;
}

}  // namespace vmd::client
