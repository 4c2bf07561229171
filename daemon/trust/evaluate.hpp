// Policy evaluation for the docker transport: the chosen scope's requirements, each checked by
// the room that knows its signature format (sigstore/, openpgp/).
#pragma once

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
/// over the exact `manifest` bytes and the image's raw signature blobs.
/// level Check: every requirement of the chosen scope must accept. Require: additionally a
/// requirement that verified a signature must have accepted.
/// Refusals: Error(PolicyRejected) (reject, signedBy, signedBaseLayer), Error(SignatureRequired)
/// (no signatures at all), Error(SignatureInvalid) (signatures, none accepted: the message says
/// why each candidate failed), Error(PolicyInvalid) (bad key material). Each message names the
/// scope chosen and the requirement that refused.
PolicyDecision evaluate(const Policy& policy, const DockerReference& reference,
                        std::string_view manifest, std::span<const std::string> signatures,
                        SignatureLevel level);

}  // namespace vmd::trust
