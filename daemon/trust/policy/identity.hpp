// signedIdentity: how the identity a signature claims must relate to the image's reference
// (containers/image signature/policy_reference_match.go semantics).
#pragma once

#include <string>
#include <string_view>

#include "common/json.hpp"
#include "trust/policy/reference.hpp"

namespace vmd::trust {

/// One signedIdentity value of policy.json.
struct SignedIdentity {
    enum class Kind {
        MatchRepoDigestOrExact,  // the default
        MatchExact,
        MatchRepository,
        ExactReference,   // `reference` holds dockerReference (with a tag or digest)
        ExactRepository,  // `reference` holds dockerRepository
        RemapIdentity,    // `prefix` is replaced by `signed_prefix`, then MatchRepoDigestOrExact
    };
    Kind kind = Kind::MatchRepoDigestOrExact;
    DockerReference reference;
    std::string prefix;
    std::string signed_prefix;
};

/// The policy.json name of `kind` ("matchRepoDigestOrExact", …).
std::string_view identity_kind_name(SignedIdentity::Kind kind);

/// Parses a signedIdentity object (exact key set per type). Unknown types, unknown, duplicate
/// or missing keys, an exactReference without tag or digest, an invalid reference or remap
/// prefix: Error(PolicyInvalid) naming `where` (e.g. "default[0].signedIdentity").
SignedIdentity parse_signed_identity(json::Element element, std::string_view where);

/// Checks a signature's claimed `signed_reference` (as written in the payload) against the
/// image reference `intended`. Returns "" on a match, otherwise the reason it does not match.
std::string identity_mismatch(const SignedIdentity& identity, const DockerReference& intended,
                              std::string_view signed_reference);

/// Checks a signature's claimed manifest digest (as written in the payload) against the
/// manifest's own, "sha256:" + hex of its bytes. Returns "" when they are equal, otherwise the
/// reason. Like skopeo 1.9, a digest by another algorithm never matches.
std::string digest_mismatch(std::string_view manifest_digest, std::string_view signed_digest);

}  // namespace vmd::trust
