// Evaluation of one signedBy requirement (GPG simple signing, DESIGN §6a) against an image's
// simple-signing signature blobs.
#pragma once

#include <chrono>
#include <cstddef>
#include <span>
#include <string_view>

#include "trust/policy/policy_data.hpp"
#include "trust/policy/reference.hpp"
#include "trust/signatures.hpp"

namespace vmd::trust {

/// What a signedBy requirement is checked against. Views borrow from the caller.
struct SimpleSigningEvidence {
    const DockerReference& reference;           // the name the caller asked for
    std::string_view manifest_digest;           // sha256 of the manifest, computed by the caller
    std::span<const SimpleSigningBlob> blobs;   // the image's simple-signing blobs
    std::size_t other_signatures = 0;           // sigstore blobs: not read here
    std::chrono::system_clock::time_point now;  // keys are judged valid or not at this time
};

/// Returns when at least one blob is accepted: an OpenPGP message signed by one of the
/// requirement's keys (valid at `now`), whose payload parses strictly, names the manifest's
/// digest and an identity that signedIdentity accepts.
/// Throws Error(PolicyRejected) for a keyType other than GPGKeys, Error(PolicyInvalid) when a
/// key file cannot be read or no key can be imported from any of them, Error(SignatureRequired)
/// when the image has no simple-signing blob, Error(SignatureInvalid) listing why each blob
/// was refused ("signature 1: …; signature 3: …", numbered by blob position).
void evaluate_signed_by(const SignedBy& requirement, const SimpleSigningEvidence& image);

}  // namespace vmd::trust
