// Evaluation of one sigstoreSigned requirement against an image's sigstore signature blobs.
#pragma once

#include <cstddef>
#include <span>
#include <string_view>

#include "trust/policy/policy_data.hpp"
#include "trust/policy/reference.hpp"
#include "trust/sigstore/format.hpp"

namespace vmd::trust {

/// What a sigstoreSigned requirement is checked against. Views borrow from the caller.
struct SigstoreEvidence {
    const DockerReference& reference;             // the name the caller asked for
    std::string_view manifest_digest;             // sha256 of the manifest, computed by the caller
    std::span<const NumberedSigstoreBlob> blobs;  // the image's sigstore blobs, parsed
    std::size_t other_signatures = 0;             // GPG simple-signing blobs: not read here
};

/// Returns when at least one signature is accepted: verified over its payload by a trusted
/// key, payload well-formed, digest equal to the manifest's, identity matching.
/// Throws Error(SignatureRequired) when no blob is a sigstore signature (attachments of another
/// mimeType and GPG signatures are not read), Error(SignatureInvalid) listing why each
/// candidate failed ("signature 2: …; signature 3: …", numbered by blob position),
/// Error(PolicyInvalid) for unusable key material.
void evaluate_sigstore_signed(const SigstoreSigned& requirement, const SigstoreEvidence& image);

}  // namespace vmd::trust
