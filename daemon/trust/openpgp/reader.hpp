// A bounds-checked cursor over OpenPGP bytes; every overrun is a typed refusal.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/error.hpp"

namespace vmd::openpgp::detail {

/// Reads big-endian integers and byte runs from `data`; throws Error(SignatureInvalid) naming
/// `what` when the data ends early.
class Reader {
  public:
    Reader(std::string_view data, std::string_view what) : data_(data), what_(what) {}

    bool empty() const { return offset_ == data_.size(); }
    std::size_t remaining() const { return data_.size() - offset_; }
    std::size_t offset() const { return offset_; }
    /// Everything not read yet (and consumes it).
    std::string_view rest() { return bytes(remaining()); }

    std::uint8_t u8() { return static_cast<std::uint8_t>(bytes(1)[0]); }
    std::uint16_t u16() { return static_cast<std::uint16_t>(uint(2)); }
    std::uint32_t u32() { return static_cast<std::uint32_t>(uint(4)); }
    std::uint64_t u64() { return uint(8); }

    /// The next `count` bytes.
    std::string_view bytes(std::size_t count) {
        if (count > remaining()) {
            fail(Errc::SignatureInvalid, "{}: expected {} more bytes at offset {}, found {}", what_,
                 count, offset_, remaining());
        }
        auto result = data_.substr(offset_, count);
        offset_ += count;
        return result;
    }

    /// An OpenPGP multiprecision integer (two-byte bit count, then the bytes), at most
    /// `max_bits`; returns its bytes without leading zero bytes.
    std::string_view mpi(std::size_t max_bits) {
        std::size_t bits = u16();
        if (bits > max_bits) {
            fail(Errc::SignatureInvalid, "{}: expected a number of at most {} bits, found {} bits",
                 what_, max_bits, bits);
        }
        auto value = bytes((bits + 7) / 8);
        while (!value.empty() && value.front() == '\0') {
            value.remove_prefix(1);
        }
        return value;
    }

  private:
    std::uint64_t uint(std::size_t width) {
        std::uint64_t value = 0;
        for (char c : bytes(width)) {
            value = (value << 8) | static_cast<unsigned char>(c);
        }
        return value;
    }

    std::string_view data_;
    std::string_view what_;
    std::size_t offset_ = 0;
};

/// Uppercase hex of `bytes` (fingerprints, key IDs).
inline std::string hex_upper(std::string_view bytes) {
    constexpr std::string_view kDigits = "0123456789ABCDEF";
    std::string result;
    result.reserve(bytes.size() * 2);
    for (char c : bytes) {
        auto byte = static_cast<unsigned char>(c);
        result += kDigits[byte >> 4];
        result += kDigits[byte & 0x0f];
    }
    return result;
}

/// A 64-bit key ID as 16 uppercase hex digits.
inline std::string key_id_hex(std::uint64_t key_id) {
    return fmt::format("{:016X}", key_id);
}

}  // namespace vmd::openpgp::detail
