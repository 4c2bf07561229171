// Test-only X.509 and Rekor material made with OpenSSL: CAs, Fulcio-like leaf certificates,
// and cosign bundles (Rekor SETs) signed by a test Rekor key.
#pragma once

#include <openssl/asn1.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/json.hpp"
#include "fixtures/signing.hpp"
#include "trust/sigstore/openssl_util.hpp"

namespace vmd::trust::test {

/// What a generated certificate contains.
struct CertSpec {
    std::string common_name = "test";
    bool is_ca = false;
    std::vector<std::string> emails;
    std::vector<std::string> dns_names;
    std::optional<std::string> issuer_v1;  // Fulcio OIDC issuer extension .1.1 (raw bytes)
    std::optional<std::string> issuer_v2;  // Fulcio OIDC issuer extension .1.8 (UTF8String)
    std::string extended_key_usage = "codeSigning";  // "" for none
    std::int64_t not_before = 0;                     // Unix time
    std::int64_t not_after = 4102444800;             // 2100-01-01
};

/// A certificate with the key it certifies.
struct TestCert {
    X509Ptr cert;
    testing::SigningKey key;

    std::string pem() const {
        BioPtr bio(BIO_new(BIO_s_mem()));
        if (!bio || PEM_write_bio_X509(bio.get(), cert.get()) != 1) {
            throw std::runtime_error("PEM_write_bio_X509 failed");
        }
        char* data = nullptr;
        long size = BIO_get_mem_data(bio.get(), &data);
        return std::string(data, static_cast<size_t>(size));
    }
};

inline PkeyPtr private_key(const testing::SigningKey& key) {
    auto pem = key.private_pem();
    BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    PkeyPtr pkey(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
    if (!pkey) {
        throw std::runtime_error("PEM_read_bio_PrivateKey failed");
    }
    return pkey;
}

inline void add_conf_extension(X509* cert, X509* issuer, int nid, const std::string& value) {
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
    if (ext == nullptr || X509_add_ext(cert, ext, -1) != 1) {
        X509_EXTENSION_free(ext);
        throw std::runtime_error("adding extension " + value + " failed");
    }
    X509_EXTENSION_free(ext);
}

inline void add_raw_extension(X509* cert, const char* oid, const std::string& der) {
    ASN1_OBJECT* object = OBJ_txt2obj(oid, 1);
    ASN1_OCTET_STRING* data = ASN1_OCTET_STRING_new();
    ASN1_OCTET_STRING_set(data, reinterpret_cast<const unsigned char*>(der.data()),
                          static_cast<int>(der.size()));
    X509_EXTENSION* ext = X509_EXTENSION_create_by_OBJ(nullptr, object, 0, data);
    bool ok = ext != nullptr && X509_add_ext(cert, ext, -1) == 1;
    X509_EXTENSION_free(ext);
    ASN1_OCTET_STRING_free(data);
    ASN1_OBJECT_free(object);
    if (!ok) {
        throw std::runtime_error(std::string("adding extension ") + oid + " failed");
    }
}

inline std::string utf8string_der(const std::string& text) {
    ASN1_UTF8STRING* s = ASN1_UTF8STRING_new();
    ASN1_STRING_set(s, text.data(), static_cast<int>(text.size()));
    unsigned char* der = nullptr;
    int size = i2d_ASN1_UTF8STRING(s, &der);
    ASN1_UTF8STRING_free(s);
    std::string out(reinterpret_cast<const char*>(der), static_cast<size_t>(size));
    OPENSSL_free(der);
    return out;
}

/// A certificate for `spec`, signed by `issuer` (self-signed when null). CA keys are P-384.
inline TestCert make_cert(const CertSpec& spec, const TestCert* issuer,
                          testing::KeyType key_type = testing::KeyType::EcdsaP256) {
    auto key = testing::SigningKey::generate(spec.is_ca ? testing::KeyType::EcdsaP384 : key_type);
    auto pkey = private_key(key);
    X509Ptr cert(X509_new());
    static long serial = 1;
    X509_set_version(cert.get(), X509_VERSION_3);
    ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), ++serial);
    X509_NAME* name = X509_get_subject_name(cert.get());
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>(spec.common_name.c_str()), -1,
                               -1, 0);
    X509_set_issuer_name(cert.get(), issuer ? X509_get_subject_name(issuer->cert.get()) : name);
    ASN1_TIME_set(X509_getm_notBefore(cert.get()), static_cast<time_t>(spec.not_before));
    ASN1_TIME_set(X509_getm_notAfter(cert.get()), static_cast<time_t>(spec.not_after));
    X509_set_pubkey(cert.get(), pkey.get());
    X509* issuer_cert = issuer ? issuer->cert.get() : cert.get();
    add_conf_extension(cert.get(), issuer_cert, NID_basic_constraints,
                       spec.is_ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
    add_conf_extension(cert.get(), issuer_cert, NID_key_usage,
                       spec.is_ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature");
    if (!spec.extended_key_usage.empty()) {
        add_conf_extension(cert.get(), issuer_cert, NID_ext_key_usage, spec.extended_key_usage);
    }
    std::string san;
    for (const auto& email : spec.emails) {
        san += (san.empty() ? "" : ",") + std::string("email:") + email;
    }
    for (const auto& dns : spec.dns_names) {
        san += (san.empty() ? "" : ",") + std::string("DNS:") + dns;
    }
    if (!san.empty()) {
        add_conf_extension(cert.get(), issuer_cert, NID_subject_alt_name, "critical," + san);
    }
    if (spec.issuer_v1) {
        add_raw_extension(cert.get(), "1.3.6.1.4.1.57264.1.1", *spec.issuer_v1);
    }
    if (spec.issuer_v2) {
        add_raw_extension(cert.get(), "1.3.6.1.4.1.57264.1.8", utf8string_der(*spec.issuer_v2));
    }
    auto signer = issuer ? private_key(issuer->key) : std::move(pkey);
    if (X509_sign(cert.get(), signer.get(), EVP_sha256()) <= 0) {
        throw std::runtime_error("X509_sign failed");
    }
    return TestCert{std::move(cert), std::move(key)};
}

/// What a generated Rekor bundle logs; each field can be set to mismatch on purpose.
struct BundleSpec {
    std::string key_or_cert_pem;  // logged as signature.publicKey.content
    std::string signature;        // logged as signature.content (raw bytes)
    std::string payload;          // its SHA-256 is logged as data.hash.value
    std::int64_t integrated_time = 1700000000;
    std::string api_version = "0.0.1";
};

/// The canonical SET payload for `spec`.
inline std::string rekor_payload(const BundleSpec& spec) {
    std::string hash = testing::sha256_digest(spec.payload).substr(7);
    std::string body =
        R"({"apiVersion":)" + json::quote(spec.api_version) +
        R"(,"kind":"hashedrekord","spec":{"data":{"hash":{"algorithm":"sha256","value":")" + hash +
        R"("}},"signature":{"content":")" + testing::base64(spec.signature) +
        R"(","publicKey":{"content":")" + testing::base64(spec.key_or_cert_pem) + R"("}}}})";
    return R"({"body":")" + testing::base64(body) + R"(","integratedTime":)" +
           std::to_string(spec.integrated_time) +
           R"(,"logID":"c0d23d6ad406973f9559f3ba2d1ca01f84147d8ffc5b8445c224f98b9591801d","logIndex":42})";
}

/// A cosign bundle annotation: the SET signs the canonical payload; the Payload member is
/// written with another key order and whitespace, as JSON encoders may.
inline std::string rekor_bundle(const testing::SigningKey& rekor, const BundleSpec& spec) {
    auto canonical = rekor_payload(spec);
    auto set = testing::base64(rekor.sign(canonical));
    auto body_start = canonical.find("\"body\":");
    auto body_end = canonical.find(",\"integratedTime\"");
    std::string body = canonical.substr(body_start, body_end - body_start);
    std::string reordered =
        R"({ "logIndex": 42, "logID": "c0d23d6ad406973f9559f3ba2d1ca01f84147d8ffc5b8445c224f98b9591801d", "integratedTime": )" +
        std::to_string(spec.integrated_time) + ", " + body + " }";
    return R"({"SignedEntryTimestamp":")" + set + R"(","Payload":)" + reordered + "}";
}

}  // namespace vmd::trust::test
