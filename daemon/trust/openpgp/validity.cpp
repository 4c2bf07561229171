// Key validity at the time of the request, as gpg 2.2 computes it (getkey.c's merge of
// self-signatures), erring on the strict side where its rules are subtler.
#include <fmt/chrono.h>

#include <ctime>

#include "common/error.hpp"
#include "trust/openpgp/keyring_data.hpp"
#include "trust/openpgp/signature.hpp"

namespace vmd::openpgp::detail {

namespace {

std::string utc(std::uint64_t seconds) {
    auto time = static_cast<std::time_t>(seconds);
    return fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", fmt::gmtime(time));
}

// A self-signature counts at `now` when it is not from the future and has not expired.
bool alive(const SelfSignature& signature, std::uint32_t now) {
    if (signature.created > now) {
        return false;
    }
    return !signature.expires_after || *signature.expires_after == 0 ||
           std::uint64_t{signature.created} + *signature.expires_after > now;
}

// The newest of `candidates` alive at `now` (optionally only those with the primary flag).
const SelfSignature* newest(const std::vector<const SelfSignature*>& candidates) {
    const SelfSignature* best = nullptr;
    for (const auto* candidate : candidates) {
        if (best == nullptr || candidate->created >= best->created) {
            best = candidate;
        }
    }
    return best;
}

const SelfSignature* newest_alive(const std::vector<SelfSignature>& signatures, std::uint32_t now) {
    std::vector<const SelfSignature*> candidates;
    for (const auto& signature : signatures) {
        if (alive(signature, now)) {
            candidates.push_back(&signature);
        }
    }
    return newest(candidates);
}

void check_not_expired(const PublicKey& key, const SelfSignature& signature, std::uint32_t now,
                       std::string_view what) {
    if (signature.key_expires_after && *signature.key_expires_after != 0) {
        auto expiry = std::uint64_t{key.created} + *signature.key_expires_after;
        if (expiry <= now) {
            fail(Errc::SignatureInvalid, "{} {} expired at {}; expected a key valid now ({})", what,
                 fingerprint_hex(key), utc(expiry), utc(now));
        }
    }
}

// The self-signatures that decide the primary key's expiry and flags: the newest certification
// of all valid user IDs, the newest of the user IDs flagged primary (gpg's choice), and the
// newest direct-key signature. Each must agree, so that no choice gpg makes is looser.
std::vector<const SelfSignature*> deciding_signatures(const PrimaryKey& primary,
                                                      std::uint32_t now) {
    std::vector<const SelfSignature*> per_user_id;
    for (const auto& id : primary.user_ids) {
        if (id.revoked) {
            continue;
        }
        if (const auto* cert = newest_alive(id.certifications, now)) {
            per_user_id.push_back(cert);
        }
    }
    if (per_user_id.empty()) {
        fail(Errc::SignatureInvalid,
             "key {}: expected a user ID with a valid self-signature at {}, found none",
             fingerprint_hex(primary.key), utc(now));
    }
    std::vector<const SelfSignature*> flagged;
    for (const auto* cert : per_user_id) {
        if (cert->primary_user_id) {
            flagged.push_back(cert);
        }
    }
    std::vector<const SelfSignature*> deciding{newest(per_user_id)};
    if (!flagged.empty()) {
        deciding.push_back(newest(flagged));
    }
    if (const auto* direct = newest_alive(primary.direct_signatures, now)) {
        deciding.push_back(direct);
    }
    return deciding;
}

void check_subkey(const PrimaryKey& primary, const Subkey& subkey, std::uint32_t now) {
    auto fingerprint = fingerprint_hex(subkey.key);
    auto bound = bind_subkey(primary.key, subkey);
    if (bound.revoked) {
        fail(Errc::SignatureInvalid, "subkey {} of key {} has been revoked", fingerprint,
             fingerprint_hex(primary.key));
    }
    if (subkey.key.created > now) {
        fail(Errc::SignatureInvalid, "subkey {} was created at {}, after now ({})", fingerprint,
             utc(subkey.key.created), utc(now));
    }
    const Binding* best = nullptr;
    for (const auto& binding : bound.bindings) {
        if (alive(binding.binding, now) &&
            (best == nullptr || binding.binding.created >= best->binding.created)) {
            best = &binding;
        }
    }
    if (best == nullptr) {
        fail(Errc::SignatureInvalid,
             "subkey {}: expected a valid binding signature by key {} at {}, found none",
             fingerprint, fingerprint_hex(primary.key), utc(now));
    }
    if (!best->binding.key_flags || (*best->binding.key_flags & kKeyFlagSign) == 0) {
        fail(Errc::SignatureInvalid,
             "subkey {}: expected the signing key flag in its newest binding, found flags {:02x}",
             fingerprint, best->binding.key_flags.value_or(0));
    }
    check_not_expired(subkey.key, best->binding, now, "subkey");
    if (!best->back_signature || !alive(*best->back_signature, now)) {
        fail(Errc::SignatureInvalid,
             "subkey {}: expected a valid primary key binding (back-)signature in its newest "
             "binding, found none",
             fingerprint);
    }
}

}  // namespace

void check_signing_key_valid(const SigningKey& signer, std::uint32_t now) {
    const auto& primary = *signer.primary;
    auto fingerprint = fingerprint_hex(primary.key);
    if (primary.revoked) {
        fail(Errc::SignatureInvalid, "key {} has been revoked", fingerprint);
    }
    if (primary.key.created > now) {
        fail(Errc::SignatureInvalid, "key {} was created at {}, after now ({})", fingerprint,
             utc(primary.key.created), utc(now));
    }
    for (const auto* deciding : deciding_signatures(primary, now)) {
        check_not_expired(primary.key, *deciding, now, "key");
        if (signer.subkey == nullptr && deciding->key_flags &&
            (*deciding->key_flags & kKeyFlagSign) == 0) {
            fail(Errc::SignatureInvalid,
                 "key {}: expected the signing key flag, found flags {:02x}", fingerprint,
                 *deciding->key_flags);
        }
    }
    if (signer.subkey != nullptr) {
        check_subkey(primary, *signer.subkey, now);
    }
}

}  // namespace vmd::openpgp::detail
