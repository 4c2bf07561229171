// The pieces of the distribution reference grammar (docker/distribution reference/regexp.go),
// shared by reference parsing, policy scope validation and remapIdentity prefixes.
#pragma once

#include <cstddef>
#include <string_view>

namespace vmd::trust::grammar {

/// Longest repository name (domain + "/" + path) the grammar allows.
inline constexpr std::size_t kNameTotalLengthMax = 255;
/// Longest tag the grammar allows.
inline constexpr std::size_t kTagLengthMax = 128;

/// A domain name without port: dot-separated components of [A-Za-z0-9-], no leading or
/// trailing '-' in a component.
bool is_domain_name(std::string_view text);
/// A registry host with optional port: domain name or bracketed IPv6 address, then ":digits".
bool is_domain(std::string_view text);
/// One lowercase path component: [a-z0-9]+ joined by '.', '_', '__' or runs of '-'.
bool is_path_component(std::string_view text);
/// A tag: [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}.
bool is_tag(std::string_view text);
/// A digest this project accepts: sha256/sha384/sha512 with the matching lowercase hex length.
bool is_digest(std::string_view text);
/// A repository name as written, not normalised: an optional domain, then "/"-separated path
/// components (a single component may be either), at most kNameTotalLengthMax bytes.
bool is_name(std::string_view text);
/// 64 lowercase hex digits: an image ID, which the grammar refuses as a name.
bool is_hex64(std::string_view text);

}  // namespace vmd::trust::grammar
