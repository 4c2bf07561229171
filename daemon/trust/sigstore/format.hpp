// Sigstore signature blobs as containers/image stores them, and the simple-signing payload.
#pragma once

#include <cstddef>
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

/// How a stored sigstore blob starts: a zero byte, the format name, a newline, then the JSON.
inline constexpr std::string_view kSigstoreBlobPrefix{"\0sigstore-json\n", 15};

/// A parsed sigstore blob; nothing in it is verified yet.
struct SigstoreBlob {
    std::string mime_type;
    std::string payload;  // decoded from base64: the exact signed bytes
    std::map<std::string, std::string, std::less<>> annotations;
};

/// Parses a blob starting with kSigstoreBlobPrefix: JSON {mimeType, payload (base64),
/// annotations {string: string}} with no other and no duplicate keys; payload and annotations
/// may be null (empty), as Go writes an empty byte slice or map. Malformed input throws
/// Error(SignatureInvalid) saying what is wrong.
SigstoreBlob parse_sigstore_blob(std::string_view blob);

/// A parsed sigstore blob and its position among the image's signature blobs (from 1), by
/// which refusal messages name it.
struct NumberedSigstoreBlob {
    std::size_t number = 0;
    SigstoreBlob blob;
};

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
