// Sigstore signature blobs as containers/image stores them, and the simple-signing payload.
#pragma once

#include <map>
#include <string>
#include <string_view>

namespace vmd::trust {

/// The only sigstore attachment mimeType that is a signature.
inline constexpr std::string_view kSigstoreSignatureMimeType =
    "application/vnd.dev.cosign.simplesigning.v1+json";
/// Annotation holding the base64 signature over the payload.
inline constexpr std::string_view kSignatureAnnotation = "dev.cosignproject.cosign/signature";
/// Annotations of Fulcio/PKI certificates and of the Rekor bundle.
inline constexpr std::string_view kCertificateAnnotation = "dev.sigstore.cosign/certificate";
inline constexpr std::string_view kChainAnnotation = "dev.sigstore.cosign/chain";
inline constexpr std::string_view kBundleAnnotation = "dev.sigstore.cosign/bundle";
/// The payload's critical.type.
inline constexpr std::string_view kSigstoreSignatureType = "cosign container image signature";

/// What kind of blob a stored signature is, from its first bytes.
enum class BlobKind {
    Sigstore,  // 0x00 "sigstore-json" '\n' JSON
    Gpg,       // first byte an OpenPGP packet tag (bit 7 set): simple signing, unsupported
    Unknown,   // anything else, including an empty blob
};

/// Classifies `blob` by its prefix only.
BlobKind classify_blob(std::string_view blob);

/// A parsed sigstore blob; nothing in it is verified yet.
struct SigstoreBlob {
    std::string mime_type;
    std::string payload;  // decoded from base64: the exact signed bytes
    std::map<std::string, std::string, std::less<>> annotations;
};

/// Parses a blob of kind Sigstore: JSON {mimeType, payload (base64), annotations {string:
/// string}} with no other and no duplicate keys. Malformed input throws
/// Error(SignatureInvalid) saying what is wrong.
SigstoreBlob parse_sigstore_blob(std::string_view blob);

/// The claims of a simple-signing payload.
struct SigstorePayload {
    std::string docker_reference;  // critical.identity.docker-reference, as written
    std::string manifest_digest;   // critical.image.docker-manifest-digest
};

/// Parses the payload strictly: exactly {critical{identity{docker-reference}, image
/// {docker-manifest-digest}, type}, optional (null or an object)}, no duplicate key at any
/// depth, type "cosign container image signature". Otherwise Error(SignatureInvalid).
/// Call only on bytes whose signature was verified.
SigstorePayload parse_sigstore_payload(std::string_view payload);

}  // namespace vmd::trust
