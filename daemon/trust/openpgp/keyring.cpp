// Keyring::import_file: transferable public keys (RFC 4880 §11.1) with verified self-signatures.
#include <algorithm>
#include <array>

#include "common/error.hpp"
#include "trust/openpgp/armor.hpp"
#include "trust/openpgp/keyring_data.hpp"
#include "trust/openpgp/openpgp.hpp"
#include "trust/openpgp/packets.hpp"
#include "trust/openpgp/reader.hpp"
#include "trust/openpgp/signature.hpp"

namespace vmd::openpgp {

namespace {

using namespace detail;

SelfSignature facts_of(const Signature& signature) {
    return {signature.created, signature.expires_after, signature.key_expires_after,
            signature.key_flags, signature.primary_user_id};
}

bool issued_by(const Signature& signature, const PublicKey& key) {
    if (signature.issuer && *signature.issuer != key.key_id) {
        return false;
    }
    return !signature.issuer_fingerprint || *signature.issuer_fingerprint == key.fingerprint;
}

// Whether `body` is a v4 signature of `type` by `key` over `data`, made after the key. Any flaw
// (a malformed packet, a refused hash, bad cryptography) only means "no".
std::optional<Signature> verified(std::string_view body, std::initializer_list<SignatureType> types,
                                  const PublicKey& key, std::span<const std::string_view> data) {
    try {
        auto signature = parse_signature(body);
        if (signature.version != 4 ||
            std::find(types.begin(), types.end(), signature.type) == types.end() ||
            !issued_by(signature, key) || signature.created < key.created ||
            !signature_matches(key, signature, data)) {
            return std::nullopt;
        }
        return signature;
    } catch (const Error&) {
        return std::nullopt;
    }
}

// What a user ID certification hashes after the key: 0xB4, a four-byte length, the ID.
std::string user_id_prefix(std::string_view user_id) {
    auto size = static_cast<std::uint32_t>(user_id.size());
    return {'\xb4', static_cast<char>(size >> 24), static_cast<char>(size >> 16),
            static_cast<char>(size >> 8), static_cast<char>(size)};
}

// One transferable public key: its packets from the primary key to before the next one.
class KeyBlock {
  public:
    explicit KeyBlock(std::string_view primary_body) {
        primary_.key = parse_public_key(primary_body);
    }

    void add(const Packet& packet) {
        switch (packet.tag) {
            case Tag::Signature:
                add_signature(packet.body);
                break;
            case Tag::UserId:
                context_ = Context::UserId;
                user_id_ = packet.body;
                primary_.user_ids.emplace_back();
                break;
            case Tag::UserAttribute:
                context_ = Context::Ignored;  // photo IDs never make a key valid here
                break;
            case Tag::PublicSubkey:
                context_ = Context::Subkey;
                primary_.subkeys.push_back({parse_public_key(packet.body), {}});
                break;
            default:
                fail(Errc::SignatureInvalid, "key file: expected key packets, found a {} packet",
                     tag_name(packet.tag));
        }
    }

    /// The key, when it can sign and has a self-certified, unrevoked user ID.
    std::optional<PrimaryKey> finish() {
        if (foreign_revocation_ && names_revoker_) {
            primary_.revoked = true;  // stricter than gpg: any designated revoker's word counts
        }
        bool has_user_id =
            std::any_of(primary_.user_ids.begin(), primary_.user_ids.end(),
                        [](const UserId& id) { return !id.certifications.empty() && !id.revoked; });
        if (!primary_.key.pkey || !has_user_id) {
            return std::nullopt;
        }
        return std::move(primary_);
    }

  private:
    enum class Context { Primary, UserId, Subkey, Ignored };

    void add_signature(std::string_view body) {
        const auto& key = primary_.key;
        if (!key.pkey) {
            return;
        }
        switch (context_) {
            case Context::Primary:
                add_key_signature(body);
                break;
            case Context::UserId: {
                auto prefix = user_id_prefix(user_id_);
                std::array<std::string_view, 3> data{key.hashed_form, prefix, user_id_};
                auto& id = primary_.user_ids.back();
                if (auto cert = verified(
                        body,
                        {SignatureType::GenericCertification, SignatureType::PersonaCertification,
                         SignatureType::CasualCertification, SignatureType::PositiveCertification},
                        key, data)) {
                    names_revoker_ = names_revoker_ || cert->names_revoker;
                    id.certifications.push_back(facts_of(*cert));
                } else if (verified(body, {SignatureType::CertificationRevocation}, key, data)) {
                    id.revoked = true;
                }
                break;
            }
            case Context::Subkey:
                add_subkey_signature(body);
                break;
            case Context::Ignored:
                break;
        }
    }

    void add_key_signature(std::string_view body) {
        const auto& key = primary_.key;
        std::array<std::string_view, 1> data{key.hashed_form};
        if (auto direct = verified(body, {SignatureType::DirectKey}, key, data)) {
            names_revoker_ = names_revoker_ || direct->names_revoker;
            primary_.direct_signatures.push_back(facts_of(*direct));
        } else if (verified(body, {SignatureType::KeyRevocation}, key, data)) {
            primary_.revoked = true;
        } else {
            try {
                auto signature = parse_signature(body);
                foreign_revocation_ =
                    foreign_revocation_ ||
                    (signature.type == SignatureType::KeyRevocation && !issued_by(signature, key));
            } catch (const Error&) {
            }
        }
    }

