// libFuzzer target: policy.json (trust::Policy::parse), then scope selection for a few
// references, and, when the policy reads no key files, a full evaluation without signatures
// (which loads the inline key material: keyData, caData, rekorPublicKeyData, …).
#include <algorithm>
#include <array>
#include <variant>

#include "fuzz_support.hpp"
#include "trust/evaluate.hpp"
#include "trust/policy/policy_data.hpp"

namespace {

using vmd::Errc;
using vmd::SignatureLevel;
namespace trust = vmd::trust;

bool is_path(const trust::KeySource& source) {
    return source.kind == trust::KeySource::Kind::Path;
}

bool any_path(const std::vector<trust::KeySource>& sources) {
    return std::any_of(sources.begin(), sources.end(), is_path);
}

// Whether evaluating `requirements` could open a file named by the input (a FIFO would block).
bool reads_files(const trust::Requirements& requirements) {
    for (const auto& requirement : requirements) {
        if (const auto* signed_by = std::get_if<trust::SignedBy>(&requirement)) {
            if (any_path(signed_by->keys)) {
                return true;
            }
        }
        const auto* sigstore = std::get_if<trust::SigstoreSigned>(&requirement);
        if (sigstore == nullptr) {
            continue;
        }
        if (any_path(sigstore->keys) || any_path(sigstore->rekor_keys)) {
            return true;
        }
        if (sigstore->fulcio && is_path(sigstore->fulcio->ca)) {
            return true;
        }
        if (sigstore->pki &&
            (is_path(sigstore->pki->ca_roots) ||
             (sigstore->pki->ca_intermediates && is_path(*sigstore->pki->ca_intermediates)))) {
            return true;
        }
    }
    return false;
}

bool reads_files(const trust::PolicyData& data) {
    if (reads_files(data.default_requirements)) {
        return true;
    }
    for (const auto& [transport, scopes] : data.transports) {
        for (const auto& [scope, requirements] : scopes) {
            if (reads_files(requirements)) {
                return true;
            }
        }
    }
    return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const std::array<trust::DockerReference, 4> kReferences = {
        trust::parse_docker_reference("busybox"),
        trust::parse_docker_reference("quay.io/ns/repo@sha256:" + std::string(64, 'a')),
        trust::parse_docker_reference("registry.example.com:5000/a/b/c:v1"),
        trust::parse_docker_reference("example.com/playground"),
    };
    auto text = vmd::fuzz::as_text(data, size);
    vmd::fuzz::run(text, {Errc::PolicyInvalid}, [&] {
        auto policy = trust::Policy::parse(text);
        bool evaluate = !reads_files(policy.data());
        for (const auto& reference : kReferences) {
            auto decision = trust::evaluate(policy, reference, "", {}, SignatureLevel::Off);
            vmd::fuzz::check(!decision.signature_verified, "level off verifies nothing");
            if (!evaluate) {
                continue;
            }
            for (auto level : {SignatureLevel::Check, SignatureLevel::Require}) {
                vmd::fuzz::run(
                    text, {Errc::PolicyInvalid, Errc::PolicyRejected, Errc::SignatureRequired},
                    [&] {
                        auto accepted = trust::evaluate(policy, reference, "{}", {}, level);
                        vmd::fuzz::check(!accepted.signature_verified,
                                         "no signature, none verified");
                    });
            }
        }
    });
    return 0;
}
