// Container look-ups in overlay-containers/containers.json and volatile-containers.json.
#include "storage/io.hpp"
#include "storage/records.hpp"
#include "storage/store.hpp"

namespace vmd::storage {

namespace {
constexpr std::string_view kVolatileFile = "volatile-containers.json";
}  // namespace

ContainerRecord Store::find_container(std::string_view id_or_name) const {
    // containers/storage keeps containers created volatile (podman run --rm) in a second file
    // beside the first, as it does for layers.
    auto bytes = detail::read_locked_json(root_.get(), detail::kContainersDir, "containers.json",
                                          "containers.lock", limits_.max_json_bytes);
    auto volatile_bytes =
        detail::read_locked_json(root_.get(), detail::kContainersDir, "volatile-containers.json",
                                 "containers.lock", limits_.max_json_bytes);
    std::string empty;
    detail::ParsedJson doc(bytes ? *bytes : empty, detail::kContainersJson);
    detail::ParsedJson volatile_doc(volatile_bytes ? *volatile_bytes : empty,
                                    detail::kVolatileContainersJson);
    std::vector<detail::ContainerView> containers;
    detail::scan_containers(doc.root(), detail::kContainersJson, containers);
    detail::scan_containers(volatile_doc.root(), detail::kVolatileContainersJson, containers);

    // As containers/storage resolves: a full ID, then an exact name, then a unique ID prefix.
    // An ID or name held twice is a store contradicting itself; an ambiguous prefix is a miss.
    auto unique = [&](auto&& match, std::string_view looked_for,
                      Errc many) -> const detail::ContainerView* {
        const detail::ContainerView* found = nullptr;
        std::size_t matches = 0;
        for (const auto& container : containers) {
            if (match(container)) {
                found = &container;
                ++matches;
            }
        }
        if (matches > 1) {
            fail(many, "{}: expected one container in {} and {}, found {}", looked_for,
                 detail::kContainersJson, kVolatileFile, matches);
        }
        return found;
    };
    if (is_full_id(id_or_name)) {
        if (auto found = unique([&](const auto& c) { return c.id == id_or_name; },
                                fmt::format("container ID {}", id_or_name), Errc::StorageCorrupt)) {
            return detail::to_record(*found);
        }
    }
    if (auto found = unique([&](const auto& c) { return detail::has_name(c.names, id_or_name); },
                            fmt::format("container name {}", detail::shown(id_or_name)),
                            Errc::StorageCorrupt)) {
        return detail::to_record(*found);
    }
    if (is_id_or_prefix(id_or_name) && !is_full_id(id_or_name)) {
        if (auto found = unique([&](const auto& c) { return c.id.starts_with(id_or_name); },
                                fmt::format("container ID prefix {}", id_or_name),
                                Errc::ContainerNotFound)) {
            return detail::to_record(*found);
        }
    }
    fail(Errc::ContainerNotFound,
         "container {}: expected a container with this ID, name or ID prefix in {} or {}, found "
         "none",
         detail::shown(id_or_name), detail::kContainersJson, kVolatileFile);
}

}  // namespace vmd::storage
