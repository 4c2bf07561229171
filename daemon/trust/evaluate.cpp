#include "trust/evaluate.hpp"

#include "common/encoding.hpp"
#include "common/error.hpp"
#include "common/json.hpp"
#include "trust/policy/policy_data.hpp"
#include "trust/signatures.hpp"
#include "trust/signed_by.hpp"
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
bool evaluate_requirement(const Requirement& requirement, const SigstoreEvidence& sigstore,
                          const SimpleSigningEvidence& simple_signing) {
    struct Visitor {
        const SigstoreEvidence& sigstore;
        const SimpleSigningEvidence& simple_signing;
        bool operator()(const InsecureAcceptAnything&) const { return false; }
        bool operator()(const Reject&) const {
            fail(Errc::PolicyRejected, "expected acceptance, found a \"reject\" requirement");
        }
        bool operator()(const SignedBy& r) const {
            evaluate_signed_by(r, simple_signing);
            return true;
        }
        bool operator()(const SignedBaseLayer&) const {
            fail(Errc::PolicyRejected,
                 "signedBaseLayer is not supported: expected signedBy or sigstoreSigned, found "
                 "signedBaseLayer");
        }
        bool operator()(const SigstoreSigned& r) const {
            evaluate_sigstore_signed(r, sigstore);
            return true;
        }
    };
    return std::visit(Visitor{sigstore, simple_signing}, requirement);
}

}  // namespace

PolicyDecision evaluate(const Policy& policy, const DockerReference& reference,
                        std::string_view manifest, std::span<const std::string> signatures,
                        SignatureLevel level, std::chrono::system_clock::time_point now) {
    auto choice = choose_scope(policy.data(), reference);
    PolicyDecision decision{choice.scope, false};
    if (level == SignatureLevel::Off) {
        return decision;
    }
    // As containers/image, a blob of no known format refuses the image whatever the scope says.
    auto stored = read_signatures(signatures);
    auto digest = sha256_digest(manifest);
    SigstoreEvidence sigstore{reference, digest, stored.sigstore, stored.simple_signing.size()};
    SimpleSigningEvidence simple_signing{reference, digest, stored.simple_signing,
                                         stored.sigstore.size(), now};
    const auto& requirements = *choice.requirements;
    for (std::size_t i = 0; i < requirements.size(); ++i) {
        try {
            decision.signature_verified |=
                evaluate_requirement(requirements[i], sigstore, simple_signing);
        } catch (const Error& e) {
            throw Error(e.code(), fmt::format("{}, requirement {} of {} ({}): {}", choice.label,
                                              i + 1, requirements.size(),
                                              requirement_type(requirements[i]), e.message()));
        }
    }
    // Every requirement accepted, so a signature-verifying one, if the scope has any, verified.
    if (level == SignatureLevel::Require && !decision.signature_verified) {
        std::string types;
        for (const auto& requirement : requirements) {
            types += (types.empty() ? "" : ", ") + std::string(requirement_type(requirement));
        }
        fail(Errc::SignatureRequired,
             "{}: signature=require expected a signature-verifying requirement (signedBy or "
             "sigstoreSigned), found only {}",
             choice.label, types);
    }
    return decision;
}

}  // namespace vmd::trust
