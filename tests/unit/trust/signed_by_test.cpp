// The signedBy requirement with keys and signatures made by the real gpg (a throwaway home).
#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "common/json.hpp"
#include "fixtures/gpg_home.hpp"
#include "fixtures/signing.hpp"
#include "fixtures/test_env.hpp"
#include "trust/evaluate.hpp"
#include "trust_test_util.hpp"

namespace vmd::trust {
namespace {

using test::error_of;
using test::kManifest;

constexpr std::string_view kImage = "quay.io/ns/app:1";
const std::string kSimplePrefix("\0simple-signing\n", 16);

// Keys made once for the whole binary: `trusted` is in the policy, `other` is not, `expiring`
// (in the policy too) expires a day after it was made.
struct Keys {
    testing::GpgHome home;
    testing::TempDir dir;
    std::string trusted = home.generate_key("trusted <t@example.com>", "ed25519", "sign", "never");
    std::string other = home.generate_key("other <o@example.com>", "ed25519", "sign", "never");
    std::string expiring = home.generate_key("expiring <e@example.com>", "ed25519", "sign", "1d");

    Keys() {
        testing::write_file(path("trusted.gpg"), home.export_keys({trusted}, false));
        testing::write_file(path("expiring.asc"), home.export_keys({expiring}, true));
        testing::write_file(path("garbage.gpg"), "not a key at all");
    }
    std::string path(std::string_view name) const { return (dir.path() / name).string(); }
};

const Keys& keys() {
    static const Keys k;
    return k;
}

std::string gpg_payload(std::string_view identity, std::string_view digest,
                        std::string_view optional = R"({"creator":"test","timestamp":1})") {
    return fmt::format(
        R"({{"critical":{{"identity":{{"docker-reference":{}}},"image":{{"docker-manifest-digest":{}}},"type":"atomic container signature"}},"optional":{}}})",
        json::quote(identity), json::quote(digest), optional);
}

std::string gpg_signature(const std::string& signer, std::string_view identity = kImage,
                          std::string_view digest = testing::sha256_digest(kManifest)) {
    return keys().home.sign(gpg_payload(identity, digest), {signer}, {});
}

// A policy whose scope "quay.io/ns" holds one signedBy with `keys` (a JSON fragment such as
// "keyPath":"…") and optional extra members.
Policy signed_by(std::string_view key_members, std::string_view extra = "") {
    return Policy::parse(
        test::docker_policy(R"("quay.io/ns":[{"type":"signedBy","keyType":"GPGKeys",)" +
                            std::string(key_members) + std::string(extra) + "}]"));
}

std::string key_path(std::string_view name) {
    return R"("keyPath":)" + json::quote(keys().path(name));
}

// `now` defaults to the time of the evaluation, read only once the signatures are made: a default
// argument may be evaluated before the other arguments, so before gpg signs.
PolicyDecision run(const Policy& policy, const std::vector<std::string>& signatures,
                   SignatureLevel level = SignatureLevel::Require,
                   std::optional<std::chrono::system_clock::time_point> now = std::nullopt) {
    return evaluate(policy, parse_docker_reference(kImage), kManifest, signatures, level,
                    now.value_or(std::chrono::system_clock::now()));
}

Error refusal(const Policy& policy, const std::vector<std::string>& signatures,
              SignatureLevel level = SignatureLevel::Require,
              std::optional<std::chrono::system_clock::time_point> now = std::nullopt) {
    return error_of([&] { run(policy, signatures, level, now); });
}

TEST(SignedBy, AcceptsAGoodSignatureBareOrPrefixedAtBothLevels) {
    auto policy = signed_by(key_path("trusted.gpg"));
    auto signature = gpg_signature(keys().trusted);
    for (const auto& blob : {signature, kSimplePrefix + signature}) {
        for (auto level : {SignatureLevel::Check, SignatureLevel::Require}) {
            auto decision = run(policy, {blob}, level);
            EXPECT_EQ(decision.scope, "quay.io/ns");
            // signature=require counts signedBy as a signature-verifying requirement.
            EXPECT_TRUE(decision.signature_verified);
        }
    }
    // keyData (here ASCII-armored) works as keyPath does.
    auto inline_policy = signed_by(
        R"("keyData":")" + testing::base64(keys().home.export_keys({keys().trusted}, true)) + "\"");
    EXPECT_TRUE(run(inline_policy, {signature}).signature_verified);
}

TEST(SignedBy, EachRefusedCandidateIsNamedAndOneGoodOneIsEnough) {
    auto policy = signed_by(key_path("trusted.gpg"));
    std::vector<std::string> signatures = {
        gpg_signature(keys().other),
        test::signed_blob(testing::SigningKey::generate(testing::KeyType::EcdsaP256), kImage),
        gpg_signature(keys().trusted, "quay.io/ns/other:1"),
        gpg_signature(keys().trusted, kImage, testing::sha256_digest("another manifest")),
        "\x89garbage",
    };
    auto e = refusal(policy, signatures);
    EXPECT_EQ(e.code(), Errc::SignatureInvalid);
    const auto& m = e.message();
    EXPECT_NE(m.find(R"(policy scope "quay.io/ns", requirement 1 of 1 (signedBy): expected an )"
                     "accepted signature, found none of 4: signature 1: "),
              std::string::npos)
        << m;
    EXPECT_EQ(m.find("signature 2:"), std::string::npos) << m;  // sigstore: not read
    EXPECT_NE(m.find("; signature 3: signed by " + keys().trusted +
                     R"(: identity "quay.io/ns/other:1" does not match "quay.io/ns/app:1")"),
              std::string::npos)
        << m;
    EXPECT_NE(m.find("; signature 4: signed by " + keys().trusted +
                     ": signed manifest digest: expected " + testing::sha256_digest(kManifest)),
              std::string::npos)
        << m;
    EXPECT_NE(m.find("; signature 5: "), std::string::npos) << m;

    signatures.push_back(gpg_signature(keys().trusted));
    EXPECT_TRUE(run(policy, signatures).signature_verified);
}

TEST(SignedBy, TheSignedDigestIsTheManifestsSha256) {
    auto policy = signed_by(key_path("trusted.gpg"));
    auto digest = testing::sha256_digest(kManifest);
    // Another algorithm's digest of the same bytes does not count (as in skopeo 1.9).
    auto sha512 = "sha512:" + std::string(128, '0');
    for (const auto& bad : {"SHA256" + digest.substr(6), sha512, digest + "0"}) {
        SCOPED_TRACE(bad);
        auto e = refusal(policy, {gpg_signature(keys().trusted, kImage, bad)});
        EXPECT_EQ(e.code(), Errc::SignatureInvalid);
        EXPECT_NE(e.message().find("signed manifest digest: expected " + digest +
                                   " (the manifest's), found " + json::quote(bad)),
                  std::string::npos)
            << e.message();
    }
}

TEST(SignedBy, SignedIdentityOfTheRequirementIsUsed) {
    std::vector<std::string> repo_only = {gpg_signature(keys().trusted, "quay.io/ns/app")};
    EXPECT_EQ(refusal(signed_by(key_path("trusted.gpg")), repo_only).code(),
              Errc::SignatureInvalid);
    EXPECT_TRUE(
        run(signed_by(key_path("trusted.gpg"), R"(,"signedIdentity":{"type":"matchRepository"})"),
            repo_only)
            .signature_verified);
}

TEST(SignedBy, KeysAreImportedFilePerFile) {
    auto signature = gpg_signature(keys().trusted);
    auto paths = [](std::initializer_list<std::string_view> names) {
        std::string out;
        for (auto name : names) {
            out += (out.empty() ? "" : ",") + json::quote(keys().path(name));
        }
        return R"("keyPaths":[)" + out + "]";
    };
    // A file that imports nothing does not stop the others.
    EXPECT_TRUE(
        run(signed_by(paths({"garbage.gpg", "trusted.gpg"})), {signature}).signature_verified);
    auto none = refusal(signed_by(paths({"garbage.gpg", "expiring.asc"})), {signature});
    EXPECT_EQ(none.code(), Errc::SignatureInvalid);  // keys left, but not the signer's
    auto garbage = refusal(signed_by(paths({"garbage.gpg"})), {signature});
    EXPECT_EQ(garbage.code(), Errc::PolicyInvalid);
    EXPECT_NE(garbage.message().find("found none (primary keys imported per source: "),
              std::string::npos)
        << garbage.message();
    EXPECT_NE(garbage.message().find("garbage.gpg\": 0 (key file: expected a packet header"),
              std::string::npos)
        << garbage.message();
    // An unreadable file makes the requirement unusable, even with nothing to verify.
    auto missing =
        refusal(signed_by(R"("keyPath":"/nonexistent/key.gpg")"), {}, SignatureLevel::Check);
    EXPECT_EQ(missing.code(), Errc::PolicyInvalid);
    EXPECT_NE(missing.message().find("/nonexistent/key.gpg"), std::string::npos)
        << missing.message();
}

TEST(SignedBy, OnlyGpgSignaturesAreRead) {
    auto policy = signed_by(key_path("trusted.gpg"));
    for (auto level : {SignatureLevel::Check, SignatureLevel::Require}) {
        auto none = refusal(policy, {}, level);
        EXPECT_EQ(none.code(), Errc::SignatureRequired);
        auto sigstore_only = refusal(
            policy,
            {test::signed_blob(testing::SigningKey::generate(testing::KeyType::EcdsaP256), kImage)},
            level);
        EXPECT_EQ(sigstore_only.code(), Errc::SignatureRequired);
        EXPECT_NE(sigstore_only.message().find("expected at least one GPG simple-signing "
                                               "signature, found none (1 sigstore signature "
                                               "blob(s), which signedBy does not read)"),
                  std::string::npos)
            << sigstore_only.message();
    }
}

TEST(SignedBy, OtherKeyTypesParseAndRefuse) {
    for (const auto* type : {"signedByGPGKeys", "X509Certificates", "signedByX509CAs"}) {
        SCOPED_TRACE(type);
        auto policy = Policy::parse(test::docker_policy(fmt::format(
            R"("quay.io/ns":[{{"type":"signedBy","keyType":"{}","keyPath":"/k"}}])", type)));
        auto e = refusal(policy, {gpg_signature(keys().trusted)}, SignatureLevel::Check);
        EXPECT_EQ(e.code(), Errc::PolicyRejected);
        EXPECT_NE(e.message().find(fmt::format(R"(expected keyType GPGKeys, found "{}")", type)),
                  std::string::npos)
            << e.message();
    }
}

TEST(SignedBy, KeyValidityIsJudgedAtTheTimeOfTheRequest) {
    auto policy = signed_by(key_path("expiring.asc"));
    auto signature = gpg_signature(keys().expiring);
    EXPECT_TRUE(run(policy, {signature}).signature_verified);
    auto later = std::chrono::system_clock::now() + std::chrono::hours(24 * 3);
    auto e = refusal(policy, {signature}, SignatureLevel::Require, later);
    EXPECT_EQ(e.code(), Errc::SignatureInvalid);
    EXPECT_NE(e.message().find("expired"), std::string::npos) << e.message();
}

TEST(SignedBy, BesideSigstoreSignedBothMustAccept) {
    auto cosign = testing::SigningKey::generate(testing::KeyType::EcdsaP256);
    auto policy = Policy::parse(test::docker_policy(
        R"("quay.io/ns":[{"type":"sigstoreSigned","keyData":")" + test::key_data(cosign) +
        R"("},{"type":"signedBy","keyType":"GPGKeys",)" + key_path("trusted.gpg") + "}]"));
    auto sigstore = test::signed_blob(cosign, kImage);
    auto gpg = gpg_signature(keys().trusted);
    EXPECT_TRUE(run(policy, {gpg, sigstore}).signature_verified);
    auto e = refusal(policy, {sigstore});
    EXPECT_EQ(e.code(), Errc::SignatureRequired);
    EXPECT_NE(e.message().find("requirement 2 of 2 (signedBy)"), std::string::npos) << e.message();
    auto f = refusal(policy, {gpg});
    EXPECT_EQ(f.code(), Errc::SignatureRequired);
    EXPECT_NE(f.message().find("requirement 1 of 2 (sigstoreSigned)"), std::string::npos)
        << f.message();
}

}  // namespace
}  // namespace vmd::trust
