// ASCII armor (RFC 4880 §6, RFC 9580 §6): BEGIN/END lines, header lines, base64, CRC-24.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace vmd::openpgp::detail {

/// Whether `bytes` is armored text: its first line, after blank lines, starts "-----BEGIN PGP ".
bool looks_armored(std::string_view bytes);

/// The binary data of every armor block labelled `label` ("PUBLIC KEY BLOCK") in `text`,
/// concatenated. Text outside the blocks is ignored (as gpg does); a block with another label,
/// a malformed header line, bad base64, a CRC-24 that does not match, or a missing END line
/// throws Error(SignatureInvalid). Text with no block at all throws too.
std::string dearmor(std::string_view text, std::string_view label);

/// The OpenPGP CRC-24 of `data` (RFC 4880 §6.1).
std::uint32_t crc24(std::string_view data);

}  // namespace vmd::openpgp::detail
