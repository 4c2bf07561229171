// Trust material of fuzz_sigstore and fuzz_rekor: public keys and a CA from keys/ (made by
// make-sigstore-seeds.py, which also signs the seeds that pass with them).
#pragma once

#include <openssl/evp.h>

#include <fstream>
#include <iterator>
#include <string>
#include <string_view>

#include "fuzz_support.hpp"

namespace vmd::fuzz {

/// A file of the fuzz source directory (tests/fuzz/<relative>); missing is fatal.
inline std::string source_file(std::string_view relative) {
    std::string path = std::string(VMD_FUZZ_SOURCE_DIR) + "/" + std::string(relative);
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        finding("cannot read {}", path);
    }
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

/// Standard padded base64, as policy.json's *Data fields want it.
inline std::string base64(std::string_view bytes) {
    std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
    int length = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                 reinterpret_cast<const unsigned char*>(bytes.data()),
                                 static_cast<int>(bytes.size()));
    out.resize(static_cast<std::size_t>(length));
    return out;
}

/// What make-sigstore-seeds.py put into the generated certificates.
inline constexpr std::string_view kOidcIssuer = "https://oidc.fuzz.example";
inline constexpr std::string_view kSubjectEmail = "signer@fuzz.example";

}  // namespace vmd::fuzz
