#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/error.hpp"
#include "fixtures/signing.hpp"
#include "fixtures/test_env.hpp"
#include "trust/evaluate.hpp"
#include "trust_test_util.hpp"

namespace vmd::trust {
namespace {

using test::error_of;
using test::kManifest;
using test::signed_blob;
using testing::KeyType;
using testing::SigningKey;

constexpr std::string_view kImage = "quay.io/ns/app:1";

// A policy whose scope "quay.io/ns" holds `requirements` (a JSON array).
Policy scoped(std::string_view requirements) {
    return Policy::parse(test::docker_policy(R"("quay.io/ns":)" + std::string(requirements)));
}

std::string sigstore_key(const SigningKey& key, std::string_view extra = "") {
    return R"([{"type":"sigstoreSigned","keyData":")" + test::key_data(key) + "\"" +
           std::string(extra) + "}]";
}

PolicyDecision run(const Policy& policy, const std::vector<std::string>& signatures,
                   SignatureLevel level = SignatureLevel::Require,
                   std::string_view manifest = kManifest, std::string_view image = kImage) {
    return evaluate(policy, parse_docker_reference(image), manifest, signatures, level);
}

Error refusal(const Policy& policy, const std::vector<std::string>& signatures,
              SignatureLevel level = SignatureLevel::Require, std::string_view manifest = kManifest,
              std::string_view image = kImage) {
    return error_of([&] { run(policy, signatures, level, manifest, image); });
}

class EvaluateEachKeyType : public ::testing::TestWithParam<KeyType> {};

TEST_P(EvaluateEachKeyType, AcceptsAValidSignatureAtBothLevels) {
    auto key = SigningKey::generate(GetParam());
    auto policy = scoped(sigstore_key(key));
    std::vector<std::string> sigs = {signed_blob(key, kImage)};
    for (auto level : {SignatureLevel::Check, SignatureLevel::Require}) {
        auto decision = run(policy, sigs, level);
        EXPECT_EQ(decision.scope, "quay.io/ns");
        EXPECT_TRUE(decision.signature_verified);
    }
    auto other = SigningKey::generate(GetParam());
    auto e = refusal(policy, {signed_blob(other, kImage)});
    EXPECT_EQ(e.code(), Errc::SignatureInvalid);
    EXPECT_NE(e.message().find("verification failed with key 1 of 1"), std::string::npos)
        << e.message();
}

INSTANTIATE_TEST_SUITE_P(Keys, EvaluateEachKeyType,
                         ::testing::Values(KeyType::EcdsaP256, KeyType::EcdsaP384, KeyType::Rsa2048,
                                           KeyType::Ed25519));

TEST(Evaluate, RawEcdsaSignatureIsAccepted) {
    auto key = SigningKey::generate(KeyType::EcdsaP256);
    EXPECT_TRUE(run(scoped(sigstore_key(key)), {signed_blob(key, kImage, kManifest, true)})
                    .signature_verified);
}

TEST(Evaluate, KeyPathKeyPathsAndKeyDatas) {
    testing::TempDir dir;
    auto rsa = SigningKey::generate(KeyType::Rsa2048);
    auto ec = SigningKey::generate(KeyType::EcdsaP384);
    testing::write_file(dir.path() / "rsa1.pem", rsa.public_pem_pkcs1());
    testing::write_file(dir.path() / "ec.pem", ec.public_pem());
    auto rsa_path = (dir.path() / "rsa1.pem").string();
    auto ec_path = (dir.path() / "ec.pem").string();
    std::vector<std::string> by_ec = {signed_blob(ec, kImage)};

    auto single = scoped(R"([{"type":"sigstoreSigned","keyPath":")" + rsa_path + "\"}]");
    EXPECT_TRUE(run(single, {signed_blob(rsa, kImage)}).signature_verified);
    auto e = refusal(single, by_ec);
    EXPECT_EQ(e.code(), Errc::SignatureInvalid);
    EXPECT_NE(e.message().find("RSA verification failed with key 1 of 1"), std::string::npos);

    auto paths = scoped(R"([{"type":"sigstoreSigned","keyPaths":[")" + rsa_path + R"(",")" +
                        ec_path + "\"]}]");
    EXPECT_TRUE(run(paths, by_ec).signature_verified);

    auto datas = scoped(R"([{"type":"sigstoreSigned","keyDatas":[")" + test::key_data(rsa) +
                        R"(",")" + test::key_data(ec) + "\"]}]");
    EXPECT_TRUE(run(datas, by_ec).signature_verified);
    auto stranger = SigningKey::generate(KeyType::Ed25519);
    auto all_fail = refusal(datas, {signed_blob(stranger, kImage)});
    EXPECT_NE(
        all_fail.message().find(
            "RSA verification failed with key 1 of 2, ECDSA verification failed with key 2 of 2"),
        std::string::npos)
        << all_fail.message();
}

