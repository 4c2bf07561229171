#include "trust/signed_by.hpp"

#include <memory>

#include "common/error.hpp"
#include "common/json.hpp"
#include "common/trusted_file_cache.hpp"
#include "trust/openpgp/openpgp.hpp"
#include "trust/policy/identity.hpp"
#include "trust/simple_signing.hpp"

namespace vmd::trust {

namespace {

constexpr std::string_view kGpgKeys = "GPGKeys";

// Imports each key file or keyData on its own: one that imports nothing does not stop the
// others (as gpgme's import in containers/image), but none at all leaves nothing to trust.
openpgp::Keyring load_keyring(const SignedBy& requirement) {
    openpgp::Keyring keyring;
    std::string imported;
    for (const auto& source : requirement.keys) {
        const auto added = keyring.import_file(load_key_source(source));
        imported += fmt::format("{}{}: {}", imported.empty() ? "" : "; ", source.origin, added);
        if (added == 0 && !keyring.last_import_error().empty()) {
            imported += fmt::format(" ({})", keyring.last_import_error());
        }
    }
    if (keyring.size() == 0) {
        fail(Errc::PolicyInvalid,
             "signedBy: expected at least one GPG public key with a valid self-signed user ID, "
             "found none (primary keys imported per source: {})",
             imported);
    }
    return keyring;
}

// load_keyring(requirement), kept between requests while every key file keeps its version:
// the files are trusted /etc files, and importing them costs far more than a stat each.
std::shared_ptr<const openpgp::Keyring> cached_keyring(const SignedBy& requirement) {
    KeySourceSet sources;
    for (const auto& source : requirement.keys) {
        sources.add(source);
    }
    static TrustedFileCache<openpgp::Keyring> cache;
    return cache.get(sources.cache_key, sources.files, [&] { return load_keyring(requirement); });
}

// Checks one blob; "" when it is accepted, else the reason.
std::string check_candidate(const SignedBy& requirement, const openpgp::Keyring& keyring,
                            const SimpleSigningBlob& blob, const SimpleSigningEvidence& image) {
    openpgp::VerifiedMessage message;
    SimpleSigningPayload payload;
    try {
        message = openpgp::verify(blob.message, keyring, image.now);
        // Only literal data whose signature verified is parsed.
        payload = parse_simple_signing_payload(message.literal_data);
    } catch (const Error& e) {
        if (e.code() != Errc::SignatureInvalid) {
            throw;
        }
        return message.signer_fingerprint.empty()
                   ? e.message()
                   : fmt::format("signed by {}: {}", message.signer_fingerprint, e.message());
    }
    auto reason = digest_mismatch(image.manifest_digest, payload.manifest_digest);
    if (reason.empty()) {
        reason = identity_mismatch(requirement.identity, image.reference, payload.docker_reference);
    }
    return reason.empty() ? reason
                          : fmt::format("signed by {}: {}", message.signer_fingerprint, reason);
}

}  // namespace

void evaluate_signed_by(const SignedBy& requirement, const SimpleSigningEvidence& image) {
    if (requirement.key_type != kGpgKeys) {
        fail(Errc::PolicyRejected,
             "signedBy: expected keyType {}, found {} (parsed, but only GPG keys are supported)",
             kGpgKeys, json::quote(requirement.key_type));
    }
    // Key material is loaded only now, so bad keys in unused scopes do not matter.
    const auto keyring = cached_keyring(requirement);
    if (image.blobs.empty()) {
        fail(Errc::SignatureRequired,
             "expected at least one GPG simple-signing signature, found none ({} sigstore "
             "signature blob(s), which signedBy does not read)",
             image.other_signatures);
    }
    std::string reasons;
    for (const auto& blob : image.blobs) {
        auto reason = check_candidate(requirement, *keyring, blob, image);
        if (reason.empty()) {
            return;  // one accepted signature is enough
        }
        reasons +=
            fmt::format("{}signature {}: {}", reasons.empty() ? "" : "; ", blob.number, reason);
    }
    fail(Errc::SignatureInvalid, "expected an accepted signature, found none of {}: {}",
         image.blobs.size(), reasons);
}

}  // namespace vmd::trust
