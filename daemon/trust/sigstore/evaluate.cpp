#include "trust/sigstore/evaluate.hpp"

#include "common/encoding.hpp"
#include "common/error.hpp"
#include "common/json.hpp"
#include "trust/sigstore/format.hpp"
#include "trust/sigstore/verify.hpp"

namespace vmd::trust {

namespace {

// Checks one sigstore signature blob; "" when it is accepted, else the reason.
std::string check_candidate(const SigstoreSigned& requirement, const LoadedTrust& trust,
                            const SigstoreBlob& blob, const SigstoreEvidence& image) {
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
    if (auto reason = digest_mismatch(image.manifest_digest, payload.manifest_digest);
        !reason.empty()) {
        return reason;
    }
    return identity_mismatch(requirement.identity, image.reference, payload.docker_reference);
}

}  // namespace

void evaluate_sigstore_signed(const SigstoreSigned& requirement, const SigstoreEvidence& image) {
    // Key material is loaded only now, so bad keys in unused scopes do not matter.
    const auto trust = cached_trust(requirement);
    std::string reasons;
    std::size_t candidates = 0;
    for (const auto& stored : image.blobs) {
        if (stored.blob.mime_type != kSigstoreSignatureMimeType) {
            continue;  // another attachment, not a signature
        }
        auto reason = check_candidate(requirement, *trust, stored.blob, image);
        if (reason.empty()) {
            return;
        }
        ++candidates;
        reasons +=
            fmt::format("{}signature {}: {}", reasons.empty() ? "" : "; ", stored.number, reason);
    }
    if (candidates == 0) {
        fail(Errc::SignatureRequired,
             "expected at least one sigstore signature, found none ({} non-signature "
             "attachment(s), {} GPG simple-signing signature(s), which sigstoreSigned does not "
             "read)",
             image.blobs.size(), image.other_signatures);
    }
    fail(Errc::SignatureInvalid, "expected an accepted signature, found none of {}: {}", candidates,
         reasons);
}

}  // namespace vmd::trust
