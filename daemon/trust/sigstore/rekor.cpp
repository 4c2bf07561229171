#include "trust/sigstore/rekor.hpp"

#include <openssl/err.h>
#include <openssl/pem.h>

#include "common/encoding.hpp"
#include "common/error.hpp"
#include "common/json.hpp"
#include "trust/sigstore/canonical_json.hpp"
#include "trust/sigstore/openssl_util.hpp"

namespace vmd::trust {

namespace {

constexpr json::Context kBundle{Errc::SignatureInvalid, "Rekor bundle"};
constexpr json::Context kPayload{Errc::SignatureInvalid, "Rekor SET payload"};
constexpr json::Context kEntry{Errc::SignatureInvalid, "Rekor hashedrekord entry"};

std::string decode(std::string_view base64, std::string_view what) {
    auto bytes = base64_decode(base64);
    if (!bytes) {
        fail(Errc::SignatureInvalid, "{}: expected standard base64, found invalid characters",
             what);
    }
    return std::move(*bytes);
}

std::int64_t integer(json::Object object, std::string_view key) {
    auto element = json::require(object, key, kPayload);
    if (!element.is_int64()) {
        fail(Errc::SignatureInvalid, "{}: expected an integer \"{}\", found another value",
             kPayload.what, key);
    }
    return element.get_int64().value_unsafe();
}

// The DER inside exactly one PEM block (any label), with nothing after it.
std::string pem_der(std::string_view pem) {
    BioPtr bio = memory_bio(pem);
    char* name = nullptr;
    char* header = nullptr;
    unsigned char* data = nullptr;
    long size = 0;
    int ok = bio ? PEM_read_bio(bio.get(), &name, &header, &data, &size) : 0;
    OpensslString owned_name(name);
    OpensslString owned_header(header);
    OpensslBytes owned_data(data);
    ERR_clear_error();
    if (ok != 1) {
        fail(Errc::SignatureInvalid, "{}: expected a PEM publicKey, found none", kEntry.what);
    }
    char probe = 0;
    while (BIO_read(bio.get(), &probe, 1) == 1) {
        if (probe != '\n' && probe != '\r' && probe != ' ' && probe != '\t') {
            fail(Errc::SignatureInvalid, "{}: expected one PEM publicKey, found trailing data",
                 kEntry.what);
        }
    }
    return std::string(reinterpret_cast<const char*>(data), static_cast<size_t>(size));
}

void check_entry(std::string_view body, const RekorExpectation& expected) {
    auto doc = json::Document::parse(body, kEntry.code, kEntry.what);
    auto entry = json::expect_exact_object(doc.root(), kEntry, {"apiVersion", "kind", "spec"});
    auto kind = json::expect_string(json::require(entry, "kind", kEntry), kEntry);
    auto version = json::expect_string(json::require(entry, "apiVersion", kEntry), kEntry);
    if (kind != "hashedrekord" || version != "0.0.1") {
        fail(Errc::SignatureInvalid, "{}: expected kind hashedrekord version 0.0.1, found {} {}",
             kEntry.what, json::quote(kind), json::quote(version));
    }
    auto spec = json::expect_exact_object(json::require(entry, "spec", kEntry), kEntry,
                                          {"data", "signature"});
    auto signature = json::expect_exact_object(json::require(spec, "signature", kEntry), kEntry,
                                               {"content", "publicKey"});
    auto public_key = json::expect_exact_object(json::require(signature, "publicKey", kEntry),
                                                kEntry, {"content"});
    auto logged_key =
        decode(json::expect_string(json::require(public_key, "content", kEntry), kEntry),
               "Rekor entry signature.publicKey.content");
    if (pem_der(logged_key) != expected.key_or_cert_der) {
        fail(Errc::SignatureInvalid,
             "{}: expected the signature's key or certificate, found another one logged",
             kEntry.what);
    }
    auto logged_signature =
        decode(json::expect_string(json::require(signature, "content", kEntry), kEntry),
               "Rekor entry signature.content");
    if (logged_signature != expected.signature) {
        fail(Errc::SignatureInvalid, "{}: expected the blob's signature, found another one logged",
             kEntry.what);
    }
    auto data = json::expect_exact_object(json::require(spec, "data", kEntry), kEntry, {"hash"});
    auto hash = json::expect_exact_object(json::require(data, "hash", kEntry), kEntry,
                                          {"algorithm", "value"});
    auto algorithm = json::expect_string(json::require(hash, "algorithm", kEntry), kEntry);
    auto value = json::expect_string(json::require(hash, "value", kEntry), kEntry);
    auto want = sha256_digest(expected.payload);
    if (algorithm != "sha256" || "sha256:" + std::string(value) != want) {
        fail(Errc::SignatureInvalid, "{}: expected payload hash {}, found {}:{}", kEntry.what, want,
             algorithm, value);
    }
}

}  // namespace

std::int64_t verify_rekor_set(const std::vector<PublicKey>& rekor_keys, std::string_view bundle,
                              const RekorExpectation& expected) {
    auto doc = json::Document::parse(bundle, kBundle.code, kBundle.what);
    auto root = json::expect_exact_object(doc.root(), kBundle, {"SignedEntryTimestamp", "Payload"});
    auto set =
        decode(json::expect_string(json::require(root, "SignedEntryTimestamp", kBundle), kBundle),
               "Rekor bundle SignedEntryTimestamp");
    // Only the canonical bytes are signed, and only they are read after verification.
    auto canonical = canonical_json(json::require(root, "Payload", kBundle));
    bool verified = false;
    for (const auto& key : rekor_keys) {
        verified =
            verified || (key_family(key.algorithm()) == "ECDSA" && key.verify(canonical, set));
    }
    if (!verified) {
        fail(Errc::SignatureInvalid,
             "Rekor SET: expected a signature by one of {} Rekor key(s), found none verifying",
             rekor_keys.size());
    }
    auto payload_doc = json::Document::parse(canonical, kPayload.code, kPayload.what);
    auto payload = json::expect_exact_object(payload_doc.root(), kPayload,
                                             {"body", "integratedTime", "logIndex", "logID"});
    auto integrated_time = integer(payload, "integratedTime");
    integer(payload, "logIndex");
    json::expect_string(json::require(payload, "logID", kPayload), kPayload);
    auto body = decode(json::expect_string(json::require(payload, "body", kPayload), kPayload),
                       "Rekor SET payload body");
    check_entry(body, expected);
    return integrated_time;
}

}  // namespace vmd::trust
