// The trust part of one Verify: policy parse + evaluate over 1 or 10 signatures, where only the
// last signature is accepted (the worst case: every other one is tried first). Sigstore with
// ECDSA P-256 keys; GPG simple signing (signedBy) with containers/image's RSA-3072 fixture.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "fixtures/signing.hpp"
#include "fixtures/test_env.hpp"
#include "trust/evaluate.hpp"
#include "trust/policy/reference.hpp"

namespace {

using namespace vmd::testing;

constexpr std::string_view kManifest =
    R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","layers":[]})";

void BM_PolicyEvaluate(benchmark::State& state) {
    auto trusted = SigningKey::generate(KeyType::EcdsaP256);
    auto other = SigningKey::generate(KeyType::EcdsaP256);
    auto payload = sigstore_payload("quay.io/example/demo:latest", sha256_digest(kManifest));
    std::vector<std::string> signatures;
    for (int i = 1; i < state.range(0); ++i) {
        signatures.push_back(sigstore_blob(payload, other.sign(payload)));
    }
    signatures.push_back(sigstore_blob(payload, trusted.sign(payload)));
    const std::string policy_json =
        R"({"default":[{"type":"reject"}],"transports":{"docker":{"quay.io/example":[)"
        R"({"type":"sigstoreSigned","keyData":")" +
        base64(trusted.public_pem()) + R"("}]}}})";
    auto reference = vmd::trust::parse_docker_reference("quay.io/example/demo:latest");
    for (auto _ : state) {
        auto policy = vmd::trust::Policy::parse(policy_json);
        benchmark::DoNotOptimize(vmd::trust::evaluate(policy, reference, kManifest, signatures,
                                                      vmd::SignatureLevel::Require));
    }
}

BENCHMARK(BM_PolicyEvaluate)->Arg(1)->Arg(10)->Unit(benchmark::kMicrosecond);

std::string gpg_fixture(const char* name) {
    return read_file(source_dir() / "tests" / "data" / "containers-image-gpg" / name);
}

// signedBy with the key as keyData. The candidates before the accepted one are by the trusted
// key too, so each costs a full RSA-3072 verification before its payload is refused (a valid
// signature over bytes that are not a payload, or over an invalid identity).
void BM_PolicyEvaluateSignedBy(benchmark::State& state) {
    const auto manifest = gpg_fixture("image.manifest.json");
    const std::string refused[] = {gpg_fixture("invalid-blob.signature"),
                                   gpg_fixture("invalid-reference.signature")};
    std::vector<std::string> signatures;
    for (int i = 1; i < state.range(0); ++i) {
        signatures.push_back(refused[i % 2]);
    }
    signatures.push_back(gpg_fixture("image.signature"));
    const std::string policy_json =
        R"({"default":[{"type":"reject"}],"transports":{"docker":{"docker.io/testing":[)"
        R"({"type":"signedBy","keyType":"GPGKeys","keyData":")" +
        base64(gpg_fixture("public-key.gpg")) +
        R"(","signedIdentity":{"type":"matchRepository"}}]}}})";
    auto reference = vmd::trust::parse_docker_reference("docker.io/testing/manifest:latest");
    for (auto _ : state) {
        auto policy = vmd::trust::Policy::parse(policy_json);
        benchmark::DoNotOptimize(vmd::trust::evaluate(policy, reference, manifest, signatures,
                                                      vmd::SignatureLevel::Require));
    }
}

BENCHMARK(BM_PolicyEvaluateSignedBy)->Arg(1)->Arg(10)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
