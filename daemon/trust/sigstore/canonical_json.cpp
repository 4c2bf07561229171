#include "trust/sigstore/canonical_json.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <utility>
#include <vector>

#include "common/error.hpp"
#include "common/json.hpp"

namespace vmd::trust {

namespace {

constexpr int kMaxDepth = 64;
constexpr std::int64_t kMaxSafeInteger = (std::int64_t{1} << 53);

// UTF-8 (already validated by simdjson) to UTF-16 code units, for JCS key ordering.
std::u16string utf16(std::string_view text) {
    std::u16string out;
    for (size_t i = 0; i < text.size();) {
        auto byte = static_cast<unsigned char>(text[i]);
        std::uint32_t cp = 0;
        size_t extra = 0;
        if (byte < 0x80) {
            cp = byte;
        } else if (byte < 0xe0) {
            cp = byte & 0x1fu;
            extra = 1;
        } else if (byte < 0xf0) {
            cp = byte & 0x0fu;
            extra = 2;
        } else {
            cp = byte & 0x07u;
            extra = 3;
        }
        for (size_t j = 1; j <= extra && i + j < text.size(); ++j) {
            cp = cp << 6 | (static_cast<unsigned char>(text[i + j]) & 0x3fu);
        }
        i += extra + 1;
        if (cp >= 0x10000) {
            cp -= 0x10000;
            out.push_back(static_cast<char16_t>(0xd800 + (cp >> 10)));
            out.push_back(static_cast<char16_t>(0xdc00 + (cp & 0x3ff)));
        } else {
            out.push_back(static_cast<char16_t>(cp));
        }
    }
    return out;
}

[[noreturn]] void unsupported_number(std::string_view found) {
    fail(Errc::SignatureInvalid,
         "canonical JSON: expected an integer of magnitude at most 2^53, found {}", found);
}

void write(json::Element element, std::string& out, int depth) {
    if (depth > kMaxDepth) {
        fail(Errc::SignatureInvalid,
             "canonical JSON: expected nesting at most {} deep, found deeper", kMaxDepth);
    }
    using Type = simdjson::dom::element_type;
    switch (element.type()) {
        case Type::NULL_VALUE:
            out += "null";
            return;
        case Type::BOOL:
            out += element.get_bool().value_unsafe() ? "true" : "false";
            return;
        case Type::STRING:
            out += json::quote(element.get_string().value_unsafe());
            return;
        case Type::INT64: {
            auto value = element.get_int64().value_unsafe();
            if (value > kMaxSafeInteger || value < -kMaxSafeInteger) {
                unsupported_number(std::to_string(value));
            }
            out += std::to_string(value);
            return;
        }
        case Type::UINT64:
            unsupported_number(std::to_string(element.get_uint64().value_unsafe()));
        case Type::DOUBLE: {
            double value = element.get_double().value_unsafe();
            if (std::trunc(value) != value ||
                std::fabs(value) > static_cast<double>(kMaxSafeInteger)) {
                unsupported_number(fmt::format("{}", value));
            }
            // ECMAScript prints integral doubles without a fraction; -0 prints as 0.
            out += std::to_string(static_cast<std::int64_t>(value));
            return;
        }
        case Type::ARRAY: {
            out.push_back('[');
            bool first = true;
            simdjson::dom::array array = element.get_array().value_unsafe();
            for (auto item : array) {
                if (!first) {
                    out.push_back(',');
                }
                first = false;
                write(item, out, depth + 1);
            }
            out.push_back(']');
            return;
        }
        case Type::OBJECT: {
            std::vector<std::pair<std::u16string, simdjson::dom::key_value_pair>> members;
            simdjson::dom::object object = element.get_object().value_unsafe();
            for (auto field : object) {
                members.emplace_back(utf16(field.key), field);
            }
            std::sort(members.begin(), members.end(),
                      [](const auto& a, const auto& b) { return a.first < b.first; });
            out.push_back('{');
            for (size_t i = 0; i < members.size(); ++i) {
                if (i > 0 && members[i].first == members[i - 1].first) {
                    fail(Errc::SignatureInvalid, "canonical JSON: duplicate key {}",
                         json::quote(members[i].second.key));
                }
                if (i > 0) {
                    out.push_back(',');
                }
                out += json::quote(members[i].second.key);
                out.push_back(':');
                write(members[i].second.value, out, depth + 1);
            }
            out.push_back('}');
            return;
        }
    }
}

}  // namespace

std::string canonical_json(json::Element element) {
    std::string out;
    write(element, out, 0);
    return out;
}

}  // namespace vmd::trust
