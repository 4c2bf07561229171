// Strict JSON reading on top of simdjson's DOM, and a minimal JSON string writer.
#pragma once

#include <simdjson.h>

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"

namespace vmd::json {

using Element = simdjson::dom::element;
using Object = simdjson::dom::object;
using Array = simdjson::dom::array;

/// A parsed JSON document. Elements borrow from it, so it must outlive them.
class Document {
  public:
    /// Parses `text`; a syntax error throws Error(code, "<what>: <simdjson's reason>").
    static Document parse(std::string_view text, Errc code, std::string_view what);

    Element root() const { return root_; }

  private:
    std::unique_ptr<simdjson::dom::parser> parser_;
    Element root_;
};

/// Where an error is reported: the error code and a human name of the thing being read.
struct Context {
    Errc code;
    std::string_view what;
};

/// The kind of `element` as messages name it: "an object", "a number", "null", …
std::string_view type_name(Element element);

/// Requires an object with no duplicate keys and only keys from `allowed`.
Object expect_object(Element element, Context ctx,
                     std::optional<std::initializer_list<std::string_view>> allowed = std::nullopt);
/// Requires an object whose keys are exactly `keys`: each present once, no other.
Object expect_exact_object(Element element, Context ctx,
                           std::initializer_list<std::string_view> keys);
/// Requires an array.
Array expect_array(Element element, Context ctx);
/// Requires a string.
std::string_view expect_string(Element element, Context ctx);
/// Requires a non-negative integer.
std::uint64_t expect_uint(Element element, Context ctx);
/// Requires a boolean.
bool expect_bool(Element element, Context ctx);

/// The member `key` of `object`, or nullopt when absent.
std::optional<Element> find(Object object, std::string_view key);
/// The member `key` of `object`; absent throws Error(ctx.code, "<what>: missing key \"<key>\"").
Element require(Object object, std::string_view key, Context ctx);

/// Requires an array of strings.
std::vector<std::string> expect_string_array(Element element, Context ctx);

/// `text` as a quoted JSON string literal, escaped as RFC 8785 (canonical JSON) does: two-char
/// escapes for the quote, the backslash, \b, \f, \n, \r and \t; \u00xx for the other control
/// characters; every other byte as is.
std::string quote(std::string_view text);

/// quote(`text`) for an error message: cut after 200 bytes (on a UTF-8 boundary, followed by
/// "… (N bytes)"), so that untrusted input of any size makes a short message.
std::string shown(std::string_view text);

}  // namespace vmd::json
