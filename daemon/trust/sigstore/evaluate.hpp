// Evaluation of one sigstoreSigned requirement against an image's signature blobs.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "trust/policy/policy_data.hpp"
#include "trust/policy/reference.hpp"

namespace vmd::trust {

/// True when `blob` counts as a signature: anything but a well-formed sigstore attachment
/// whose mimeType is not the simple-signing one (those are ignored entirely).
bool is_signature_candidate(std::string_view blob);

/// What the requirement is checked against.
struct ImageEvidence {
    const DockerReference& reference;         // the name the caller asked for
    std::string_view manifest;                // the exact manifest bytes
    std::string_view manifest_digest;         // sha256 of `manifest`, computed by the caller
    std::span<const std::string> signatures;  // raw blobs as stored
};

/// Returns when at least one signature is accepted: verified over its payload by a trusted
/// key, payload well-formed, digest equal to the manifest's, identity matching.
/// Throws Error(SignatureRequired) when there is no candidate, Error(SignatureInvalid) listing
/// why each candidate failed ("signature 2: …; signature 3: …", numbered by blob position),
/// Error(PolicyInvalid) for unusable key material.
void evaluate_sigstore_signed(const SigstoreSigned& requirement, const ImageEvidence& image);

}  // namespace vmd::trust
