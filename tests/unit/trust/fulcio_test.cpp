// sigstoreSigned with fulcio certificates and Rekor SETs, and public keys with Rekor.
#include <gtest/gtest.h>

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "cert_builder.hpp"
#include "common/error.hpp"
#include "fixtures/signing.hpp"
#include "fixtures/test_env.hpp"
#include "trust/evaluate.hpp"
#include "trust_test_util.hpp"

namespace vmd::trust {
namespace {

using test::BundleSpec;
using test::CertSpec;
using test::TestCert;
using testing::KeyType;
using testing::SigningKey;

constexpr std::string_view kImage = "quay.io/ns/app";
constexpr std::int64_t kLogTime = 1700000000;  // 2023: the leaf below has long expired
const std::string kIssuer = "https://oidc.example.com";
const std::string kEmail = "signer@example.com";

CertSpec leaf_spec() {
    CertSpec spec;
    spec.common_name = "leaf";
    spec.emails = {kEmail};
    spec.issuer_v1 = kIssuer;
    spec.not_before = kLogTime - 60;
    spec.not_after = kLogTime + 600;
    return spec;
}

CertSpec ca_spec(std::string name) {
    CertSpec spec;
    spec.common_name = std::move(name);
    spec.is_ca = true;
    spec.extended_key_usage = "";
    return spec;
}

// A Fulcio-like PKI: root -> intermediate -> leaf, and a Rekor key.
struct Fulcio {
    TestCert root = test::make_cert(ca_spec("root"), nullptr);
    TestCert intermediate = test::make_cert(ca_spec("intermediate"), &root);
    SigningKey rekor = SigningKey::generate(KeyType::EcdsaP256);

    Policy policy(std::string_view identity = R"({"type":"matchRepository"})") const {
        return Policy::parse(R"({"default":[{"type":"sigstoreSigned","fulcio":{"caData":")" +
                             testing::base64(root.pem()) + R"(","oidcIssuer":")" + kIssuer +
                             R"(","subjectEmail":")" + kEmail + R"("},"rekorPublicKeyData":")" +
                             test::key_data(rekor) + R"(","signedIdentity":)" +
                             std::string(identity) + "}]}");
    }
};

// How to build one signature blob; the hooks break one piece at a time.
struct BlobOptions {
    bool with_chain = true;
    bool with_bundle = true;
    bool with_certificate = true;
    std::function<void(BundleSpec&)> tweak_bundle;
    const SigningKey* payload_signer = nullptr;  // default: the leaf's key
    const SigningKey* rekor_signer = nullptr;    // default: the Rekor key
    std::optional<std::string> chain;            // default: intermediate + root
};

std::string fulcio_blob(const Fulcio& f, const TestCert& leaf, const BlobOptions& o = {}) {
    auto payload = testing::sigstore_payload(kImage, testing::sha256_digest(test::kManifest));
    auto signature = (o.payload_signer ? *o.payload_signer : leaf.key).sign(payload);
    BundleSpec bundle{leaf.pem(), signature, payload, kLogTime};
    if (o.tweak_bundle) {
        o.tweak_bundle(bundle);
    }
    std::vector<std::pair<std::string, std::string>> annotations;
    if (o.with_certificate) {
        annotations.emplace_back("dev.sigstore.cosign/certificate", leaf.pem());
    }
    if (o.with_chain) {
        annotations.emplace_back("dev.sigstore.cosign/chain",
                                 o.chain ? *o.chain : f.intermediate.pem() + f.root.pem());
    }
    if (o.with_bundle) {
        annotations.emplace_back(
            "dev.sigstore.cosign/bundle",
            test::rekor_bundle(o.rekor_signer ? *o.rekor_signer : f.rekor, bundle));
    }
    return testing::sigstore_blob(payload, signature, annotations);
}

Error refusal(const Policy& policy, const std::string& blob) {
    return test::error_of([&] {
        evaluate(policy, parse_docker_reference(kImage), test::kManifest, {{blob}},
                 SignatureLevel::Require);
    });
}

class FulcioTest : public ::testing::Test {
  protected:
    Fulcio f;
    TestCert leaf = test::make_cert(leaf_spec(), &f.intermediate);
};

TEST_F(FulcioTest, AcceptsACertificateValidAtTheLogTime) {
    auto decision = evaluate(f.policy(), parse_docker_reference(kImage), test::kManifest,
                             {{fulcio_blob(f, leaf)}}, SignatureLevel::Require);
    EXPECT_TRUE(decision.signature_verified);
}

