// Independent checks for the fixture tests: plain simdjson and plain OpenSSL, sharing no code
// with the builder they check.
#pragma once

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <simdjson.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "fixtures/test_env.hpp"

namespace vmd::testing::checks {

/// A parsed JSON file; the parser owns the elements handed out.
struct JsonFile {
    simdjson::dom::parser parser;
    simdjson::dom::element root;

    explicit JsonFile(std::string_view text) {
        auto result = parser.parse(text.data(), text.size(), true);
        if (result.error() != simdjson::SUCCESS) {
            throw std::runtime_error(std::string("bad JSON: ") +
                                     simdjson::error_message(result.error()));
        }
        root = result.value_unsafe();
    }
};

inline std::string str(simdjson::dom::element element, std::string_view key) {
    std::string_view value;
    if (element[key].get(value) != simdjson::SUCCESS) {
        throw std::runtime_error("missing string \"" + std::string(key) + "\"");
    }
    return std::string(value);
}

inline std::vector<std::string> strings(simdjson::dom::element element, std::string_view key) {
    std::vector<std::string> out;
    simdjson::dom::array array;
    if (element[key].get(array) != simdjson::SUCCESS) {
        throw std::runtime_error("missing array \"" + std::string(key) + "\"");
    }
    for (auto item : array) {
        out.emplace_back(std::string_view(item));
    }
    return out;
}

/// `fsverity digest --compact` of a file as "sha256:<hex>", or "" when the tool fails.
inline std::string fsverity_tool_digest(const std::filesystem::path& path) {
    auto result = run({"fsverity", "digest", "--compact", path.string()});
    if (result.exit_code != 0) {
        return {};
    }
    return "sha256:" + result.out.substr(0, result.out.find_first_of(" \n"));
}

/// Standard base64 decoding with OpenSSL; nullopt for bad input.
inline std::optional<std::string> base64_decode(std::string_view text) {
    if (text.size() % 4 != 0) {
        return std::nullopt;
    }
    std::string out(text.size() / 4 * 3, '\0');
    int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                            reinterpret_cast<const unsigned char*>(text.data()),
                            static_cast<int>(text.size()));
    if (n < 0) {
        return std::nullopt;
    }
    auto padding = static_cast<std::size_t>(
        std::count(text.end() - std::min<std::size_t>(2, text.size()), text.end(), '='));
    out.resize(static_cast<std::size_t>(n) - padding);
    return out;
}

/// Bytes from lowercase hex.
inline std::string hex_decode(std::string_view hex) {
    std::string out;
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
        out += static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16));
    }
    return out;
}

/// A sigstore blob taken apart.
struct Sigstore {
    std::string mime_type;
    std::string payload;    // decoded
    std::string signature;  // decoded
};

inline std::optional<Sigstore> parse_sigstore(std::string_view blob) {
    static constexpr std::string_view kPrefix("\0sigstore-json\n", 15);
    if (blob.substr(0, kPrefix.size()) != kPrefix) {
        return std::nullopt;
    }
    JsonFile json(blob.substr(kPrefix.size()));
    Sigstore out;
    out.mime_type = str(json.root, "mimeType");
    auto payload = base64_decode(str(json.root, "payload"));
    auto signature =
        base64_decode(str(json.root["annotations"], "dev.cosignproject.cosign/signature"));
    if (!payload || !signature) {
        return std::nullopt;
    }
    out.payload = *payload;
    out.signature = *signature;
    return out;
}

/// Verifies `signature` over `payload` with the PEM public key (SHA-256; Ed25519 plain).
inline bool openssl_verify(std::string_view public_pem, std::string_view payload,
                           std::string_view signature) {
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(
        BIO_new_mem_buf(public_pem.data(), static_cast<int>(public_pem.size())), &BIO_free);
    std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
        PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr), &EVP_PKEY_free);
    if (!key) {
        return false;
    }
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
    const EVP_MD* md = EVP_PKEY_is_a(key.get(), "ED25519") ? nullptr : EVP_sha256();
    if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, md, nullptr, key.get()) != 1) {
        return false;
    }
    return EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                            signature.size(),
                            reinterpret_cast<const unsigned char*>(payload.data()),
                            payload.size()) == 1;
}

/// Splits the `signatures` item by the sizes in the image's metadata string.
inline std::vector<std::string> split_signatures(std::string_view joined,
                                                 const std::vector<std::uint64_t>& sizes) {
    std::vector<std::string> out;
    std::size_t at = 0;
    for (auto size : sizes) {
        out.emplace_back(joined.substr(at, size));
        at += size;
    }
    return out;
}

}  // namespace vmd::testing::checks
