// verify(): the simple-signing message grammar of DESIGN §6a and the checks of its signature.
#include <algorithm>
#include <array>

#include "common/error.hpp"
#include "trust/openpgp/decompress.hpp"
#include "trust/openpgp/keyring_data.hpp"
#include "trust/openpgp/openpgp.hpp"
#include "trust/openpgp/packets.hpp"
#include "trust/openpgp/reader.hpp"
#include "trust/openpgp/signature.hpp"

namespace vmd::openpgp {

namespace {

using namespace detail;

bool is_encrypted(Tag tag) {
    return tag == Tag::PublicKeyEncryptedSessionKey ||
           tag == Tag::SymmetricKeyEncryptedSessionKey || tag == Tag::SymmetricallyEncryptedData ||
           tag == Tag::SymEncryptedIntegrityProtectedData;
}

// gpg ignores marker packets ("PGP") wherever they are; anything else in one is refused.
std::vector<Packet> without_markers(const PacketList& list) {
    std::vector<Packet> packets;
    for (const auto& packet : list.packets) {
        if (packet.tag != Tag::Marker) {
            packets.push_back(packet);
        } else if (packet.body != "PGP") {
            fail(Errc::SignatureInvalid,
                 "OpenPGP message: expected a marker packet saying PGP, "
                 "found {} other bytes",
                 packet.body.size());
        }
    }
    return packets;
}

std::string describe(const std::vector<Packet>& packets) {
    std::string text;
    for (const auto& packet : packets) {
        text += text.empty() ? "" : ", ";
        text += tag_name(packet.tag);
    }
    return text.empty() ? "no packet" : text;
}

// Refuses every sequence but [one-pass signature, literal, signature] and [signature, literal],
// saying what is wrong with the one found.
void check_grammar(const std::vector<Packet>& packets) {
    auto count = [&](Tag tag) {
        return std::count_if(packets.begin(), packets.end(),
                             [&](const Packet& packet) { return packet.tag == tag; });
    };
    bool one_pass = packets.size() == 3 && packets[0].tag == Tag::OnePassSignature &&
                    packets[1].tag == Tag::LiteralData && packets[2].tag == Tag::Signature;
    bool signature_first = packets.size() == 2 && packets[0].tag == Tag::Signature &&
                           packets[1].tag == Tag::LiteralData;
    if (one_pass || signature_first) {
        return;
    }
    if (std::any_of(packets.begin(), packets.end(),
                    [](const Packet& p) { return is_encrypted(p.tag); })) {
        fail(Errc::SignatureInvalid,
             "OpenPGP message: expected a signed message, found an encrypted one ({})",
             describe(packets));
    }
    if (count(Tag::Signature) != 1) {
        fail(Errc::SignatureInvalid,
             "OpenPGP message: expected exactly one signature, found {} ({})",
             count(Tag::Signature), describe(packets));
    }
    if (count(Tag::LiteralData) != 1) {
        fail(Errc::SignatureInvalid,
             "OpenPGP message: expected exactly one literal data packet, found {} ({})",
             count(Tag::LiteralData), describe(packets));
    }
    fail(Errc::SignatureInvalid,
         "OpenPGP message: expected one-pass signature, literal data, signature (or signature, "
         "literal data), found {}",
         describe(packets));
}

// The one-pass signature must announce exactly the signature that follows (gpg hashes with
// what it announces), and be the last (innermost) one.
void check_one_pass(std::string_view body, const Signature& signature) {
    Reader in(body, "one-pass signature");
    auto version = in.u8();
    auto type = static_cast<SignatureType>(in.u8());
    auto hash = in.u8();
    auto algorithm = static_cast<PublicKeyAlgorithm>(in.u8());
    auto key_id = in.u64();
    auto last = in.u8();
    if (version != 3 || !in.empty() || last != 1) {
        fail(Errc::SignatureInvalid,
             "one-pass signature: expected version 3, 13 bytes and the last-signature flag, "
             "found version {}, {} bytes, flag {}",
             version, body.size(), last);
    }
    if (type != signature.type || hash != signature.hash_algorithm ||
        algorithm != signature.algorithm || !signature.issuer || key_id != *signature.issuer) {
        fail(Errc::SignatureInvalid,
             "one-pass signature: expected it to announce the signature that follows (type {}, "
             "{}, key {}), found type {}, {}, key {}",
             static_cast<int>(signature.type), hash_name(signature.hash_algorithm),
             key_id_hex(signature.issuer.value_or(0)), static_cast<int>(type), hash_name(hash),
             key_id_hex(key_id));
    }
}

// The literal data packet's content (format, file name and date are not signed by v4).
std::string_view literal_content(std::string_view body) {
    Reader in(body, "literal data");
    in.u8();
    in.bytes(in.u8());
    in.u32();
    return in.rest();
}

std::vector<SigningKey> candidates_for(const Signature& signature, const Keyring& keyring) {
    auto matches = [&](const PublicKey& key) {
        return (!signature.issuer || *signature.issuer == key.key_id) &&
               (!signature.issuer_fingerprint || *signature.issuer_fingerprint == key.fingerprint);
    };
    std::vector<SigningKey> found;
    for (const auto& primary : keyring.keys()) {
        if (matches(primary.key)) {
            found.push_back({&primary, nullptr});
        }
        for (const auto& subkey : primary.subkeys) {
            if (matches(subkey.key)) {
                found.push_back({&primary, &subkey});
            }
        }
    }
    return found;
}

void check_times(const Signature& signature, const PublicKey& key, std::uint32_t now) {
    if (signature.created < key.created) {
        fail(Errc::SignatureInvalid, "signature: made at {} by key {} created later, at {}",
             signature.created, fingerprint_hex(key), key.created);
    }
    if (signature.created > now) {
        fail(Errc::SignatureInvalid, "signature: made at {}, expected a time not after now ({})",
             signature.created, now);
    }
    if (signature.expires_after && *signature.expires_after != 0 &&
        std::uint64_t{signature.created} + *signature.expires_after <= now) {
        fail(Errc::SignatureInvalid, "signature: expired at {}, expected it valid now ({})",
             std::uint64_t{signature.created} + *signature.expires_after, now);
    }
}

}  // namespace

VerifiedMessage verify(std::string_view message, const Keyring& keyring,
                       std::chrono::system_clock::time_point now) {
    if (message.size() > kMaxMessageBytes) {
        fail(Errc::SignatureInvalid, "OpenPGP message: expected at most {} bytes, found {}",
             kMaxMessageBytes, message.size());
    }
    auto seconds = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
    auto now_seconds = static_cast<std::uint32_t>(std::clamp<std::int64_t>(seconds, 0, UINT32_MAX));

    auto outer = parse_packets(message, kMaxMessagePackets, "OpenPGP message");
    auto packets = without_markers(outer);
    std::string decompressed;
    PacketList inner;
    if (packets.size() == 1 && packets[0].tag == Tag::CompressedData) {
        decompressed = decompress_packet(packets[0].body, kMaxDecompressedBytes);
        inner = parse_packets(decompressed, kMaxMessagePackets, "compressed OpenPGP message");
        packets = without_markers(inner);
        if (std::any_of(packets.begin(), packets.end(),
                        [](const Packet& p) { return p.tag == Tag::CompressedData; })) {
            fail(Errc::SignatureInvalid,
                 "OpenPGP message: expected one level of compression, found nested compressed "
                 "data ({})",
                 describe(packets));
        }
    }
    check_grammar(packets);
    bool one_pass = packets[0].tag == Tag::OnePassSignature;
    auto signature = parse_signature(packets[one_pass ? 2 : 0].body);
    if (one_pass) {
        check_one_pass(packets[0].body, signature);
    }
    auto content = literal_content(packets[1].body);
    if (signature.type != SignatureType::Binary && signature.type != SignatureType::Text) {
        fail(Errc::SignatureInvalid,
             "signature: expected a binary (0x00) or text (0x01) document signature, found type "
             "0x{:02x}",
             static_cast<int>(signature.type));
    }
    // gpg hashes text-mode literal data as it stands; RFC 4880 hashes it with CR LF line ends.
    // Both agree only when every LF already follows a CR: accept just that.
    for (std::size_t i = content.find('\n');
         signature.type == SignatureType::Text && i != std::string_view::npos;
         i = content.find('\n', i + 1)) {
        if (i == 0 || content[i - 1] != '\r') {
            fail(Errc::SignatureInvalid,
                 "text signature: expected every line to end in CR LF, found a bare LF at byte {}",
                 i);
        }
    }
    if (!signature.issuer && !signature.issuer_fingerprint) {
        fail(Errc::SignatureInvalid,
             "signature: expected an issuer key ID or fingerprint, found none");
    }
    auto candidates = candidates_for(signature, keyring);
    if (candidates.empty()) {
        fail(Errc::SignatureInvalid,
             "signature: made by key {}, expected one of the {} trusted keys or their subkeys",
             signature.issuer_fingerprint ? hex_upper(*signature.issuer_fingerprint)
                                          : key_id_hex(*signature.issuer),
             keyring.size());
    }
    std::array<std::string_view, 1> data{content};
    for (const auto& candidate : candidates) {
        const auto& key = candidate.key();
        if (!signature_matches(key, signature, data)) {
            continue;
        }
        check_times(signature, key, now_seconds);
        check_signing_key_valid(candidate, now_seconds);
        return {std::string(content), fingerprint_hex(candidate.primary->key),
                fingerprint_hex(key)};
    }
    fail(Errc::SignatureInvalid, "signature: expected a valid signature by key {}, found a bad one",
         fingerprint_hex(candidates.front().key()));
}

}  // namespace vmd::openpgp