TEST_F(FulcioTest, IssuerExtensionV2AloneIsAccepted) {
    auto spec = leaf_spec();
    spec.issuer_v1.reset();
    spec.issuer_v2 = kIssuer;
    auto v2 = test::make_cert(spec, &f.intermediate);
    EXPECT_TRUE(evaluate(f.policy(), parse_docker_reference(kImage), test::kManifest,
                         {{fulcio_blob(f, v2)}}, SignatureLevel::Require)
                    .signature_verified);
}

struct LeafCase {
    std::string name;
    std::function<void(CertSpec&)> change;
    std::string says;
};

TEST_F(FulcioTest, RefusesCertificatesThatDoNotQualify) {
    const std::vector<LeafCase> cases = {
        {"OtherIssuer", [](CertSpec& s) { s.issuer_v1 = "https://evil.example.com"; },
         "expected OIDC issuer \"https://oidc.example.com\", found \"https://evil.example.com\""},
        {"InconsistentIssuers", [](CertSpec& s) { s.issuer_v2 = "https://other"; },
         "consistent OIDC issuer extensions"},
        {"NoIssuer", [](CertSpec& s) { s.issuer_v1.reset(); }, "OIDC issuer extension"},
        {"OtherEmail", [](CertSpec& s) { s.emails = {"mallory@example.com"}; },
         "expected e-mail \"signer@example.com\", found [\"mallory@example.com\"]"},
        {"NotYetValidAtLogTime", [](CertSpec& s) { s.not_before = kLogTime + 10; },
         "certificate is not yet valid"},
        {"ExpiredAtLogTime", [](CertSpec& s) { s.not_after = kLogTime - 10; },
         "certificate has expired"},
        {"ServerAuthOnly", [](CertSpec& s) { s.extended_key_usage = "serverAuth"; },
         "code-signing extended key usage"},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.name);
        auto spec = leaf_spec();
        c.change(spec);
        auto bad = test::make_cert(spec, &f.intermediate);
        auto e = refusal(f.policy(), fulcio_blob(f, bad));
        EXPECT_EQ(e.code(), Errc::SignatureInvalid);
        EXPECT_NE(e.message().find(c.says), std::string::npos) << e.message();
    }
}

TEST_F(FulcioTest, ChainMustLeadToTheConfiguredCa) {
    BlobOptions no_chain;
    no_chain.with_chain = false;
    EXPECT_NE(refusal(f.policy(), fulcio_blob(f, leaf, no_chain))
                  .message()
                  .find("unable to get local issuer certificate"),
              std::string::npos);
    Fulcio other;
    auto foreign = test::make_cert(leaf_spec(), &other.intermediate);
    auto e = refusal(f.policy(), fulcio_blob(f, foreign));
    EXPECT_EQ(e.code(), Errc::SignatureInvalid);
    EXPECT_NE(e.message().find("certificate chain"), std::string::npos) << e.message();
    // The chain annotation's own root is never trusted.
    BlobOptions own_chain;
    own_chain.chain = other.intermediate.pem() + other.root.pem();
    auto self_rooted = refusal(f.policy(), fulcio_blob(f, foreign, own_chain));
    EXPECT_EQ(self_rooted.code(), Errc::SignatureInvalid);
    EXPECT_NE(self_rooted.message().find("certificate chain: expected a chain to a trusted CA"),
              std::string::npos)
        << self_rooted.message();
    // With the trusted chain, the same blob shape is accepted.
    EXPECT_NO_THROW(evaluate(f.policy(), parse_docker_reference(kImage), test::kManifest,
                             {{fulcio_blob(f, leaf, {})}}, SignatureLevel::Require));
}

TEST_F(FulcioTest, RekorBundleMustVouchForThisSignature) {
    auto stranger = SigningKey::generate(KeyType::EcdsaP256);
    struct BundleCase {
        std::string name;
        BlobOptions options;
        std::string says;
    };
    std::vector<BundleCase> cases(7);
    cases[0] = {"NoBundle", {}, "expected annotation dev.sigstore.cosign/bundle"};
    cases[0].options.with_bundle = false;
    cases[1] = {"OtherRekorKey", {}, "Rekor SET: expected a signature by one of 1 Rekor key(s)"};
    cases[1].options.rekor_signer = &stranger;
    cases[2] = {"OtherCertificateLogged", {}, "found another one logged"};
    cases[2].options.tweak_bundle = [&](BundleSpec& b) { b.key_or_cert_pem = f.root.pem(); };
    cases[3] = {"OtherSignatureLogged", {}, "expected the blob's signature"};
    cases[3].options.tweak_bundle = [](BundleSpec& b) { b.signature = "forged"; };
    cases[4] = {"OtherPayloadLogged", {}, "expected payload hash"};
    cases[4].options.tweak_bundle = [](BundleSpec& b) { b.payload += " "; };
    cases[5] = {"UnknownEntryVersion", {}, "expected kind hashedrekord version 0.0.1"};
    cases[5].options.tweak_bundle = [](BundleSpec& b) { b.api_version = "0.0.2"; };
    cases[6] = {"PayloadNotByTheCertificate", {}, "verification failed with the certificate's key"};
    cases[6].options.payload_signer = &stranger;
    for (const auto& c : cases) {
        SCOPED_TRACE(c.name);
        auto e = refusal(f.policy(), fulcio_blob(f, leaf, c.options));
        EXPECT_EQ(e.code(), Errc::SignatureInvalid);
        EXPECT_NE(e.message().find(c.says), std::string::npos) << e.message();
    }
    BlobOptions no_cert;
    no_cert.with_certificate = false;
    EXPECT_NE(refusal(f.policy(), fulcio_blob(f, leaf, no_cert))
                  .message()
                  .find("expected annotation dev.sigstore.cosign/certificate"),
              std::string::npos);
}

