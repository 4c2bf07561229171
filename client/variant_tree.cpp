#include "client/variant_tree.hpp"

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace vmd::client {
namespace {

using VariantMap = std::map<std::string, sdbus::Variant>;

// The C++ type sdbus-c++ reads for a basic D-Bus type code, widened into the tree's alternative.
template <typename Read, typename Stored>
Value basic(const sdbus::Variant& variant) {
    return Value{static_cast<Stored>(variant.get<Read>())};
}

template <typename Read, typename Stored>
Value basic_list(const sdbus::Variant& variant) {
    const auto items = variant.get<std::vector<Read>>();
    Value::List list(items.size());
    for (std::size_t i = 0; i < items.size(); ++i) {
        list[i].data = static_cast<Stored>(items[i]);
    }
    return Value{std::move(list)};
}

// Reads an array of the basic type `code`; nullopt when `code` is not a basic type.
std::optional<Value> basic_array(const sdbus::Variant& variant, char code) {
    switch (code) {
        case 'b':
            return basic_list<bool, bool>(variant);
        case 'y':
            return basic_list<std::uint8_t, std::uint64_t>(variant);
        case 'n':
            return basic_list<std::int16_t, std::int64_t>(variant);
        case 'q':
            return basic_list<std::uint16_t, std::uint64_t>(variant);
        case 'i':
            return basic_list<std::int32_t, std::int64_t>(variant);
        case 'u':
            return basic_list<std::uint32_t, std::uint64_t>(variant);
        case 'x':
            return basic_list<std::int64_t, std::int64_t>(variant);
        case 't':
            return basic_list<std::uint64_t, std::uint64_t>(variant);
        case 'd':
            return basic_list<double, double>(variant);
        case 's':
            return basic_list<std::string, std::string>(variant);
        default:
            return std::nullopt;
    }
}

std::optional<Value> basic_value(const sdbus::Variant& variant, char code) {
    switch (code) {
        case 'b':
            return basic<bool, bool>(variant);
        case 'y':
            return basic<std::uint8_t, std::uint64_t>(variant);
        case 'n':
            return basic<std::int16_t, std::int64_t>(variant);
        case 'q':
            return basic<std::uint16_t, std::uint64_t>(variant);
        case 'i':
            return basic<std::int32_t, std::int64_t>(variant);
        case 'u':
            return basic<std::uint32_t, std::uint64_t>(variant);
        case 'x':
            return basic<std::int64_t, std::int64_t>(variant);
        case 't':
            return basic<std::uint64_t, std::uint64_t>(variant);
        case 'd':
            return basic<double, double>(variant);
        case 's':
            return basic<std::string, std::string>(variant);
        case 'o':
            return Value{std::string(variant.get<sdbus::ObjectPath>())};
        case 'g':
            return Value{std::string(variant.get<sdbus::Signature>())};
        default:
            return std::nullopt;
    }
}

}  // namespace

Value value_from_variant(const sdbus::Variant& variant) {
    const std::string signature = variant.peekValueType();
    if (signature.size() == 1) {
        if (auto value = basic_value(variant, signature[0])) {
            return *std::move(value);
        }
        if (signature == "v") {
            return value_from_variant(variant.get<sdbus::Variant>());
        }
    } else if (signature.size() == 2 && signature[0] == 'a') {
        if (auto value = basic_array(variant, signature[1])) {
            return *std::move(value);
        }
        if (signature == "av") {
            Value::List list;
            for (const auto& item : variant.get<std::vector<sdbus::Variant>>()) {
                list.push_back(value_from_variant(item));
            }
            return Value{std::move(list)};
        }
    } else if (signature == "a{sv}") {
        return Value{map_from_variants(variant.get<VariantMap>())};
    } else if (signature == "aa{sv}") {
        Value::List list;
        for (const auto& item : variant.get<std::vector<VariantMap>>()) {
            list.push_back(Value{map_from_variants(item)});
        }
        return Value{std::move(list)};
    } else if (signature == "a{ss}") {
        Value::Map map;
        for (auto& [key, text] : variant.get<std::map<std::string, std::string>>()) {
            map.push_back({key, Value{text}});
        }
        return Value{std::move(map)};
    }
    return Value{Opaque{signature}};
}

Value::Map map_from_variants(const std::map<std::string, sdbus::Variant>& map) {
    Value::Map out;
    out.reserve(map.size());
    for (const auto& [key, variant] : map) {
        out.push_back({key, value_from_variant(variant)});
    }
    return out;
}

}  // namespace vmd::client
