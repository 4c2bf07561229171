// Policy evaluation for the docker transport: the chosen scope's requirements, each checked by
// the room that knows its signature format (sigstore/, openpgp/).
#pragma once

#include <chrono>
#include <span>
#include <string>
#include <string_view>

#include "common/levels.hpp"
#include "trust/policy/policy.hpp"
#include "trust/policy/reference.hpp"

namespace vmd::trust {

/// What an accepting evaluation found.
struct PolicyDecision {
    std::string scope;                // the matching scope key; "" for the transport default,
                                      // "default" for the policy's default
    bool signature_verified = false;  // a signature-verifying requirement accepted
};

/// Evaluates the docker-transport requirements for `reference` (the name the caller asked for)
/// over the exact `manifest` bytes and the image's raw signature blobs, judging GPG keys valid
/// or not at `now`. Level Off: only the scope is chosen. Check: every requirement of the chosen
/// scope must accept. Require: additionally the scope must hold a signature-verifying
/// requirement (signedBy, sigstoreSigned), which then accepted.
/// Refusals: Error(StorageCorrupt) (a signature blob of no known format, whatever the scope),
/// Error(PolicyRejected) (reject, signedBaseLayer, a signedBy keyType other than GPGKeys),
/// Error(SignatureRequired) (no signature of the kind a requirement reads, or no
/// signature-verifying requirement under Require), Error(SignatureInvalid) (signatures, none
/// accepted: the message says why each candidate failed), Error(PolicyInvalid) (bad key
/// material). Each requirement's refusal names the scope chosen and the requirement.
PolicyDecision evaluate(
    const Policy& policy, const DockerReference& reference, std::string_view manifest,
    std::span<const std::string> signatures, SignatureLevel level,
    std::chrono::system_clock::time_point now = std::chrono::system_clock::now());

}  // namespace vmd::trust
