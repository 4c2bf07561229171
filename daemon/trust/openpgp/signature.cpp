#include "trust/openpgp/signature.hpp"

#include "common/error.hpp"
#include "trust/openpgp/openpgp.hpp"
#include "trust/openpgp/reader.hpp"

namespace vmd::openpgp::detail {

namespace {

enum Subpacket : std::uint8_t {
    kCreationTime = 2,
    kSignatureExpiration = 3,
    kExportable = 4,
    kTrust = 5,
    kRegularExpression = 6,
    kRevocable = 7,
    kKeyExpiration = 9,
    kPreferredSymmetric = 11,
    kRevocationKey = 12,
    kIssuer = 16,
    kNotation = 20,
    kPreferredHash = 21,
    kPreferredCompression = 22,
    kKeyServerPreferences = 23,
    kPrimaryUserId = 25,
    kKeyFlags = 27,
    kFeatures = 30,
    kEmbeddedSignature = 32,
    kIssuerFingerprint = 33,
};

// Subpackets gpg 2.2 handles when marked critical. A critical notation is refused: gpg knows
// none that could appear on a simple-signing signature.
bool may_be_critical(std::uint8_t type) {
    switch (type) {
        case kCreationTime:
        case kSignatureExpiration:
        case kExportable:
        case kTrust:
        case kRegularExpression:
        case kRevocable:
        case kKeyExpiration:
        case kPreferredSymmetric:
        case kRevocationKey:
        case kIssuer:
        case kPreferredHash:
        case kPreferredCompression:
        case kKeyServerPreferences:
        case kPrimaryUserId:
        case kKeyFlags:
        case kFeatures:
        case kEmbeddedSignature:
        case kIssuerFingerprint:
            return true;
        default:
            return false;
    }
}

std::size_t subpacket_length(Reader& in) {
    std::size_t first = in.u8();
    if (first < 192) {
        return first;
    }
    if (first < 255) {
        return ((first - 192) << 8) + in.u8() + 192;
    }
    return in.u32();
}

void read_subpackets(std::string_view area, bool hashed, Signature& signature) {
    Reader in(area, "signature subpackets");
    bool seen_creation = false;
    while (!in.empty()) {
        auto length = subpacket_length(in);
        if (length == 0) {
            fail(Errc::SignatureInvalid, "signature subpackets: expected a type, found length 0");
        }
        auto header = in.u8();
        bool critical = (header & 0x80U) != 0;
        std::uint8_t type = header & 0x7fU;
        Reader value(in.bytes(length - 1), "signature subpacket");
        if (critical && !may_be_critical(type)) {
            fail(Errc::SignatureInvalid,
                 "signature: expected only critical subpackets gpg understands, found critical "
                 "{} {}",
                 type == kNotation ? "notation" : "subpacket", static_cast<int>(type));
        }
        if (!hashed) {
            // Only what authenticates itself may come from the unhashed area, where gpg puts
            // it: the issuer key ID (a hint: the cryptography decides) and the embedded
            // back-signature (a signature of its own).
            if (type == kIssuer) {
                signature.issuer = value.u64();
            } else if (type == kEmbeddedSignature) {
                signature.embedded = value.rest();
            }
            continue;
        }
        switch (type) {
            case kCreationTime:
                if (seen_creation) {
                    fail(Errc::SignatureInvalid,
                         "signature: expected one creation time, found two");
                }
                seen_creation = true;
                signature.created = value.u32();
                break;
            case kSignatureExpiration:
                signature.expires_after = value.u32();
                break;
            case kKeyExpiration:
                signature.key_expires_after = value.u32();
                break;
            case kKeyFlags:
                signature.key_flags = value.empty() ? std::uint8_t{0} : value.u8();
                break;
            case kPrimaryUserId:
                signature.primary_user_id = value.u8() != 0;
                break;
            case kRevocationKey:
                signature.names_revoker = true;
                break;
            case kIssuer:
                signature.issuer = value.u64();
                break;
            case kIssuerFingerprint:
                if (value.u8() == 4) {
                    signature.issuer_fingerprint = value.bytes(20);
                }
                break;
            case kEmbeddedSignature:
                signature.embedded = value.rest();
                break;
            default:
                break;
        }
    }
    if (hashed && !seen_creation) {
        fail(Errc::SignatureInvalid,
             "signature: expected a creation time in the hashed subpackets, found none");
    }
}

void read_values(Reader& in, Signature& signature) {
    switch (signature.algorithm) {
        case PublicKeyAlgorithm::Rsa:
        case PublicKeyAlgorithm::RsaSignOnly:
            signature.values.push_back(in.mpi(kMaxModulusBits));
            break;
        case PublicKeyAlgorithm::Dsa:
        case PublicKeyAlgorithm::Ecdsa:
        case PublicKeyAlgorithm::EdDsaLegacy:
            signature.values.push_back(in.mpi(kMaxModulusBits));
            signature.values.push_back(in.mpi(kMaxModulusBits));
            break;
        default:
            fail(Errc::SignatureInvalid,
                 "signature: expected an RSA, DSA, ECDSA or EdDSA signature, found public-key "
                 "algorithm {}",
                 static_cast<int>(signature.algorithm));
    }
    if (!in.empty()) {
        fail(Errc::SignatureInvalid,
             "signature: expected the end of the packet after the signature, found {} more bytes",
             in.remaining());
    }
}

}  // namespace

Signature parse_signature(std::string_view body) {
    Reader in(body, "signature");
    Signature signature;
    signature.version = in.u8();
    if (signature.version == 3) {
        if (in.u8() != 5) {
            fail(Errc::SignatureInvalid,
                 "v3 signature: expected 5 hashed bytes, found another count");
        }
        signature.hashed = body.substr(2, 5);
        signature.type = static_cast<SignatureType>(in.u8());
        signature.created = in.u32();
        signature.issuer = in.u64();
        signature.algorithm = static_cast<PublicKeyAlgorithm>(in.u8());
        signature.hash_algorithm = in.u8();
    } else if (signature.version == 4) {
        signature.type = static_cast<SignatureType>(in.u8());
        signature.algorithm = static_cast<PublicKeyAlgorithm>(in.u8());
        signature.hash_algorithm = in.u8();
        auto hashed_area = in.bytes(in.u16());
        signature.hashed = body.substr(0, in.offset());
        read_subpackets(hashed_area, true, signature);
        read_subpackets(in.bytes(in.u16()), false, signature);
    } else {
        fail(Errc::SignatureInvalid, "signature: expected version 3 or 4, found version {}",
             signature.version);
    }
    signature.hash_prefix = in.u16();
    read_values(in, signature);
    return signature;
}

}  // namespace vmd::openpgp::detail
