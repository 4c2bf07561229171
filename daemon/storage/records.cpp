#include "storage/records.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "common/key_table.hpp"
#include "storage/io.hpp"

namespace vmd::storage::detail {
namespace {

// A parser keeps its buffers between documents: reallocating them costs page faults on every
// request (on a 33 MiB store, three quarters of the look-up's time). Buffers grown past
// kKeepParserCapacity are kept only while requests come (release_large_parsers() drops them once
// the daemon is idle), so a hostile store pins no more than its requests in flight use anyway.
// The pool holds as many parsers as documents were ever open at once (a few per request in
// flight), not a set per worker thread.
constexpr std::size_t kKeepParserCapacity = 8u << 20;

class ParserPool {
  public:
    std::unique_ptr<simdjson::dom::parser> take() {
        {
            std::lock_guard lock(mutex_);
            if (!idle_.empty()) {
                auto parser = std::move(idle_.back());
                idle_.pop_back();
                return parser;
            }
        }
        return std::make_unique<simdjson::dom::parser>();
    }

    void give_back(std::unique_ptr<simdjson::dom::parser> parser) noexcept {
        if (!parser) {
            return;
        }
        try {
            std::lock_guard lock(mutex_);
            idle_.push_back(std::move(parser));
        } catch (...) {  // no room to keep it: it goes
        }
    }

    void drop_large() noexcept {
        std::lock_guard lock(mutex_);
        std::erase_if(idle_,
                      [](const auto& parser) { return parser->capacity() > kKeepParserCapacity; });
    }

    std::size_t largest_capacity() {
        std::lock_guard lock(mutex_);
        std::size_t largest = 0;
        for (const auto& parser : idle_) {
            largest = std::max(largest, parser->capacity());
        }
        return largest;
    }

  private:
    std::mutex mutex_;
    std::vector<std::unique_ptr<simdjson::dom::parser>> idle_;
};

ParserPool& parser_pool() {
    static ParserPool pool;
    return pool;
}

// Where a value sits; formatted only when an error is reported.
struct Where {
    std::string_view file;
    std::size_t index;
    std::string_view key;

