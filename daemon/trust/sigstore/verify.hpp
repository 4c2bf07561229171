// The cryptographic part of sigstoreSigned: which key may have signed a blob (a configured
// key, or a certificate chaining to the configured fulcio/pki CA), and its Rekor SET.
#pragma once

#include <memory>
#include <string_view>
#include <vector>

#include "trust/policy/policy_data.hpp"
#include "trust/sigstore/format.hpp"
#include "trust/sigstore/keys.hpp"
#include "trust/sigstore/openssl_util.hpp"

namespace vmd::trust {

/// A requirement's key material, loaded once per evaluation.
struct LoadedTrust {
    std::vector<PublicKey> keys;            // keyPath(s)/keyData(s)
    std::vector<PublicKey> rekor_keys;      // ECDSA only
    std::vector<X509Ptr> ca_roots;          // fulcio CA, or pki roots
    std::vector<X509Ptr> ca_intermediates;  // pki intermediates from the policy
};

/// Loads every key and certificate the requirement names. Unreadable or unusable material,
/// or a non-ECDSA Rekor key: Error(PolicyInvalid).
LoadedTrust load_trust(const SigstoreSigned& requirement);

/// load_trust(requirement), kept between requests while every key file it names keeps its
/// version (TrustedFileCache): the files are in trusted /etc, parsing them costs more than a
/// stat each.
std::shared_ptr<const LoadedTrust> cached_trust(const SigstoreSigned& requirement);

/// Verifies that `signature` over `blob.payload` was made by a trusted key: one of the
/// configured keys, or the key of the blob's certificate once the certificate chains to the
/// configured CA and carries the required issuer/e-mail/hostname (fulcio: at the Rekor
/// integrated time). When Rekor keys are configured, the blob's SET must log this signature.
/// Returns normally on success; every rejection is Error(SignatureInvalid) with the reason.
void verify_blob_signature(const SigstoreSigned& requirement, const LoadedTrust& trust,
                           const SigstoreBlob& blob, std::string_view signature);

}  // namespace vmd::trust