TEST(Evaluate, OneGoodSignatureAmongBrokenOnesIsEnough) {
    auto key = SigningKey::generate(KeyType::EcdsaP256);
    auto policy = scoped(sigstore_key(key));
    std::vector<std::string> sigs = {
        "\x89\x01\x0dGPG-ish",
        testing::sigstore_blob("attachment", "x", {}, "text/plain"),
        signed_blob(SigningKey::generate(KeyType::EcdsaP256), kImage),
        signed_blob(key, "quay.io/ns/other:1"),
        signed_blob(key, kImage),
    };
    EXPECT_TRUE(run(policy, sigs).signature_verified);
    // Without the good one, every candidate's reason is listed, numbered by blob position;
    // neither the GPG signature (1) nor the attachment (2) is a sigstore candidate.
    sigs.pop_back();
    auto e = refusal(policy, sigs);
    EXPECT_EQ(e.code(), Errc::SignatureInvalid);
    const auto& m = e.message();
    EXPECT_NE(m.find("expected an accepted signature, found none of 2"), std::string::npos) << m;
    EXPECT_EQ(m.find("signature 1:"), std::string::npos) << m;
    EXPECT_EQ(m.find("signature 2:"), std::string::npos) << m;
    EXPECT_NE(m.find(": signature 3: ECDSA verification failed with key 1 of 1"), std::string::npos)
        << m;
    EXPECT_NE(
        m.find(
            R"(; signature 4: identity "quay.io/ns/other:1" does not match "quay.io/ns/app:1" (matchRepoDigestOrExact))"),
        std::string::npos)
        << m;
    EXPECT_NE(m.find(R"(policy scope "quay.io/ns", requirement 1 of 1 (sigstoreSigned))"),
              std::string::npos)
        << m;
}

TEST(Evaluate, NoCandidatesIsSignatureRequired) {
    auto key = SigningKey::generate(KeyType::EcdsaP256);
    auto policy = scoped(sigstore_key(key));
    for (auto level : {SignatureLevel::Check, SignatureLevel::Require}) {
        EXPECT_EQ(refusal(policy, {}, level).code(), Errc::SignatureRequired);
        auto e = refusal(policy, {testing::sigstore_blob("a", "b", {}, "application/json")}, level);
        EXPECT_EQ(e.code(), Errc::SignatureRequired);
        EXPECT_NE(e.message().find("1 non-signature attachment(s)"), std::string::npos)
            << e.message();
    }
    // sigstoreSigned does not read GPG signatures: as if there were none.
    auto gpg_only = refusal(policy, {"\x89\x02\x00", std::string("\0simple-signing\n\xa3", 17)});
    EXPECT_EQ(gpg_only.code(), Errc::SignatureRequired);
    EXPECT_NE(gpg_only.message().find("2 GPG simple-signing signature(s), which sigstoreSigned "
                                      "does not read"),
              std::string::npos)
        << gpg_only.message();
}

TEST(Evaluate, AnUnreadableBlobRefusesTheWholeImageWhateverTheScope) {
    auto key = SigningKey::generate(KeyType::EcdsaP256);
    auto good = signed_blob(key, kImage);
    std::string prefix("\0sigstore-json\n", 15);
    const std::vector<std::pair<std::string, std::string>> unreadable = {
        {"", "found 0 bytes"},
        {"-----BEGIN PGP SIGNED MESSAGE-----", "found first byte 0x2d ('-')"},
        {"\x84\x01", "found first byte 0x84"},
        {"\x93\x01", "found first byte 0x93"},
        {prefix + "{not json", "sigstore signature JSON: expected valid JSON"},
        {std::string("\0cosign\n{}", 10), "found first byte 0x00"},
    };
    for (const auto& requirements :
         {sigstore_key(key), std::string(R"([{"type":"insecureAcceptAnything"}])")}) {
        for (const auto& [blob, says] : unreadable) {
            SCOPED_TRACE(requirements + " / " + says);
            auto e = refusal(scoped(requirements), {good, blob}, SignatureLevel::Check);
            EXPECT_EQ(e.code(), Errc::StorageCorrupt) << e.message();
            EXPECT_NE(e.message().find("signature 2 of 2: "), std::string::npos) << e.message();
            EXPECT_NE(e.message().find(says), std::string::npos) << e.message();
            // Off reads no signature.
            EXPECT_EQ(run(scoped(requirements), {good, blob}, SignatureLevel::Off).scope,
                      "quay.io/ns");
        }
    }
}