    std::string text() const { return fmt::format("{}[{}].{}", file, index, key); }
};

json::Context context(const std::string& text) {
    return {Errc::StorageCorrupt, text};
}

// Absent and null read as "": containers/storage (Go's encoding/json) reads null that way.
std::string_view opt_string(json::Element value, const Where& where) {
    if (value.is_string()) {
        return value.get_string().value_unsafe();
    }
    if (value.is_null()) {
        return {};
    }
    return json::expect_string(value, context(where.text()));
}

std::string_view checked_id(std::string_view id, const Where& where) {
    if (!is_full_id(id)) {
        require_full_id(id, where.text(), Errc::StorageCorrupt);  // throws
    }
    return id;
}

std::string_view opt_id(json::Element value, const Where& where) {
    auto id = opt_string(value, where);
    return id.empty() ? id : checked_id(id, where);
}

std::string_view required_id(json::Object object, const Where& where) {
    auto value = json::find(object, where.key);
    if (!value) {
        fail(Errc::StorageCorrupt, "{}: expected an ID, found no such key", where.text());
    }
    if (!value->is_string()) {
        json::expect_string(*value, context(where.text()));  // throws
    }
    return checked_id(value->get_string().value_unsafe(), where);
}

std::optional<json::Array> opt_string_array(json::Element value, const Where& where) {
    if (value.is_null()) {
        return std::nullopt;
    }
    // The checks below format a location only on the failure path: this runs per entry.
    if (!value.is_array()) {
        json::expect_array(value, context(where.text()));
    }
    auto array = value.get_array().value_unsafe();
    for (auto item : array) {
        if (!item.is_string()) {
            json::expect_string(item, context(where.text() + "[]"));
        }
    }
    return array;
}

// Type-checks a map whose values are strings, or non-negative integers when `uints`.
void check_map(json::Element value, const Where& where, bool uints) {
    if (value.is_null()) {
        return;
    }
    if (!value.is_object()) {
        json::expect_object(value, context(where.text()));
    }
    json::Object object = value.get_object().value_unsafe();
    for (auto field : object) {
        if (uints) {
            if (field.value.get_uint64().error() != simdjson::SUCCESS) {
                json::expect_uint(field.value, context(where.text() + "{}"));
            }
        } else if (!field.value.is_string()) {
            json::expect_string(field.value, context(where.text() + "{}"));
        }
    }
}

// How one record field is read into its view; nullptr for "id", which is read first.
template <typename View>
using FieldReader = void (*)(View& view, json::Element value, const Where& at);
template <typename View, std::size_t N>
using FieldTable = std::array<KeyEntry<FieldReader<View>>, N>;

// Each known key at most once; unknown keys are skipped, as containers/storage adds fields.
template <typename View, std::size_t N>
void read_fields(json::Object object, const FieldTable<View, N>& table, const Where& where,
                 View& view) {
    SeenKeys<N> seen;
    for (auto field : object) {
        auto index = find_key(table, field.key);
        if (!index) {
            continue;
        }
        if (!seen.mark(*index)) {
            fail(Errc::StorageCorrupt, "{}[{}]: expected key \"{}\" once, found it twice",
                 where.file, where.index, field.key);
        }
        if (auto read = table[*index].read) {
            read(view, field.value, Where{where.file, where.index, table[*index].key});
        }
    }
}

json::Array entries(json::Element root, std::string_view file) {
    return json::expect_array(root, {Errc::StorageCorrupt, file});
}

json::Object entry_object(json::Element entry, const Where& where) {
    if (!entry.is_object()) {
        json::expect_object(entry, context(fmt::format("{}[{}]", where.file, where.index)));
    }
    return entry.get_object().value_unsafe();
}

}  // namespace

std::size_t largest_idle_parser_capacity() {
    return parser_pool().largest_capacity();
}

ParsedJson::ParsedJson(const std::string& bytes, std::string_view what)
    : parser_(parser_pool().take()) {
    static const std::string kNull = "null";
    auto result = parser_->parse(bytes.empty() ? kNull : bytes);
    if (result.error() != simdjson::SUCCESS) {
        fail(Errc::StorageCorrupt, "{}: expected valid JSON, found a syntax error ({})", what,
             simdjson::error_message(result.error()));
    }
    root_ = result.value_unsafe();
}

ParsedJson::~ParsedJson() {
    parser_pool().give_back(std::move(parser_));
}

namespace {

/// Appends one View per entry of `file`'s array: its index or file, its "id", then the other
/// fields of `table`.
template <typename View, std::size_t N>
void scan_entries(json::Element root, std::string_view file, const FieldTable<View, N>& table,
                  std::vector<View>& out) {
    if (root.is_null()) {
        return;
    }
    auto array = entries(root, file);
    out.reserve(out.size() + array.size());
    std::size_t index = 0;
    for (auto entry : array) {
        Where where{file, index, ""};
        auto object = entry_object(entry, where);
        View view;
        if constexpr (requires { view.index; }) {
            view.index = index;
        }
        if constexpr (requires { view.file; }) {
            view.file = file;
        }
        view.id = required_id(object, {file, index, "id"});
        read_fields(object, table, where, view);
        out.push_back(view);
        ++index;
    }
}

void read_flags(LayerView& view, json::Element value, const Where& at) {
    if (value.is_null()) {
        return;
    }
    if (!value.is_object()) {
        json::expect_object(value, context(at.text()));
    }
    auto flags = value.get_object().value_unsafe();
    if (auto incomplete = json::find(flags, "incomplete")) {
        if (!incomplete->is_bool()) {
            json::expect_bool(*incomplete,
                              context(Where{at.file, at.index, "flags.incomplete"}.text()));
        }
        view.incomplete = incomplete->get_bool().value_unsafe();
    }
}

constexpr FieldTable<ImageView, 8> kImageFields = {{
    {"id", nullptr},
    {"digest",
     [](ImageView& v, json::Element e, const Where& at) { v.digest = opt_string(e, at); }},
    {"names",
     [](ImageView& v, json::Element e, const Where& at) { v.names = opt_string_array(e, at); }},
    {"layer", [](ImageView& v, json::Element e, const Where& at) { v.top_layer = opt_id(e, at); }},
    {"big-data-names", [](ImageView& v, json::Element e,
                          const Where& at) { v.big_data_names = opt_string_array(e, at); }},
    {"metadata",
     [](ImageView& v, json::Element e, const Where& at) { v.metadata = opt_string(e, at); }},
    {"big-data-digests",
     [](ImageView&, json::Element e, const Where& at) { check_map(e, at, false); }},
    {"big-data-sizes",
     [](ImageView&, json::Element e, const Where& at) { check_map(e, at, true); }},
}};

constexpr FieldTable<LayerView, 3> kLayerFields = {{
    {"id", nullptr},
    {"parent", [](LayerView& v, json::Element e, const Where& at) { v.parent = opt_id(e, at); }},
    {"flags", read_flags},
}};

constexpr FieldTable<ContainerView, 4> kContainerFields = {{
    {"id", nullptr},
    {"names",
     [](ContainerView& v, json::Element e, const Where& at) { v.names = opt_string_array(e, at); }},
    {"image", [](ContainerView& v, json::Element e, const Where& at) { v.image = opt_id(e, at); }},
    {"layer", [](ContainerView& v, json::Element e, const Where& at) { v.layer = opt_id(e, at); }},
}};

}  // namespace

std::vector<ImageView> scan_images(json::Element root) {
    std::vector<ImageView> out;
    scan_entries(root, kImagesJson, kImageFields, out);
    return out;
}

void scan_layers(json::Element root, std::string_view file, std::vector<LayerView>& out) {
    scan_entries(root, file, kLayerFields, out);
}

void scan_containers(json::Element root, std::string_view file, std::vector<ContainerView>& out) {
    scan_entries(root, file, kContainerFields, out);
}

bool has_name(const std::optional<json::Array>& names, std::string_view name) {
    if (!names) {
        return false;
    }
    for (auto item : *names) {
        if (item.get_string().value_unsafe() == name) {
            return true;
        }
    }
    return false;
}

namespace {

std::vector<std::string> copy_strings(const std::optional<json::Array>& array) {
    std::vector<std::string> out;
    if (array) {
        out.reserve(array->size());
        for (auto item : *array) {
            out.emplace_back(item.get_string().value_unsafe());
        }
    }
    return out;
}

std::vector<std::uint64_t> parse_sizes(json::Element value, const std::string& what) {
    std::vector<std::uint64_t> out;
    if (value.is_null()) {
        return out;
    }
    auto array = json::expect_array(value, context(what));
    out.reserve(array.size());
    for (auto item : array) {
        out.push_back(json::expect_uint(item, context(what + "[]")));
    }
    return out;
}

// The metadata string holds containers/image's JSON: {"signature-sizes": [..],
// "signatures-sizes": {digest: [..]}}; other keys are ignored like unknown image keys.
std::vector<std::uint64_t> signature_sizes(const ImageView& view) {
    if (view.metadata.empty()) {
        return {};
    }
    auto what = fmt::format("{}[{}].metadata", kImagesJson, view.index);
    std::string padded;
    padded.reserve(view.metadata.size() + simdjson::SIMDJSON_PADDING);
    padded.assign(view.metadata);
    ParsedJson doc(padded, what);
    auto object = json::expect_object(doc.root(), context(what));
    std::vector<std::uint64_t> sizes;
    if (auto value = json::find(object, "signature-sizes")) {
        sizes = parse_sizes(*value, what + ".signature-sizes");
    }
    if (auto value = json::find(object, "signatures-sizes"); value && !value->is_null()) {
        auto map_what = what + ".signatures-sizes";
        for (auto field : json::expect_object(*value, context(map_what))) {
            parse_sizes(field.value, map_what + "{}");
        }
    }
    return sizes;
}

}  // namespace

ImageRecord to_record(const ImageView& view) {
    ImageRecord record;
    record.id = view.id;
    record.digest = view.digest;
    record.names = copy_strings(view.names);
    record.top_layer = view.top_layer;
    record.big_data_names = copy_strings(view.big_data_names);
    record.signature_sizes = signature_sizes(view);
    return record;
}

ContainerRecord to_record(const ContainerView& view) {
    ContainerRecord record;
    record.id = view.id;
    record.names = copy_strings(view.names);
    record.image = view.image;
    record.layer = view.layer;
    return record;
}

}  // namespace vmd::storage::detail

namespace vmd::storage {

void release_large_parsers() noexcept {
    detail::parser_pool().drop_large();
}

}  // namespace vmd::storage
