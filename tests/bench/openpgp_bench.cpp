// The OpenPGP verifier's cost on containers/image's RSA-3072 fixture signature, beside the raw
// OpenSSL RSA-3072 verification it cannot avoid (the ratio is the figure to watch; absolute
// times move with the machine's load).
#include <benchmark/benchmark.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include <array>
#include <chrono>
#include <memory>

#include "fixtures/test_env.hpp"
#include "trust/openpgp/openpgp.hpp"

namespace {

using vmd::testing::read_file;
using vmd::testing::source_dir;

std::string fixture(const char* name) {
    return read_file(source_dir() / "tests" / "data" / "containers-image-gpg" / name);
}

// What a policy evaluation does per request: import the trusted key file, verify one message.
void BM_OpenpgpImportAndVerify(benchmark::State& state) {
    auto key = fixture("public-key.gpg");
    auto message = fixture("image.signature");
    auto now = std::chrono::system_clock::now();
    for (auto _ : state) {
        vmd::openpgp::Keyring keyring;
        keyring.import_file(key);
        benchmark::DoNotOptimize(vmd::openpgp::verify(message, keyring, now));
    }
}
BENCHMARK(BM_OpenpgpImportAndVerify)->Unit(benchmark::kMicrosecond);

void BM_OpenpgpVerifyOnly(benchmark::State& state) {
    vmd::openpgp::Keyring keyring;
    keyring.import_file(fixture("public-key.gpg"));
    auto message = fixture("image.signature");
    auto now = std::chrono::system_clock::now();
    for (auto _ : state) {
        benchmark::DoNotOptimize(vmd::openpgp::verify(message, keyring, now));
    }
}
BENCHMARK(BM_OpenpgpVerifyOnly)->Unit(benchmark::kMicrosecond);

void BM_OpenpgpImportPubring(benchmark::State& state) {
    auto ring = fixture("pubring.gpg");
    for (auto _ : state) {
        vmd::openpgp::Keyring keyring;
        benchmark::DoNotOptimize(keyring.import_file(ring));
    }
}
BENCHMARK(BM_OpenpgpImportPubring)->Unit(benchmark::kMicrosecond);

struct PkeyFree {
    void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct PkeyCtxFree {
    void operator()(EVP_PKEY_CTX* ctx) const { EVP_PKEY_CTX_free(ctx); }
};

// The floor: one RSA-3072 PKCS#1 v1.5 verification of a SHA-256 digest with OpenSSL alone.
void BM_RawRsa3072Verify(benchmark::State& state) {
    std::unique_ptr<EVP_PKEY, PkeyFree> key(EVP_RSA_gen(3072));
    std::array<unsigned char, 32> digest{1, 2, 3};
    std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree> sign(EVP_PKEY_CTX_new(key.get(), nullptr));
    EVP_PKEY_sign_init(sign.get());
    EVP_PKEY_CTX_set_rsa_padding(sign.get(), RSA_PKCS1_PADDING);
    EVP_PKEY_CTX_set_signature_md(sign.get(), EVP_sha256());
    std::array<unsigned char, 384> signature{};
    std::size_t size = signature.size();
    if (EVP_PKEY_sign(sign.get(), signature.data(), &size, digest.data(), digest.size()) != 1) {
        state.SkipWithError("RSA signing failed");
        return;
    }
    for (auto _ : state) {
        std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree> ctx(EVP_PKEY_CTX_new(key.get(), nullptr));
        EVP_PKEY_verify_init(ctx.get());
        EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_PADDING);
        EVP_PKEY_CTX_set_signature_md(ctx.get(), EVP_sha256());
        benchmark::DoNotOptimize(
            EVP_PKEY_verify(ctx.get(), signature.data(), size, digest.data(), digest.size()));
    }
}
BENCHMARK(BM_RawRsa3072Verify)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