TEST(Evaluate, SignedDigestMustBeTheManifestsOwn) {
    auto key = SigningKey::generate(KeyType::EcdsaP256);
    auto policy = scoped(sigstore_key(key));
    std::string modified = kManifest + " ";
    auto e = refusal(policy, {signed_blob(key, kImage)}, SignatureLevel::Check, modified);
    EXPECT_EQ(e.code(), Errc::SignatureInvalid);
    EXPECT_NE(
        e.message().find("signed manifest digest: expected " + testing::sha256_digest(modified) +
                         " (the manifest's), found \"" + testing::sha256_digest(kManifest) + "\""),
        std::string::npos)
        << e.message();
}

TEST(Evaluate, PayloadIsVerifiedBeforeItIsParsed) {
    auto key = SigningKey::generate(KeyType::EcdsaP256);
    auto policy = scoped(sigstore_key(key));
    auto payload = testing::sigstore_payload(kImage, testing::sha256_digest(kManifest));
    auto tampered = payload;
    tampered.replace(tampered.find("app:1"), 5, "app:2");
    auto e = refusal(policy, {testing::sigstore_blob(tampered, key.sign(payload))});
    EXPECT_NE(e.message().find("ECDSA verification failed"), std::string::npos) << e.message();

    std::string bad_json = R"({"critical":{},"optional":null})";
    auto bad = refusal(policy, {testing::sigstore_blob(bad_json, key.sign(bad_json))});
    EXPECT_EQ(bad.code(), Errc::SignatureInvalid);
    EXPECT_NE(bad.message().find("sigstore payload \"critical\": missing key \"identity\""),
              std::string::npos)
        << bad.message();
}

TEST(Evaluate, MissingOrBadSignatureAnnotation) {
    auto key = SigningKey::generate(KeyType::EcdsaP256);
    auto policy = scoped(sigstore_key(key));
    std::string prefix("\0sigstore-json\n", 15);
    auto payload =
        testing::base64(testing::sigstore_payload(kImage, testing::sha256_digest(kManifest)));
    auto none = refusal(
        policy,
        {prefix + R"({"mimeType":"application/vnd.dev.cosign.simplesigning.v1+json","payload":")" +
         payload + R"(","annotations":{}})"});
    EXPECT_NE(none.message().find("expected annotation dev.cosignproject.cosign/signature"),
              std::string::npos)
        << none.message();
    auto bad = refusal(
        policy,
        {prefix + R"({"mimeType":"application/vnd.dev.cosign.simplesigning.v1+json","payload":")" +
         payload + R"(","annotations":{"dev.cosignproject.cosign/signature":"!!"}})"});
    EXPECT_NE(bad.message().find("expected base64"), std::string::npos) << bad.message();
}

TEST(Evaluate, SignedIdentityOfTheRequirementIsUsed) {
    auto key = SigningKey::generate(KeyType::Ed25519);
    std::vector<std::string> repo_only = {signed_blob(key, "quay.io/ns/app")};
    EXPECT_EQ(refusal(scoped(sigstore_key(key)), repo_only).code(), Errc::SignatureInvalid);
    EXPECT_TRUE(
        run(scoped(sigstore_key(key, R"(,"signedIdentity":{"type":"matchRepository"})")), repo_only)
            .signature_verified);
}

TEST(Evaluate, KeyMaterialIsLoadedOnlyForTheChosenScope) {
    auto key = SigningKey::generate(KeyType::EcdsaP256);
    auto policy = Policy::parse(test::docker_policy(
        R"("quay.io/ns":)" + sigstore_key(key) +
        R"(,"quay.io/bad":[{"type":"sigstoreSigned","keyData":"bm9uc2Vuc2U="}])" +
        R"(,"quay.io/missing":[{"type":"sigstoreSigned","keyPath":"/nonexistent/key.pub"}])"));
    EXPECT_TRUE(run(policy, {signed_blob(key, kImage)}).signature_verified);
    auto bad = refusal(policy, {signed_blob(key, "quay.io/bad/x:1")}, SignatureLevel::Require,
                       kManifest, "quay.io/bad/x:1");
    EXPECT_EQ(bad.code(), Errc::PolicyInvalid);
    EXPECT_NE(bad.message().find("no PEM block"), std::string::npos) << bad.message();
    // Bad keys refuse even when there is nothing to verify.
    auto missing = refusal(policy, {}, SignatureLevel::Check, kManifest, "quay.io/missing/x:1");
    EXPECT_EQ(missing.code(), Errc::PolicyInvalid);
    EXPECT_NE(missing.message().find("/nonexistent/key.pub"), std::string::npos)
        << missing.message();
}

