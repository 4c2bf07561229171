// Shared by the libFuzzer targets: what counts as an expected refusal and what is a finding.
// A vmd::Error with one of the codes the parser documents is an expected refusal; any other
// exception, an Error(Internal) or another code, an empty message, a message that is not
// UTF-8 although the input was (it would break the D-Bus reply), a message with a raw control
// character (untrusted text must be quoted before it reaches the journal and terminals), or a
// failed invariant aborts, so libFuzzer records the input as a crash.
#pragma once

#include <simdjson.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

#include "common/error.hpp"
#include "common/json.hpp"

namespace vmd::fuzz {

/// The fuzzer's bytes as text.
inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
    return {reinterpret_cast<const char*>(data), size};
}

/// Whether `text` is valid UTF-8 (what D-Bus requires of every string).
inline bool is_utf8(std::string_view text) {
    return simdjson::validate_utf8(text.data(), text.size());
}

/// Whether `text` holds a C0 control character (what json::quote escapes).
inline bool has_control(std::string_view text) {
    return std::any_of(text.begin(), text.end(),
                       [](char c) { return static_cast<unsigned char>(c) < 0x20; });
}

/// Reports a finding and aborts.
template <typename... Args>
[[noreturn]] void finding(fmt::format_string<Args...> format, Args&&... args) {
    auto text = fmt::format(format, std::forward<Args>(args)...);
    std::fprintf(stderr, "\n==== FUZZ FINDING: %s\n", text.c_str());
    std::abort();
}

/// Aborts with `what` unless `condition` holds: an invariant of a successful parse.
inline void check(bool condition, std::string_view what) {
    if (!condition) {
        finding("invariant failed: {}", what);
    }
}

/// Runs `body` on `input`. Errors whose code is in `expected` are refusals; everything else
/// is a finding.
template <typename Body>
void run(std::string_view input, std::initializer_list<Errc> expected, Body&& body) {
    try {
        body();
    } catch (const Error& error) {
        bool listed = false;
        for (auto code : expected) {
            listed = listed || code == error.code();
        }
        if (!listed) {
            finding("unexpected error code {}: {}", errc_name(error.code()), error.message());
        }
        if (error.message().empty()) {
            finding("Error({}) with an empty message", errc_name(error.code()));
        }
        if (is_utf8(input) && !is_utf8(error.message())) {
            finding("Error({}) message is not UTF-8 for UTF-8 input: {}", errc_name(error.code()),
                    error.message());
        }
        if (has_control(error.message())) {
            finding("Error({}) message holds an unescaped control character: {}",
                    errc_name(error.code()), json::quote(error.message()));
        }
    } catch (const std::exception& other) {
        finding("exception other than vmd::Error: {}", other.what());
    } catch (...) {
        finding("exception of unknown type");
    }
}

}  // namespace vmd::fuzz
