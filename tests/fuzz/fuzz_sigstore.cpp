// libFuzzer target: the whole sigstoreSigned evaluation of one stored signature blob
// (trust::evaluate), for each kind of trust root: a cosign public key, a key with a Rekor
// SET, fulcio (certificate + Rekor bundle + chain) and pki (certificate + chain). This
// reaches the parsers of the untrusted annotations (X.509 certificates and chains, the Rekor
// bundle and its canonical JSON) before anything is verified.
#include <array>
#include <string>

#include "fuzz_keys.hpp"
#include "trust/evaluate.hpp"
#include "trust/sigstore/format.hpp"

namespace {

using vmd::Errc;
namespace fuzz = vmd::fuzz;
namespace trust = vmd::trust;

// Scopes, each with the identity its generated seed claims (default tag added).
constexpr std::array<std::string_view, 4> kImages = {
    "192.168.64.2:5000/cosign-signed-single-sample", "fuzz.example/keyed", "fuzz.example/fulcio",
    "fuzz.example/pki"};

std::string policy_text() {
    auto data = [](std::string_view file) { return fuzz::base64(fuzz::source_file(file)); };
    auto scope = [](std::string_view image, const std::string& body) {
        return fmt::format(R"("{}":[{{"type":"sigstoreSigned",{}}}])", image, body);
    };
    auto ca = data("keys/fuzz-ca.pem");
    auto rekor = fmt::format(R"("rekorPublicKeyData":"{}")", data("keys/fuzz-rekor.pub"));
    const std::array<std::string, kImages.size()> scopes = {
        scope(kImages[0],
              fmt::format(R"("keyData":"{}","signedIdentity":{{"type":"matchRepository"}})",
                          data("../data/containers-image/cosign.pub"))),
        scope(kImages[1], fmt::format(R"("keyData":"{}",{})", data("keys/fuzz-signer.pub"), rekor)),
        scope(kImages[2],
              fmt::format(R"("fulcio":{{"caData":"{}","oidcIssuer":"{}","subjectEmail":"{}"}},{})",
                          ca, fuzz::kOidcIssuer, fuzz::kSubjectEmail, rekor)),
        scope(kImages[3], fmt::format(R"("pki":{{"caRootsData":"{}","subjectEmail":"{}"}})", ca,
                                      fuzz::kSubjectEmail)),
    };
    return fmt::format(R"({{"default":[{{"type":"reject"}}],"transports":{{"docker":{{{}}}}}}})",
                       fmt::join(scopes, ","));
}

struct Setup {
    trust::Policy policy = trust::Policy::parse(policy_text());
    std::string manifest = fuzz::source_file("corpus/manifest/cosign-valid.json");
    std::array<trust::DockerReference, kImages.size()> references = {
        trust::parse_docker_reference(kImages[0]), trust::parse_docker_reference(kImages[1]),
        trust::parse_docker_reference(kImages[2]), trust::parse_docker_reference(kImages[3])};
};

// One scope per input, from the annotations it carries: loading key material is costly (the
// OpenSSL 3 decoders), and every scope but the matching one would refuse at once.
std::size_t scope_for(std::string_view blob) {
    bool certificate = blob.find(trust::kCertificateAnnotation) != std::string_view::npos;
    bool bundle = blob.find(trust::kBundleAnnotation) != std::string_view::npos;
    return certificate ? (bundle ? 2 : 3) : (bundle ? 1 : 0);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const Setup kSetup;
    const std::array<std::string, 1> signatures = {std::string(fuzz::as_text(data, size))};
    const auto& reference = kSetup.references[scope_for(signatures[0])];
    fuzz::run(
        signatures[0], {Errc::SignatureInvalid, Errc::SignatureRequired, Errc::StorageCorrupt},
        [&] {
            auto decision = trust::evaluate(kSetup.policy, reference, kSetup.manifest, signatures,
                                            vmd::SignatureLevel::Require);
            fuzz::check(decision.signature_verified, "an accepted image had a signature verified");
            fuzz::check(decision.scope == reference.repository(), "the image's own scope chosen");
        });
    return 0;
}
