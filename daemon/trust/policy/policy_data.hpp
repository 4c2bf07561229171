// The parsed form of policy.json (the PolicyData behind trust::Policy) and its helpers.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/json.hpp"
#include "trust/policy/identity.hpp"
#include "trust/policy/reference.hpp"

namespace vmd::trust {

/// Where key material comes from: a file path, or bytes already decoded from base64.
struct KeySource {
    enum class Kind { Path, Data };
    Kind kind = Kind::Path;
    std::string value;   // the path, or the decoded bytes
    std::string origin;  // "keyPaths[1] \"/etc/…\"" or "keyData": names it in messages
};

/// Reads the material (a path is read at most 1 MiB). Unreadable: Error(PolicyInvalid).
std::string load_key_source(const KeySource& source);

/// What key material loaded from some KeySources depends on, for TrustedFileCache: a cache key
/// naming every source in order (groups kept apart) and the files among them.
struct KeySourceSet {
    std::string cache_key;
    std::vector<std::filesystem::path> files;

    /// Adds one source to the current group.
    void add(const KeySource& source);
    /// Starts a new group, so that the same source in another role makes another key.
    void next_group() { cache_key += '|'; }
};

struct InsecureAcceptAnything {};
struct Reject {};
/// GPG simple signing (DESIGN §6a); a keyType other than GPGKeys parses and is refused at
/// evaluation.
struct SignedBy {
    std::string key_type;
    std::vector<KeySource> keys;
    SignedIdentity identity;
};
/// Parsed in full, always refused at evaluation.
struct SignedBaseLayer {
    SignedIdentity base_layer_identity;
};
/// sigstoreSigned.fulcio.
struct FulcioTrust {
    KeySource ca;
    std::string oidc_issuer;
    std::string subject_email;
};
/// sigstoreSigned.pki.
struct PkiTrust {
    KeySource ca_roots;
    std::optional<KeySource> ca_intermediates;
    std::string subject_email;     // "" when not required
    std::string subject_hostname;  // "" when not required
};
/// sigstoreSigned: exactly one of `keys` (non-empty), `fulcio`, `pki`.
struct SigstoreSigned {
    std::vector<KeySource> keys;
    std::optional<FulcioTrust> fulcio;
    std::optional<PkiTrust> pki;
    std::vector<KeySource> rekor_keys;  // empty: no Rekor SET required
    SignedIdentity identity;
};

/// One requirement of a scope's list.
using Requirement =
    std::variant<InsecureAcceptAnything, Reject, SignedBy, SignedBaseLayer, SigstoreSigned>;
/// A scope's list: every entry must accept. Never empty.
using Requirements = std::vector<Requirement>;

/// The policy.json type name of `requirement` ("sigstoreSigned", …).
std::string_view requirement_type(const Requirement& requirement);

/// Parses one requirement object; errors are Error(PolicyInvalid) naming `where`.
Requirement parse_requirement(json::Element element, std::string_view where);

/// The whole policy.
struct PolicyData {
    Requirements default_requirements;
    /// transport → scope → requirements.
    std::map<std::string, std::map<std::string, Requirements, std::less<>>, std::less<>> transports;
};

/// The docker-transport scope keys that may match `reference`, most specific first:
/// the full reference, the repository and each parent namespace, then wildcard hosts
/// ("*.example.com", "*.com"). The transport's "" and the policy default come after these.
std::vector<std::string> docker_scope_candidates(const DockerReference& reference);

/// Whether `scope` is a valid docker-transport scope key: "", a wildcard "*.domain", a
/// host[:port], or a name with optional tag/digest in the distribution grammar.
bool valid_docker_scope(std::string_view scope);

}  // namespace vmd::trust
