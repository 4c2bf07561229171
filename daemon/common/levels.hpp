// The two check levels of DESIGN §7, ordered from weakest to strictest.
#pragma once

#include <string_view>

namespace vmd {

enum class SignatureLevel { Off = 0, Check = 1, Require = 2 };
enum class VerityLevel { Off = 0, Digest = 1, Enforce = 2 };

std::string_view to_string(SignatureLevel level);
std::string_view to_string(VerityLevel level);

/// Parses "off"/"check"/"require"; throws Error(InvalidArgument) naming the bad value.
SignatureLevel parse_signature_level(std::string_view text);
/// Parses "off"/"digest"/"enforce"; throws Error(InvalidArgument) naming the bad value.
VerityLevel parse_verity_level(std::string_view text);

/// The stricter of two levels: requests can only tighten the configured minimum.
template <typename Level>
constexpr Level stricter(Level a, Level b) {
    return static_cast<int>(a) >= static_cast<int>(b) ? a : b;
}

}  // namespace vmd
