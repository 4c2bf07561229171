// Bounded decompression of OpenPGP compressed data packets (RFC 4880 §5.6).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace vmd::openpgp::detail {

/// Compression algorithm IDs (RFC 4880 §9.3).
enum class Compression : std::uint8_t { None = 0, Zip = 1, Zlib = 2, Bzip2 = 3 };

/// The decompressed bytes of a compressed data packet body (its algorithm octet first).
/// Refuses (Error(SignatureInvalid)) an unknown algorithm, a corrupt or truncated stream, bytes
/// after the end of the stream, and output larger than `max_output`.
std::string decompress_packet(std::string_view body, std::size_t max_output);

}  // namespace vmd::openpgp::detail
