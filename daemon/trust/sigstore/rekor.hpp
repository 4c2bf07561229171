// Rekor signed entry timestamps (SETs) as cosign attaches them (annotation
// dev.sigstore.cosign/bundle), following containers/image signature/internal/rekor_set.go.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "trust/sigstore/keys.hpp"

namespace vmd::trust {

/// What the logged hashedrekord entry must match.
struct RekorExpectation {
    std::string_view key_or_cert_der;  // DER of the signing key (SPKI) or certificate
    std::string_view signature;        // the raw signature bytes of the sigstore blob
    std::string_view payload;          // the exact payload bytes
};

/// Verifies `bundle` = {"SignedEntryTimestamp": base64, "Payload": {body, integratedTime,
/// logIndex, logID}}: the SET is an ECDSA signature by one of `rekor_keys` over the SHA-256 of
/// the canonical JSON of Payload; the body, base64 of a hashedrekord 0.0.1 entry, must log
/// the same key or certificate, the same signature and the SHA-256 of the payload.
/// Returns integratedTime (Unix seconds). Anything else: Error(SignatureInvalid).
std::int64_t verify_rekor_set(const std::vector<PublicKey>& rekor_keys, std::string_view bundle,
                              const RekorExpectation& expected);

}  // namespace vmd::trust
