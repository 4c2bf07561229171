#include "trust/sigstore/evaluate.hpp"

#include <optional>
#include <vector>

#include "common/encoding.hpp"
#include "common/error.hpp"
#include "common/json.hpp"
#include "trust/sigstore/format.hpp"
#include "trust/sigstore/verify.hpp"

namespace vmd::trust {

namespace {

// Checks one sigstore signature blob; "" when it is accepted, else the reason.
std::string check_candidate(const SigstoreSigned& requirement, const LoadedTrust& trust,
                            const SigstoreBlob& blob, const ImageEvidence& image) {
    auto annotation = blob.annotations.find(kSignatureAnnotation);
    if (annotation == blob.annotations.end()) {
        return fmt::format("expected annotation {}, found none", kSignatureAnnotation);
    }
    auto signature = base64_decode(annotation->second);
    if (!signature) {
        return fmt::format("expected base64 in annotation {}, found invalid characters",
                           kSignatureAnnotation);
    }
    SigstorePayload payload;
    try {
        verify_blob_signature(requirement, trust, blob, *signature);
        // Only bytes whose signature verified are parsed.
        payload = parse_sigstore_payload(blob.payload);
    } catch (const Error& e) {
        if (e.code() != Errc::SignatureInvalid) {
            throw;
        }
        return e.message();
    }
    if (payload.manifest_digest != image.manifest_digest) {
        return fmt::format("signed manifest digest: expected {} (the manifest's), found {}",
                           image.manifest_digest, json::quote(payload.manifest_digest));
    }
    return identity_mismatch(requirement.identity, image.reference, payload.docker_reference);
}

}  // namespace

bool is_signature_candidate(std::string_view blob) {
    if (classify_blob(blob) != BlobKind::Sigstore) {
        return true;
    }
    try {
        return parse_sigstore_blob(blob).mime_type == kSigstoreSignatureMimeType;
    } catch (const Error&) {
        return true;  // malformed: cannot be told apart from a broken signature
    }
}

void evaluate_sigstore_signed(const SigstoreSigned& requirement, const ImageEvidence& image) {
    // Key material is loaded only now, so bad keys in unused scopes do not matter.
    const auto trust = cached_trust(requirement);
    std::string reasons;
    std::size_t candidates = 0;
    for (std::size_t i = 0; i < image.signatures.size(); ++i) {
        std::string_view blob = image.signatures[i];
        std::string reason;
        switch (classify_blob(blob)) {
            case BlobKind::Gpg:
                reason = "a GPG simple-signing signature (not supported), expected sigstore";
                break;
            case BlobKind::Unknown:
                reason = blob.empty() ? "expected a signature blob, found 0 bytes"
                                      : fmt::format(
                                            "expected a sigstore blob, found first byte "
                                            "0x{:02x}",
                                            static_cast<unsigned char>(blob.front()));
                break;
            case BlobKind::Sigstore: {
                std::optional<SigstoreBlob> parsed;
                try {
                    parsed = parse_sigstore_blob(blob);
                } catch (const Error& e) {
                    reason = e.message();
                    break;
                }
                if (parsed->mime_type != kSigstoreSignatureMimeType) {
                    continue;  // another attachment, not a signature
                }
                reason = check_candidate(requirement, *trust, *parsed, image);
                if (reason.empty()) {
                    return;
                }
                break;
            }
        }
        ++candidates;
        reasons += fmt::format("{}signature {}: {}", reasons.empty() ? "" : "; ", i + 1, reason);
    }
    if (candidates == 0) {
        fail(Errc::SignatureRequired, "expected at least one sigstore signature, found {}",
             image.signatures.empty()
                 ? "none"
                 : fmt::format("only {} non-signature attachment(s)", image.signatures.size()));
    }
    fail(Errc::SignatureInvalid, "expected an accepted signature, found none of {}: {}", candidates,
         reasons);
}

}  // namespace vmd::trust
