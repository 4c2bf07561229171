#include "common/json.hpp"

#include <algorithm>
#include <unordered_set>

namespace vmd::json {

Document Document::parse(std::string_view text, Errc code, std::string_view what) {
    Document doc;
    doc.parser_ = std::make_unique<simdjson::dom::parser>();
    auto result = doc.parser_->parse(text.data(), text.size(), true);
    if (result.error() != simdjson::SUCCESS) {
        fail(code, "{}: expected valid JSON, found a syntax error ({})", what,
             simdjson::error_message(result.error()));
    }
    doc.root_ = result.value_unsafe();
    return doc;
}

std::string_view type_name(Element element) {
    switch (element.type()) {
        case simdjson::dom::element_type::ARRAY:
            return "an array";
        case simdjson::dom::element_type::OBJECT:
            return "an object";
        case simdjson::dom::element_type::INT64:
        case simdjson::dom::element_type::UINT64:
        case simdjson::dom::element_type::DOUBLE:
            return "a number";
        case simdjson::dom::element_type::STRING:
            return "a string";
        case simdjson::dom::element_type::BOOL:
            return "a boolean";
        case simdjson::dom::element_type::NULL_VALUE:
            return "null";
    }
    return "a value";
}

namespace {

[[noreturn]] void wrong_type(Element element, Context ctx, std::string_view expected) {
    fail(ctx.code, "{}: expected {}, found {}", ctx.what, expected, type_name(element));
}

}  // namespace

Object expect_object(Element element, Context ctx,
                     std::optional<std::initializer_list<std::string_view>> allowed) {
    if (!element.is_object()) {
        wrong_type(element, ctx, "an object");
    }
    Object object = element.get_object().value_unsafe();
    std::unordered_set<std::string_view> seen;
    for (auto field : object) {
        if (!seen.insert(field.key).second) {
            fail(ctx.code, "{}: duplicate key {}", ctx.what, quote(field.key));
        }
        if (allowed && std::find(allowed->begin(), allowed->end(), field.key) == allowed->end()) {
            fail(ctx.code, "{}: unknown key {}", ctx.what, quote(field.key));
        }
    }
    return object;
}

Object expect_exact_object(Element element, Context ctx,
                           std::initializer_list<std::string_view> keys) {
    auto object = expect_object(element, ctx, keys);
    for (auto key : keys) {
        require(object, key, ctx);
    }
    return object;
}

Array expect_array(Element element, Context ctx) {
    if (!element.is_array()) {
        wrong_type(element, ctx, "an array");
    }
    return element.get_array().value_unsafe();
}

std::string_view expect_string(Element element, Context ctx) {
    if (!element.is_string()) {
        wrong_type(element, ctx, "a string");
    }
    return element.get_string().value_unsafe();
}

std::uint64_t expect_uint(Element element, Context ctx) {
    if (element.is_uint64()) {
        return element.get_uint64().value_unsafe();
    }
    if (element.is_int64()) {
        auto value = element.get_int64().value_unsafe();
        if (value >= 0) {
            return static_cast<std::uint64_t>(value);
        }
        fail(ctx.code, "{}: expected a non-negative integer, found {}", ctx.what, value);
    }
    wrong_type(element, ctx, "a non-negative integer");
}

bool expect_bool(Element element, Context ctx) {
    if (!element.is_bool()) {
        wrong_type(element, ctx, "a boolean");
    }
    return element.get_bool().value_unsafe();
}

std::optional<Element> find(Object object, std::string_view key) {
    auto result = object.at_key(key);
    if (result.error() != simdjson::SUCCESS) {
        return std::nullopt;
    }
    return result.value_unsafe();
}

Element require(Object object, std::string_view key, Context ctx) {
    auto element = find(object, key);
    if (!element) {
        fail(ctx.code, "{}: missing key \"{}\"", ctx.what, key);
    }
    return *element;
}

std::vector<std::string> expect_string_array(Element element, Context ctx) {
    std::vector<std::string> out;
    for (auto item : expect_array(element, ctx)) {
        out.emplace_back(expect_string(item, ctx));
    }
    return out;
}

std::string quote(std::string_view text) {
    std::string out;
    out.reserve(text.size() + 2);
    out.push_back('"');
    for (char c : text) {
        auto byte = static_cast<unsigned char>(c);
        switch (c) {
            case '"':
                out += "\\\"";
                break;
            case '\\':
                out += "\\\\";
                break;
            case '\b':
                out += "\\b";
                break;
            case '\f':
                out += "\\f";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\t':
                out += "\\t";
                break;
            case '\r':
                out += "\\r";
                break;
            default:
                if (byte < 0x20) {
                    out += fmt::format("\\u{:04x}", byte);
                } else {
                    out.push_back(c);
                }
        }
    }
    out.push_back('"');
    return out;
}

std::string shown(std::string_view text) {
    constexpr std::size_t kMaxShown = 200;  // room for a whole sha512 digest
    if (text.size() <= kMaxShown) {
        return quote(text);
    }
    // Cut on a UTF-8 boundary: messages travel over D-Bus, which requires valid UTF-8.
    std::size_t cut = kMaxShown;
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xc0) == 0x80) {
        --cut;
    }
    return fmt::format("{}… ({} bytes)", quote(text.substr(0, cut)), text.size());
}

}  // namespace vmd::json
