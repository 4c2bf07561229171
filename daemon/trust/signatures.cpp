#include "trust/signatures.hpp"

#include <algorithm>
#include <array>

#include "common/error.hpp"

namespace vmd::trust {

namespace {

constexpr std::string_view kSimpleSigningPrefix{"\0simple-signing\n", 16};

// The first bytes containers/image (internal/signature.FromBlob) takes for a bare OpenPGP
// message: old-format compressed data A0–A3 and new-format C8; old-format one-pass signature
// 90–92 (and 3D, as containers/image lists it) and new-format C4; old-format signature 88–8B
// and new-format C2. 0x93, 0x84 (encrypted) or '-' (armor) are not in it.
constexpr std::array<unsigned char, 15> kOpenpgpFirstBytes = {
    0xA0, 0xA1, 0xA2, 0xA3, 0xC8, 0x90, 0x91, 0x92, 0x3D, 0xC4, 0x88, 0x89, 0x8A, 0x8B, 0xC2};

bool starts_openpgp_message(std::string_view blob) {
    return !blob.empty() &&
           std::find(kOpenpgpFirstBytes.begin(), kOpenpgpFirstBytes.end(),
                     static_cast<unsigned char>(blob.front())) != kOpenpgpFirstBytes.end();
}

std::string describe_start(std::string_view blob) {
    if (blob.empty()) {
        return "0 bytes";
    }
    auto first = static_cast<unsigned char>(blob.front());
    if (first >= 0x20 && first < 0x7f) {
        return fmt::format("first byte 0x{:02x} ('{}')", first, static_cast<char>(first));
    }
    return fmt::format("first byte 0x{:02x}", first);
}

}  // namespace

StoredSignatures read_signatures(std::span<const std::string> blobs) {
    StoredSignatures out;
    for (std::size_t i = 0; i < blobs.size(); ++i) {
        std::string_view blob = blobs[i];
        std::size_t number = i + 1;
        if (blob.starts_with(kSigstoreBlobPrefix)) {
            try {
                out.sigstore.push_back({number, parse_sigstore_blob(blob)});
            } catch (const Error& e) {
                fail(Errc::StorageCorrupt,
                     "signature {} of {}: {} (containers/image cannot read such an image's "
                     "signatures)",
                     number, blobs.size(), e.message());
            }
        } else if (blob.starts_with(kSimpleSigningPrefix)) {
            out.simple_signing.push_back({number, blob.substr(kSimpleSigningPrefix.size())});
        } else if (starts_openpgp_message(blob)) {
            out.simple_signing.push_back({number, blob});
        } else {
            fail(Errc::StorageCorrupt,
                 "signature {} of {}: expected a sigstore blob (\\0sigstore-json\\n), a "
                 "\\0simple-signing\\n blob or a binary OpenPGP message (first byte A0-A3, C8, "
                 "90-92, 3D, C4, 88-8B or C2), found {} (containers/image cannot read such an "
                 "image's signatures)",
                 number, blobs.size(), describe_start(blob));
        }
    }
    return out;
}

}  // namespace vmd::trust
