// An image's stored signature blobs, read by format as containers/image reads them
// (DESIGN §6 "Signatures in the store").
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "trust/sigstore/format.hpp"

namespace vmd::trust {

/// A GPG simple-signing signature: an OpenPGP message, not yet verified.
struct SimpleSigningBlob {
    std::size_t number = 0;    // position among the image's blobs, from 1
    std::string_view message;  // without a "\0simple-signing\n" prefix; borrows from the blobs
};

/// The image's signature blobs by format, each still untrusted.
struct StoredSignatures {
    std::vector<NumberedSigstoreBlob> sigstore;     // parsed: read by sigstoreSigned
    std::vector<SimpleSigningBlob> simple_signing;  // read by signedBy
};

/// Sorts `blobs` by format: "\0sigstore-json\n" + JSON is sigstore (parsed here);
/// "\0simple-signing\n" + message, or a bare message whose first byte starts an OpenPGP
/// signed message (A0–A3, C8, 90–92, 3D, C4, 88–8B, C2, the set containers/image knows), is
/// simple signing. Any other blob — armored text, an encrypted message, an empty blob, a
/// sigstore blob that does not parse — makes containers/image refuse to read the image's
/// signatures at all: Error(StorageCorrupt) naming the blob, whatever requirement applies.
/// The simple-signing views borrow from `blobs`.
StoredSignatures read_signatures(std::span<const std::string> blobs);

}  // namespace vmd::trust
