#include "trust/openpgp/armor.hpp"

#include <array>

#include "common/encoding.hpp"
#include "common/error.hpp"
#include "common/json.hpp"

namespace vmd::openpgp::detail {

namespace {

constexpr std::string_view kBegin = "-----BEGIN PGP ";
constexpr std::string_view kEnd = "-----END PGP ";
constexpr std::string_view kDashes = "-----";

// Splits text into lines, without their LF and trailing CR, spaces and tabs.
class Lines {
  public:
    explicit Lines(std::string_view text) : text_(text) {}
    bool next(std::string_view& line) {
        if (offset_ >= text_.size()) {
            return false;
        }
        auto end = text_.find('\n', offset_);
        if (end == std::string_view::npos) {
            end = text_.size();
        }
        line = text_.substr(offset_, end - offset_);
        offset_ = end + 1;
        ++number_;
        while (!line.empty() &&
               (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) {
            line.remove_suffix(1);
        }
        return true;
    }
    std::size_t number() const { return number_; }

  private:
    std::string_view text_;
    std::size_t offset_ = 0;
    std::size_t number_ = 0;
};

// Standard padded base64 (the armor's lines joined).
std::string decode_base64(std::string_view text, std::string_view what) {
    auto decoded = base64_decode(text);
    if (!decoded) {
        fail(Errc::SignatureInvalid, "{}: expected base64 in groups of four, found {} other bytes",
             what, text.size());
    }
    return std::move(*decoded);
}

}  // namespace

std::uint32_t crc24(std::string_view data) {
    std::uint32_t crc = 0xB704CEU;
    for (char c : data) {
        crc ^= static_cast<std::uint32_t>(static_cast<unsigned char>(c)) << 16;
        for (int i = 0; i < 8; ++i) {
            crc <<= 1;
            if ((crc & 0x1000000U) != 0) {
                crc ^= 0x1864CFBU;
            }
        }
    }
    return crc & 0xFFFFFFU;
}

bool looks_armored(std::string_view bytes) {
    Lines lines(bytes);
    std::string_view line;
    while (lines.next(line)) {
        if (!line.empty()) {
            return line.starts_with(kBegin);
        }
    }
    return false;
}

std::string dearmor(std::string_view text, std::string_view label) {
    std::string result;
    std::size_t blocks = 0;
    Lines lines(text);
    std::string_view line;
    while (lines.next(line)) {
        if (!line.starts_with(kBegin)) {
            continue;  // text around the blocks
        }
        auto found_label = line.substr(kBegin.size());
        if (!found_label.ends_with(kDashes) ||
            found_label.substr(0, found_label.size() - kDashes.size()) != label) {
            fail(Errc::SignatureInvalid,
                 "armor line {}: expected \"-----BEGIN PGP {}-----\", found {}", lines.number(),
                 label, json::quote(line));
        }
        auto what = fmt::format("armor block at line {}", lines.number());
        // Header lines "Key: value" up to the first empty line.
        bool in_headers = true;
        std::string body;
        std::string_view checksum;
        bool ended = false;
        while (!ended && lines.next(line)) {
            if (in_headers) {
                if (line.empty()) {
                    in_headers = false;
                } else if (line.find(": ") == std::string_view::npos) {
                    // No header at all: the base64 starts right away (gpg accepts this).
                    in_headers = false;
                    body += line;
                }
                continue;
            }
            if (line.starts_with(kEnd)) {
                if (line != fmt::format("{}{}{}", kEnd, label, kDashes)) {
                    fail(Errc::SignatureInvalid, "{}: expected the END line for {}, found {}", what,
                         label, json::quote(line));
                }
                ended = true;
            } else if (line.starts_with("=") && line.size() == 5) {
                checksum = line.substr(1);
            } else if (!checksum.empty()) {
                fail(Errc::SignatureInvalid,
                     "{}: expected the END line after the checksum, found {}", what,
                     json::quote(line));
            } else {
                body += line;
            }
        }
        if (!ended) {
            fail(Errc::SignatureInvalid, "{}: expected an END line, found the end of the text",
                 what);
        }
        auto data = decode_base64(body, what);
        if (!checksum.empty()) {
            auto crc = decode_base64(checksum, what);
            if (crc.size() != 3) {
                fail(Errc::SignatureInvalid, "{}: expected a 3-byte CRC-24, found {} bytes", what,
                     crc.size());
            }
            std::uint32_t expected =
                (static_cast<std::uint32_t>(static_cast<unsigned char>(crc[0])) << 16) |
                (static_cast<std::uint32_t>(static_cast<unsigned char>(crc[1])) << 8) |
                static_cast<unsigned char>(crc[2]);
            if (expected != crc24(data)) {
                fail(Errc::SignatureInvalid, "{}: expected CRC-24 {:06X}, computed {:06X}", what,
                     expected, crc24(data));
            }
        }
        result += data;
        ++blocks;
    }
    if (blocks == 0) {
        fail(Errc::SignatureInvalid,
             "armored text: expected a \"-----BEGIN PGP {}-----\" line, found none", label);
    }
    return result;
}

}  // namespace vmd::openpgp::detail
