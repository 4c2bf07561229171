// X.509 certificates for sigstore's fulcio and pki trust roots, checked with OpenSSL.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"
#include "trust/sigstore/keys.hpp"
#include "trust/sigstore/openssl_util.hpp"

namespace vmd::trust {

/// Every certificate of a PEM bundle; at least one. Non-certificate blocks or bad DER:
/// Error(code) naming `origin`.
std::vector<X509Ptr> load_certificates(std::string_view pem, Errc code, std::string_view origin);

/// The one certificate of a PEM text (a signature's certificate annotation).
/// Anything else: Error(SignatureInvalid).
X509Ptr load_leaf_certificate(std::string_view pem);

/// What a certificate chain is checked against.
struct ChainTrust {
    const std::vector<X509Ptr>& roots;
    std::vector<X509*> intermediates;     // borrowed; untrusted, only used to build the chain
    std::optional<std::int64_t> at_time;  // Unix time to verify at; nullopt = now
};

/// Verifies `leaf` up to one of the roots (signatures, validity at the time, CA constraints,
/// no unknown critical extension); every certificate of the chain that has an extended key
/// usage must allow code signing. Returns "" on success, else the reason.
std::string verify_chain(X509* leaf, const ChainTrust& trust);

/// The Fulcio OIDC issuer: extension 1.3.6.1.4.1.57264.1.1 (raw) and/or .1.8 (UTF8String),
/// which must agree. Missing, duplicated or inconsistent: Error(SignatureInvalid).
std::string fulcio_issuer(X509* cert);

/// The rfc822Name entries of the subject alternative names.
std::vector<std::string> san_emails(X509* cert);

/// Whether the certificate is valid for `hostname` (DNS SANs with wildcards, or an IP SAN).
bool matches_hostname(X509* cert, std::string_view hostname);

/// The certificate's public key, as a verifier (SignatureInvalid for unusable key types).
PublicKey certificate_key(X509* cert);

/// DER of a certificate.
std::string certificate_der(X509* cert);

}  // namespace vmd::trust