TEST(Evaluate, AllRequirementsOfAListMustAccept) {
    auto a = SigningKey::generate(KeyType::EcdsaP256);
    auto b = SigningKey::generate(KeyType::Rsa2048);
    auto policy = scoped(R"([{"type":"sigstoreSigned","keyData":")" + test::key_data(a) +
                         R"("},{"type":"sigstoreSigned","keyData":")" + test::key_data(b) + "\"}]");
    auto e = refusal(policy, {signed_blob(a, kImage)});
    EXPECT_EQ(e.code(), Errc::SignatureInvalid);
    EXPECT_NE(e.message().find("requirement 2 of 2 (sigstoreSigned)"), std::string::npos)
        << e.message();
    EXPECT_TRUE(run(policy, {signed_blob(a, kImage), signed_blob(b, kImage)}).signature_verified);
}

struct RefusingRequirement {
    std::string name;
    std::string requirement;
    Errc code;
    std::string says;
};

TEST(Evaluate, RefusingRequirementTypes) {
    auto key = SigningKey::generate(KeyType::EcdsaP256);
    std::vector<std::string> sigs = {signed_blob(key, kImage)};
    const std::vector<RefusingRequirement> cases = {
        {"Reject", R"({"type":"reject"})", Errc::PolicyRejected, "\"reject\" requirement"},
        {"SignedByX509", R"({"type":"signedBy","keyType":"X509Certificates","keyPath":"/k"})",
         Errc::PolicyRejected, R"(expected keyType GPGKeys, found "X509Certificates")"},
        {"SignedByMissingKey", R"({"type":"signedBy","keyType":"GPGKeys","keyPath":"/k"})",
         Errc::PolicyInvalid, R"(keyPath "/k")"},
        // policy.json is trusted, but its strings still reach the bus and the journal: a key
        // path is quoted and escaped in the message like any other string (found by fuzz_policy).
        {"SignedByKeyPathWithControlCharacter",
         R"({"type":"signedBy","keyType":"GPGKeys","keyPaths":["/k\b1"]})", Errc::PolicyInvalid,
         R"(keyPaths[0] "/k\b1")"},
        {"SigstoreKeyPathWithNewline", R"({"type":"sigstoreSigned","keyPath":"/k\n"})",
         Errc::PolicyInvalid, R"(keyPath "/k\n")"},
        {"SignedBaseLayer",
         R"({"type":"signedBaseLayer","baseLayerIdentity":{"type":"matchRepository"}})",
         Errc::PolicyRejected, "signedBaseLayer is not supported"},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.name);
        for (auto level : {SignatureLevel::Check, SignatureLevel::Require}) {
            auto e = refusal(scoped("[" + c.requirement + "]"), sigs, level);
            EXPECT_EQ(e.code(), c.code) << e.message();
            EXPECT_NE(e.message().find(c.says), std::string::npos) << e.message();
            EXPECT_NE(e.message().find("policy scope \"quay.io/ns\""), std::string::npos);
        }
    }
}

TEST(Evaluate, Levels) {
    auto accept = scoped(R"([{"type":"insecureAcceptAnything"}])");
    auto key = SigningKey::generate(KeyType::EcdsaP256);
    auto check = run(accept, {}, SignatureLevel::Check);
    EXPECT_EQ(check.scope, "quay.io/ns");
    EXPECT_FALSE(check.signature_verified);

    auto none = refusal(accept, {});
    EXPECT_EQ(none.code(), Errc::SignatureRequired);
    EXPECT_NE(none.message().find("found only insecureAcceptAnything"), std::string::npos)
        << none.message();
    EXPECT_EQ(refusal(accept, {testing::sigstore_blob("a", "b", {}, "text/plain")}).code(),
              Errc::SignatureRequired);
    // A signature the scope never reads does not help: still no signature-verifying requirement.
    auto unchecked = refusal(accept, {signed_blob(key, kImage)});
    EXPECT_EQ(unchecked.code(), Errc::SignatureRequired);
    EXPECT_NE(unchecked.message().find("policy scope \"quay.io/ns\": signature=require expected a "
                                       "signature-verifying requirement (signedBy or "
                                       "sigstoreSigned), found only insecureAcceptAnything"),
              std::string::npos)
        << unchecked.message();

    // Off performs no check at all; it only reports the scope.
    auto reject = scoped(R"([{"type":"reject"}])");
    EXPECT_EQ(run(reject, {}, SignatureLevel::Off).scope, "quay.io/ns");
    EXPECT_EQ(refusal(reject, {}, SignatureLevel::Check).code(), Errc::PolicyRejected);
}

}  // namespace
}  // namespace vmd::trust
