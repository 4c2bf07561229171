#include "common/encoding.hpp"

#include <openssl/evp.h>

#include <array>
#include <cstdint>

#include "common/error.hpp"

namespace vmd {

namespace {

constexpr int kInvalid = -1;
constexpr int kPad = -2;

int sextet(char c) {
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }
    if (c >= 'a' && c <= 'z') {
        return c - 'a' + 26;
    }
    if (c >= '0' && c <= '9') {
        return c - '0' + 52;
    }
    if (c == '+') {
        return 62;
    }
    if (c == '/') {
        return 63;
    }
    return c == '=' ? kPad : kInvalid;
}

}  // namespace

std::optional<std::string> base64_decode(std::string_view text) {
    std::string clean;
    clean.reserve(text.size());
    for (char c : text) {
        if (c != '\r' && c != '\n') {
            clean.push_back(c);
        }
    }
    if (clean.size() % 4 != 0) {
        return std::nullopt;
    }
    std::string out;
    out.reserve(clean.size() / 4 * 3);
    for (size_t i = 0; i < clean.size(); i += 4) {
        std::array<int, 4> v{};
        int pads = 0;
        for (size_t j = 0; j < 4; ++j) {
            v[j] = sextet(clean[i + j]);
            if (v[j] == kInvalid) {
                return std::nullopt;
            }
            if (v[j] == kPad) {
                ++pads;
                v[j] = 0;
            } else if (pads > 0) {
                return std::nullopt;  // data after padding
            }
        }
        bool last = i + 4 == clean.size();
        if (pads > 2 || (pads > 0 && !last)) {
            return std::nullopt;
        }
        std::uint32_t word =
            static_cast<std::uint32_t>(v[0]) << 18 | static_cast<std::uint32_t>(v[1]) << 12 |
            static_cast<std::uint32_t>(v[2]) << 6 | static_cast<std::uint32_t>(v[3]);
        out.push_back(static_cast<char>(word >> 16 & 0xff));
        if (pads < 2) {
            out.push_back(static_cast<char>(word >> 8 & 0xff));
        }
        if (pads < 1) {
            out.push_back(static_cast<char>(word & 0xff));
        }
    }
    return out;
}

std::string sha256_digest(std::string_view bytes) {
    std::array<unsigned char, 32> hash{};
    unsigned int size = 0;
    if (EVP_Digest(bytes.data(), bytes.size(), hash.data(), &size, EVP_sha256(), nullptr) != 1 ||
        size != hash.size()) {
        fail(Errc::Internal, "SHA-256: expected a digest from OpenSSL, found an error");
    }
    static constexpr std::string_view kHex = "0123456789abcdef";
    std::string out = "sha256:";
    for (unsigned char b : hash) {
        out.push_back(kHex[b >> 4]);
        out.push_back(kHex[b & 15]);
    }
    return out;
}

}  // namespace vmd
