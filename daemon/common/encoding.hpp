// Byte encodings read and written across modules: standard base64 and sha256 digests.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace vmd {

/// Decodes standard, padded base64 (RFC 4648 §4). Line breaks (CR, LF) are skipped, as Go's
/// decoder does; any other character outside the alphabet or bad padding make it return
/// nullopt. Like Go's decoder, bits hidden by the padding are ignored.
std::optional<std::string> base64_decode(std::string_view text);

/// "sha256:" + lowercase hex SHA-256 of `bytes`.
std::string sha256_digest(std::string_view bytes);

}  // namespace vmd
