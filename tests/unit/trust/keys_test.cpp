#include <gtest/gtest.h>

#include <string>

#include "common/encoding.hpp"
#include "common/error.hpp"
#include "fixtures/signing.hpp"
#include "fixtures/test_env.hpp"
#include "trust/sigstore/keys.hpp"

namespace vmd::trust {
namespace {

using testing::KeyType;
using testing::SigningKey;

struct KeyCase {
    KeyType type;
    KeyAlgorithm algorithm;
    std::string_view family;
};

class EachKeyType : public ::testing::TestWithParam<KeyCase> {};

TEST_P(EachKeyType, VerifiesItsOwnSignaturesOnly) {
    const auto& c = GetParam();
    auto signer = SigningKey::generate(c.type);
    auto key = PublicKey::from_pem(signer.public_pem(), "test key");
    EXPECT_EQ(key.algorithm(), c.algorithm);
    EXPECT_EQ(key_family(key.algorithm()), c.family);

    std::string message = R"({"critical":{}})";
    auto signature = signer.sign(message);
    EXPECT_TRUE(key.verify(message, signature));
    EXPECT_FALSE(key.verify(message + " ", signature));
    auto flipped = signature;
    flipped[flipped.size() / 2] = static_cast<char>(flipped[flipped.size() / 2] ^ 0x01);
    EXPECT_FALSE(key.verify(message, flipped));
    EXPECT_FALSE(key.verify(message, ""));

    auto other = SigningKey::generate(c.type);
    EXPECT_FALSE(key.verify(message, other.sign(message)));
}

INSTANTIATE_TEST_SUITE_P(
    Table, EachKeyType,
    ::testing::Values(KeyCase{KeyType::EcdsaP256, KeyAlgorithm::EcdsaP256, "ECDSA"},
                      KeyCase{KeyType::EcdsaP384, KeyAlgorithm::EcdsaP384, "ECDSA"},
                      KeyCase{KeyType::Rsa2048, KeyAlgorithm::Rsa, "RSA"},
                      KeyCase{KeyType::Ed25519, KeyAlgorithm::Ed25519, "Ed25519"}));

class EcdsaEncodings : public ::testing::TestWithParam<KeyType> {};

TEST_P(EcdsaEncodings, AcceptsDerAndRawRS) {
    auto signer = SigningKey::generate(GetParam());
    auto key = PublicKey::from_pem(signer.public_pem(), "test key");
    std::string message = "payload";
    auto der = signer.sign(message);
    auto raw = signer.sign(message, true);
    std::size_t half = GetParam() == KeyType::EcdsaP256 ? 32 : 48;
    ASSERT_EQ(raw.size(), 2 * half);
    EXPECT_EQ(static_cast<unsigned char>(der.front()), 0x30);  // DER SEQUENCE
    EXPECT_TRUE(key.verify(message, der));
    EXPECT_TRUE(key.verify(message, raw));
    EXPECT_FALSE(key.verify("other", raw));
    EXPECT_FALSE(key.verify(message, raw.substr(1)));  // wrong length for the curve
}

INSTANTIATE_TEST_SUITE_P(Curves, EcdsaEncodings,
                         ::testing::Values(KeyType::EcdsaP256, KeyType::EcdsaP384));

TEST(PublicKey, AcceptsPkcs1RsaPem) {
    auto signer = SigningKey::generate(KeyType::Rsa2048);
    auto pkcs1 = signer.public_pem_pkcs1();
    ASSERT_NE(pkcs1.find("BEGIN RSA PUBLIC KEY"), std::string::npos);
    auto key = PublicKey::from_pem(pkcs1, "pkcs1");
    EXPECT_EQ(key.algorithm(), KeyAlgorithm::Rsa);
    EXPECT_TRUE(key.verify("m", signer.sign("m")));
}

TEST(PublicKey, ContainersImageFixtureKeysLoad) {
    auto dir = testing::containers_image_fixtures_dir();
    EXPECT_EQ(PublicKey::from_pem(testing::read_file(dir / "cosign.pub"), "cosign.pub").algorithm(),
              KeyAlgorithm::EcdsaP256);
    EXPECT_EQ(PublicKey::from_pem(testing::read_file(dir / "some-rsa-key.pub"), "rsa").algorithm(),
              KeyAlgorithm::Rsa);
}

// Public keys of kinds the module refuses, made with the openssl CLI.
std::string cli_public_key(const std::vector<std::string>& genpkey_args) {
    testing::TempDir dir;
    auto priv = (dir.path() / "key.pem").string();
    auto pub = (dir.path() / "pub.pem").string();
    std::vector<std::string> argv = {"openssl", "genpkey", "-out", priv};
    argv.insert(argv.end(), genpkey_args.begin(), genpkey_args.end());
    auto gen = testing::run(argv);
    EXPECT_EQ(gen.exit_code, 0) << gen.err;
    auto out = testing::run({"openssl", "pkey", "-in", priv, "-pubout", "-out", pub});
    EXPECT_EQ(out.exit_code, 0) << out.err;
    return testing::read_file(pub);
}

struct BadKeyCase {
    std::string name;
    std::string pem;
    std::string says;
};

std::vector<BadKeyCase> bad_keys() {
    auto good = SigningKey::generate(KeyType::EcdsaP256);
    auto pem = good.public_pem();
    auto body_start = pem.find('\n') + 1;
    std::string truncated = pem.substr(0, body_start) + pem.substr(body_start + 8);
    return {
        {"Empty", "", "no PEM block"},
        {"Garbage", "nonsense", "no PEM block"},
        {"TwoBlocks", pem + pem, "exactly one PEM block"},
        {"PrivateKey", good.private_pem(), "\"PRIVATE KEY\""},
        {"Certificate", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
         "\"CERTIFICATE\""},
        {"TruncatedDer", truncated, "malformed"},
        {"Rsa1024", cli_public_key({"-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024"}),
         "at least 2048 bits"},
        {"P224", cli_public_key({"-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-224"}),
         "found curve"},
        {"X25519", cli_public_key({"-algorithm", "X25519"}), "found key type"},
    };
}

TEST(PublicKey, RefusesBadMaterialAsPolicyInvalid) {
    for (const auto& c : bad_keys()) {
        SCOPED_TRACE(c.name);
        try {
            PublicKey::from_pem(c.pem, "keyPath /etc/k.pub");
            ADD_FAILURE() << "accepted";
        } catch (const Error& e) {
            EXPECT_EQ(e.code(), Errc::PolicyInvalid);
            EXPECT_NE(e.message().find("keyPath /etc/k.pub"), std::string::npos) << e.message();
            EXPECT_NE(e.message().find(c.says), std::string::npos) << e.message();
        }
    }
}

TEST(Encoding, Base64RoundTripsWithTheSigningHelper) {
    for (std::string bytes : {"", "f", "fo", "foo", "foob", "fooba", "foobar", "\0\xff\x10"}) {
        auto decoded = base64_decode(testing::base64(bytes));
        ASSERT_TRUE(decoded.has_value());
        EXPECT_EQ(*decoded, bytes);
    }
    EXPECT_EQ(base64_decode("Zm9v\nYmFy\r\n"), std::optional<std::string>("foobar"));
}

TEST(Encoding, Base64RefusesMalformedInput) {
    for (std::string_view bad : {"Zg", "Zg=", "Z===", "Zm9v!A==", "Zg==Zg==", "=Zg=", "Zm 9v"}) {
        EXPECT_FALSE(base64_decode(bad).has_value()) << bad;
    }
}

TEST(Encoding, Sha256MatchesKnownVectorAndHelper) {
    EXPECT_EQ(sha256_digest("abc"),
              "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    EXPECT_EQ(sha256_digest("manifest bytes"), testing::sha256_digest("manifest bytes"));
}

}  // namespace
}  // namespace vmd::trust
