// Image/layer IDs and the file names of image big-data items.
#include <algorithm>
#include <array>

#include "common/json.hpp"
#include "storage/io.hpp"
#include "storage/store.hpp"

namespace vmd::storage {
namespace {

constexpr std::size_t kFullIdLength = 64;
constexpr std::size_t kMinPrefixLength = 12;

bool is_lower_hex(std::string_view text) {
    // No early exit, so the loop vectorizes: a big store's records hold 100,000 IDs.
    bool bad = false;
    for (char c : text) {
        const auto digit = static_cast<unsigned char>(c - '0');
        const auto letter = static_cast<unsigned char>(c - 'a');
        bad |= digit > 9 && letter > 5;
    }
    return !bad;
}

// containers/storage keeps a key as the file name only when it is made of these characters.
bool is_plain_key_char(char c) {
    return c == '.' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z');
}

}  // namespace

bool is_id_or_prefix(std::string_view text) {
    return text.size() >= kMinPrefixLength && text.size() <= kFullIdLength && is_lower_hex(text);
}

bool is_full_id(std::string_view text) {
    return text.size() == kFullIdLength && is_lower_hex(text);
}

std::string big_data_file_name(std::string_view key) {
    if (std::all_of(key.begin(), key.end(), is_plain_key_char)) {
        return std::string(key);
    }
    return "=" + detail::base64_encode(key);
}

namespace detail {

void require_full_id(std::string_view id, std::string_view what, Errc code) {
    if (!is_full_id(id)) {
        fail(code, "{}: expected 64 lowercase hex digits, found {}", what, shown(id));
    }
}

std::string base64_encode(std::string_view bytes) {
    static constexpr std::array<char, 64> kAlphabet = {
        'A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'J', 'K', 'L', 'M', 'N', 'O', 'P',
        'Q', 'R', 'S', 'T', 'U', 'V', 'W', 'X', 'Y', 'Z', 'a', 'b', 'c', 'd', 'e', 'f',
        'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o', 'p', 'q', 'r', 's', 't', 'u', 'v',
        'w', 'x', 'y', 'z', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '+', '/'};
    std::string out;
    out.reserve((bytes.size() + 2) / 3 * 4);
    std::size_t i = 0;
    for (; i + 3 <= bytes.size(); i += 3) {
        auto group = static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i])) << 16 |
                     static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8 |
                     static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i + 2]));
        out.push_back(kAlphabet[(group >> 18) & 63]);
        out.push_back(kAlphabet[(group >> 12) & 63]);
        out.push_back(kAlphabet[(group >> 6) & 63]);
        out.push_back(kAlphabet[group & 63]);
    }
    std::size_t rest = bytes.size() - i;
    if (rest > 0) {
        std::uint32_t group = static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i]))
                              << 16;
        if (rest == 2) {
            group |= static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8;
        }
        out.push_back(kAlphabet[(group >> 18) & 63]);
        out.push_back(kAlphabet[(group >> 12) & 63]);
        out.push_back(rest == 2 ? kAlphabet[(group >> 6) & 63] : '=');
        out.push_back('=');
    }
    return out;
}

}  // namespace detail
}  // namespace vmd::storage
