#include "trust/evaluate.hpp"

#include <algorithm>

#include "common/encoding.hpp"
#include "common/error.hpp"
#include "common/json.hpp"
#include "trust/policy/policy_data.hpp"
#include "trust/sigstore/evaluate.hpp"

namespace vmd::trust {

namespace {

constexpr std::string_view kTransport = "docker";

struct ScopeChoice {
    std::string scope;  // as PolicyDecision reports it
    std::string label;  // as refusal messages name it
    const Requirements* requirements = nullptr;
};

ScopeChoice choose_scope(const PolicyData& policy, const DockerReference& reference) {
    if (auto transport = policy.transports.find(kTransport); transport != policy.transports.end()) {
        const auto& scopes = transport->second;
        for (const auto& candidate : docker_scope_candidates(reference)) {
            if (auto it = scopes.find(candidate); it != scopes.end()) {
                return {candidate, fmt::format("policy scope {}", json::quote(candidate)),
                        &it->second};
            }
        }
        if (auto it = scopes.find(""); it != scopes.end()) {
            return {"", "policy scope \"\" (docker transport default)", &it->second};
        }
    }
    return {"default", "policy scope \"default\" (policy default)", &policy.default_requirements};
}

// Evaluates one requirement; returns whether it verified a signature. Refusals throw.
bool evaluate_requirement(const Requirement& requirement, const ImageEvidence& image) {
    struct Visitor {
        const ImageEvidence& image;
        bool operator()(const InsecureAcceptAnything&) const { return false; }
        bool operator()(const Reject&) const {
            fail(Errc::PolicyRejected, "expected acceptance, found a \"reject\" requirement");
        }
        bool operator()(const SignedBy& r) const {
            fail(Errc::PolicyRejected,
                 "signedBy (GPG) is not supported: expected a sigstoreSigned requirement, found "
                 "signedBy with keyType {}",
                 r.key_type);
        }
        bool operator()(const SignedBaseLayer&) const {
            fail(Errc::PolicyRejected,
                 "signedBaseLayer is not supported: expected a sigstoreSigned requirement, found "
                 "signedBaseLayer");
        }
        bool operator()(const SigstoreSigned& r) const {
            evaluate_sigstore_signed(r, image);
            return true;
        }
    };
    return std::visit(Visitor{image}, requirement);
}

}  // namespace

PolicyDecision evaluate(const Policy& policy, const DockerReference& reference,
                        std::string_view manifest, std::span<const std::string> signatures,
                        SignatureLevel level) {
    auto choice = choose_scope(policy.data(), reference);
    PolicyDecision decision{choice.scope, false};
    if (level == SignatureLevel::Off) {
        return decision;
    }
    auto digest = sha256_digest(manifest);
    ImageEvidence image{reference, manifest, digest, signatures};
    const auto& requirements = *choice.requirements;
    for (std::size_t i = 0; i < requirements.size(); ++i) {
        try {
            decision.signature_verified |= evaluate_requirement(requirements[i], image);
        } catch (const Error& e) {
            throw Error(e.code(), fmt::format("{}, requirement {} of {} ({}): {}", choice.label,
                                              i + 1, requirements.size(),
                                              requirement_type(requirements[i]), e.message()));
        }
    }
    if (level == SignatureLevel::Require && !decision.signature_verified) {
        auto candidates = static_cast<std::size_t>(
            std::count_if(signatures.begin(), signatures.end(),
                          [](const std::string& blob) { return is_signature_candidate(blob); }));
        std::string types;
        for (const auto& requirement : requirements) {
            types += (types.empty() ? "" : ", ") + std::string(requirement_type(requirement));
        }
        fail(candidates == 0 ? Errc::SignatureRequired : Errc::SignatureInvalid,
             "{}: signature=require expected a signature-verifying requirement to accept, found "
             "only {} (the image has {} signature(s), none checked)",
             choice.label, types, candidates);
    }
    return decision;
}

}  // namespace vmd::trust
