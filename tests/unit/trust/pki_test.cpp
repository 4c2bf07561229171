// sigstoreSigned with pki: certificates chaining to configured roots (and intermediates).
#include <gtest/gtest.h>

#include <ctime>
#include <string>
#include <vector>

#include "cert_builder.hpp"
#include "common/error.hpp"
#include "fixtures/signing.hpp"
#include "trust/evaluate.hpp"
#include "trust_test_util.hpp"

namespace vmd::trust {
namespace {

using test::CertSpec;
using test::TestCert;
using testing::KeyType;

constexpr std::string_view kImage = "quay.io/ns/app:1";

CertSpec ca(std::string name) {
    CertSpec spec;
    spec.common_name = std::move(name);
    spec.is_ca = true;
    spec.extended_key_usage = "";
    return spec;
}

CertSpec leaf_spec() {
    CertSpec spec;
    spec.common_name = "builder";
    spec.emails = {"build@example.com"};
    spec.dns_names = {"*.build.example.com"};
    spec.not_before = std::time(nullptr) - 3600;
    return spec;
}

class PkiTest : public ::testing::Test {
  protected:
    TestCert root = test::make_cert(ca("pki root"), nullptr);
    TestCert intermediate = test::make_cert(ca("pki intermediate"), &root);

    // pki with `subject` members; intermediates from the policy unless `policy_intermediates`.
    Policy policy(std::string_view subject, bool policy_intermediates = true) const {
        std::string pki = R"({"caRootsData":")" + testing::base64(root.pem()) + "\"";
        if (policy_intermediates) {
            pki += R"(,"caIntermediatesData":")" + testing::base64(intermediate.pem()) + "\"";
        }
        pki += "," + std::string(subject) + "}";
        return Policy::parse(R"({"default":[{"type":"sigstoreSigned","pki":)" + pki + "}]}");
    }

    std::string blob(const TestCert& leaf, std::string chain = "", bool with_cert = true) const {
        auto payload = testing::sigstore_payload(kImage, testing::sha256_digest(test::kManifest));
        std::vector<std::pair<std::string, std::string>> annotations;
        if (with_cert) {
            annotations.emplace_back("dev.sigstore.cosign/certificate", leaf.pem());
        }
        if (!chain.empty()) {
            annotations.emplace_back("dev.sigstore.cosign/chain", chain);
        }
        return testing::sigstore_blob(payload, leaf.key.sign(payload), annotations);
    }

    PolicyDecision run(const Policy& p, const std::string& b) const {
        return evaluate(p, parse_docker_reference(kImage), test::kManifest, {{b}},
                        SignatureLevel::Require);
    }

    Error refusal(const Policy& p, const std::string& b) const {
        return test::error_of([&] { run(p, b); });
    }
};

TEST_F(PkiTest, AcceptsMatchingSubjects) {
    auto leaf = test::make_cert(leaf_spec(), &intermediate, KeyType::Rsa2048);
    EXPECT_TRUE(
        run(policy(R"("subjectEmail":"build@example.com")"), blob(leaf)).signature_verified);
    EXPECT_TRUE(
        run(policy(R"("subjectHostname":"x86.build.example.com")"), blob(leaf)).signature_verified);
    EXPECT_TRUE(
        run(policy(R"("subjectEmail":"build@example.com","subjectHostname":"a.build.example.com")"),
            blob(leaf))
            .signature_verified);
}

TEST_F(PkiTest, RefusesOtherSubjects) {
    auto leaf = test::make_cert(leaf_spec(), &intermediate);
    struct Case {
        std::string subject;
        std::string says;
    };
    for (const auto& c : std::vector<Case>{
             {R"("subjectEmail":"other@example.com")", "expected e-mail \"other@example.com\""},
             {R"("subjectHostname":"build.example.com")", "valid for host \"build.example.com\""},
             {R"("subjectHostname":"a.b.build.example.com")", "valid for host"},
             {R"("subjectEmail":"build@example.com","subjectHostname":"evil.com")",
              "valid for host \"evil.com\""}}) {
        SCOPED_TRACE(c.subject);
        auto e = refusal(policy(c.subject), blob(leaf));
        EXPECT_EQ(e.code(), Errc::SignatureInvalid);
        EXPECT_NE(e.message().find(c.says), std::string::npos) << e.message();
    }
}

TEST_F(PkiTest, IntermediatesFromPolicyOrChainAnnotation) {
    auto leaf = test::make_cert(leaf_spec(), &intermediate);
    auto email = R"("subjectEmail":"build@example.com")";
    auto without = policy(email, false);
    auto e = refusal(without, blob(leaf));
    EXPECT_NE(e.message().find("unable to get local issuer certificate"), std::string::npos)
        << e.message();
    EXPECT_TRUE(run(without, blob(leaf, intermediate.pem() + root.pem())).signature_verified);
    // A chain annotation with a single certificate is just its root: ignored.
    EXPECT_EQ(refusal(without, blob(leaf, intermediate.pem())).code(), Errc::SignatureInvalid);
}

TEST_F(PkiTest, RefusesExpiredForeignAndMissingCertificates) {
    auto email = policy(R"("subjectEmail":"build@example.com")");
    auto expired_spec = leaf_spec();
    expired_spec.not_before = 1600000000;
    expired_spec.not_after = 1600003600;
    auto expired = test::make_cert(expired_spec, &intermediate);
    EXPECT_NE(refusal(email, blob(expired)).message().find("certificate has expired"),
              std::string::npos);

    auto other_root = test::make_cert(ca("another root"), nullptr);
    auto foreign = test::make_cert(leaf_spec(), &other_root);
    EXPECT_NE(refusal(email, blob(foreign)).message().find("certificate chain"), std::string::npos);

    auto leaf = test::make_cert(leaf_spec(), &intermediate);
    EXPECT_NE(refusal(email, blob(leaf, "", false))
                  .message()
                  .find("expected annotation dev.sigstore.cosign/certificate"),
              std::string::npos);
    auto payload = testing::sigstore_payload(kImage, testing::sha256_digest(test::kManifest));
    auto doubled =
        testing::sigstore_blob(payload, leaf.key.sign(payload),
                               {{"dev.sigstore.cosign/certificate", leaf.pem() + leaf.pem()}});
    EXPECT_NE(refusal(email, doubled).message().find("expected 1 certificate, found 2"),
              std::string::npos);
}

TEST_F(PkiTest, SignatureMustBeByTheCertifiedKey) {
    auto leaf = test::make_cert(leaf_spec(), &intermediate);
    auto other = testing::SigningKey::generate(KeyType::EcdsaP256);
    auto payload = testing::sigstore_payload(kImage, testing::sha256_digest(test::kManifest));
    auto forged = testing::sigstore_blob(payload, other.sign(payload),
                                         {{"dev.sigstore.cosign/certificate", leaf.pem()}});
    auto e = refusal(policy(R"("subjectEmail":"build@example.com")"), forged);
    EXPECT_NE(e.message().find("ECDSA verification failed with the certificate's key"),
              std::string::npos)
        << e.message();
}

}  // namespace
}  // namespace vmd::trust