    void add_subkey_signature(std::string_view body) {
        primary_.subkeys.back().signatures.emplace_back(body);
    }

    PrimaryKey primary_;
    Context context_ = Context::Primary;
    std::string_view user_id_;
    bool names_revoker_ = false;
    bool foreign_revocation_ = false;
};

// Adds `from` into `into` (the same key read twice): gpg merges, so revocations add up.
void merge(PrimaryKey& into, PrimaryKey&& from) {
    into.revoked = into.revoked || from.revoked;
    for (auto& signature : from.direct_signatures) {
        into.direct_signatures.push_back(signature);
    }
    for (auto& id : from.user_ids) {
        into.user_ids.push_back(std::move(id));
    }
    for (auto& subkey : from.subkeys) {
        auto same = std::find_if(into.subkeys.begin(), into.subkeys.end(), [&](const Subkey& held) {
            return held.key.fingerprint == subkey.key.fingerprint;
        });
        if (same == into.subkeys.end()) {
            into.subkeys.push_back(std::move(subkey));
            continue;
        }
        same->signatures.insert(same->signatures.end(), subkey.signatures.begin(),
                                subkey.signatures.end());
    }
}

}  // namespace

namespace detail {

SubkeyBindings bind_subkey(const PublicKey& primary, const Subkey& subkey) {
    SubkeyBindings result;
    std::array<std::string_view, 2> data{primary.hashed_form, subkey.key.hashed_form};
    for (const auto& body : subkey.signatures) {
        if (auto binding = verified(body, {SignatureType::SubkeyBinding}, primary, data)) {
            Binding bound{facts_of(*binding), std::nullopt};
            if (binding->embedded && subkey.key.pkey) {
                if (auto back = verified(*binding->embedded, {SignatureType::PrimaryKeyBinding},
                                         subkey.key, data)) {
                    bound.back_signature = facts_of(*back);
                }
            }
            result.bindings.push_back(bound);
        } else if (verified(body, {SignatureType::SubkeyRevocation}, primary, data)) {
            result.revoked = true;
        }
    }
    return result;
}

}  // namespace detail

Keyring::Keyring() = default;
Keyring::~Keyring() = default;
Keyring::Keyring(Keyring&&) noexcept = default;
Keyring& Keyring::operator=(Keyring&&) noexcept = default;

std::size_t Keyring::size() const {
    return keys_.size();
}

std::vector<std::string> Keyring::fingerprints() const {
    std::vector<std::string> result;
    result.reserve(keys_.size());
    for (const auto& key : keys_) {
        result.push_back(fingerprint_hex(key.key));
    }
    return result;
}

std::size_t Keyring::import_file(std::string_view bytes) {
    std::vector<PrimaryKey> imported;
    try {
        if (bytes.size() > kMaxKeyFileBytes) {
            fail(Errc::SignatureInvalid, "key file: expected at most {} bytes, found {}",
                 kMaxKeyFileBytes, bytes.size());
        }
        std::string dearmored;
        std::string_view binary = bytes;
        if (looks_armored(bytes)) {
            dearmored = dearmor(bytes, "PUBLIC KEY BLOCK");
            binary = dearmored;
        }
        auto list = parse_packets(binary, kMaxKeyFilePackets, "key file");
        std::optional<KeyBlock> block;
        std::size_t key_count = 0;
        for (const auto& packet : list.packets) {
            if (packet.tag == Tag::Trust || packet.tag == Tag::Marker) {
                continue;
            }
            if (packet.tag == Tag::PublicKey || packet.tag == Tag::PublicSubkey) {
                if (++key_count > kMaxKeysPerFile) {
                    fail(Errc::SignatureInvalid, "key file: expected at most {} keys, found more",
                         kMaxKeysPerFile);
                }
            }
            if (packet.tag == Tag::PublicKey) {
                if (block) {
                    if (auto key = block->finish()) {
                        imported.push_back(std::move(*key));
                    }
                }
                block.emplace(packet.body);
            } else if (!block) {
                fail(Errc::SignatureInvalid,
                     "key file: expected a public key packet first, found "
                     "a {} packet",
                     tag_name(packet.tag));
            } else {
                block->add(packet);
            }
        }
        if (block) {
            if (auto key = block->finish()) {
                imported.push_back(std::move(*key));
            }
        }
    } catch (const Error& error) {
        last_import_error_ = error.message();
        return 0;
    }
    std::size_t added = 0;
    for (auto& key : imported) {
        auto same = std::find_if(keys_.begin(), keys_.end(), [&](const PrimaryKey& held) {
            return held.key.fingerprint == key.key.fingerprint;
        });
        if (same != keys_.end()) {
            merge(*same, std::move(key));
        } else {
            keys_.push_back(std::move(key));
            ++added;
        }
    }
    last_import_error_ =
        imported.empty() ? "key file: expected a key with a valid self-signed user ID, found none"
        : added == 0     ? "key file: every key in it was already imported"
                         : "";
    return added;
}

}  // namespace vmd::openpgp