TEST_F(FulcioTest, TamperedSetPayloadIsRefused) {
    auto blob = fulcio_blob(f, leaf);
    auto at = blob.find(std::to_string(kLogTime));
    ASSERT_NE(at, std::string::npos);
    blob.replace(at, 10, std::to_string(kLogTime + 1));
    EXPECT_NE(refusal(f.policy(), blob).message().find("Rekor SET: expected a signature"),
              std::string::npos);
}

TEST_F(FulcioTest, BadTrustMaterialIsPolicyInvalid) {
    auto rsa = SigningKey::generate(KeyType::Rsa2048);
    auto rsa_rekor =
        Policy::parse(R"({"default":[{"type":"sigstoreSigned","fulcio":{"caData":")" +
                      testing::base64(f.root.pem()) +
                      R"(","oidcIssuer":"i","subjectEmail":"e"},"rekorPublicKeyData":")" +
                      test::key_data(rsa) + "\"}]}");
    auto e = refusal(rsa_rekor, fulcio_blob(f, leaf));
    EXPECT_EQ(e.code(), Errc::PolicyInvalid);
    EXPECT_NE(e.message().find("expected an ECDSA Rekor key"), std::string::npos) << e.message();

    auto not_a_cert = Policy::parse(
        R"({"default":[{"type":"sigstoreSigned","fulcio":{"caData":")" + test::key_data(rsa) +
        R"(","oidcIssuer":"i","subjectEmail":"e"},"rekorPublicKeyData":")" +
        test::key_data(f.rekor) + "\"}]}");
    e = refusal(not_a_cert, fulcio_blob(f, leaf));
    EXPECT_EQ(e.code(), Errc::PolicyInvalid);
    EXPECT_NE(e.message().find("\"CERTIFICATE\" blocks"), std::string::npos) << e.message();
}

TEST(KeysWithRekor, SetMustLogTheConfiguredKey) {
    testing::TempDir dir;
    auto key = SigningKey::generate(KeyType::Rsa2048);
    auto rekor = SigningKey::generate(KeyType::EcdsaP256);
    // A PKCS#1 key file: the log holds the SubjectPublicKeyInfo PEM cosign writes.
    testing::write_file(dir.path() / "key.pem", key.public_pem_pkcs1());
    testing::write_file(dir.path() / "rekor.pem", rekor.public_pem());
    auto policy = Policy::parse(
        R"({"default":[{"type":"sigstoreSigned","keyPath":")" + (dir.path() / "key.pem").string() +
        R"(","rekorPublicKeyPaths":[")" + (dir.path() / "rekor.pem").string() +
        R"("],"signedIdentity":{"type":"matchRepository"}}]})");
    auto payload = testing::sigstore_payload(kImage, testing::sha256_digest(test::kManifest));
    auto signature = key.sign(payload);
    auto blob_logging = [&](const std::string& logged_pem) {
        return testing::sigstore_blob(
            payload, signature,
            {{"dev.sigstore.cosign/bundle",
              test::rekor_bundle(rekor, BundleSpec{logged_pem, signature, payload})}});
    };
    EXPECT_TRUE(evaluate(policy, parse_docker_reference(kImage), test::kManifest,
                         {{blob_logging(key.public_pem())}}, SignatureLevel::Require)
                    .signature_verified);
    auto other = SigningKey::generate(KeyType::Rsa2048);
    auto e = refusal(policy, blob_logging(other.public_pem()));
    EXPECT_EQ(e.code(), Errc::SignatureInvalid);
    EXPECT_NE(e.message().find("found another one logged"), std::string::npos) << e.message();
    e = refusal(policy, testing::sigstore_blob(payload, signature));
    EXPECT_NE(e.message().find("expected annotation dev.sigstore.cosign/bundle"),
              std::string::npos);
}

}  // namespace
}  // namespace vmd::trust
