#include "trust/policy/identity.hpp"

#include <optional>

#include "common/error.hpp"
#include "trust/policy/grammar.hpp"

namespace vmd::trust {

namespace {

using Kind = SignedIdentity::Kind;

std::optional<DockerReference> try_parse(std::string_view text) {
    try {
        return parse_docker_reference(text, false);
    } catch (const Error&) {
        return std::nullopt;
    }
}

// A remapIdentity prefix: a host[:port], or a name that starts with one (as containers/image's
// validateIdentityRemappingPrefix; like it, "ns/repo" shapes pass and then never match).
bool valid_remap_prefix(std::string_view prefix) {
    if (grammar::is_domain(prefix)) {
        return true;
    }
    auto slash = prefix.find('/');
    return slash != std::string_view::npos && grammar::is_domain(prefix.substr(0, slash)) &&
           grammar::is_name(prefix);
}

bool repo_digest_or_exact(const DockerReference& intended, const DockerReference& signature) {
    if (signature.name_only()) {
        return false;
    }
    if (!intended.tag.empty()) {
        return signature.string() == intended.string();
    }
    if (!intended.digest.empty()) {
        // The manifest digest itself was already checked against the signed digest.
        return signature.repository() == intended.repository();
    }
    return false;
}

// Replaces the prefix at a path-component boundary of the repository name; nullopt when the
// prefix does not apply, or the result is not a valid canonical reference.
std::optional<DockerReference> remap(const SignedIdentity& identity, const DockerReference& ref,
                                     bool& applied) {
    auto name = ref.repository();
    applied = name == identity.prefix ||
              (name.size() > identity.prefix.size() && name.starts_with(identity.prefix) &&
               name[identity.prefix.size()] == '/');
    if (!applied) {
        return ref;
    }
    auto rewritten = identity.signed_prefix + ref.string().substr(identity.prefix.size());
    auto parsed = try_parse(rewritten);
    // containers/image uses ParseNamed here: the result must already be in canonical form.
    if (!parsed || parsed->string() != rewritten) {
        return std::nullopt;
    }
    return parsed;
}

}  // namespace

std::string_view identity_kind_name(Kind kind) {
    switch (kind) {
        case Kind::MatchRepoDigestOrExact:
            return "matchRepoDigestOrExact";
        case Kind::MatchExact:
            return "matchExact";
        case Kind::MatchRepository:
            return "matchRepository";
        case Kind::ExactReference:
            return "exactReference";
        case Kind::ExactRepository:
            return "exactRepository";
        case Kind::RemapIdentity:
            return "remapIdentity";
    }
    return "unknown";
}

SignedIdentity parse_signed_identity(json::Element element, std::string_view where) {
    std::string what(where);
    json::Context ctx{Errc::PolicyInvalid, what};
    auto object = json::expect_object(element, ctx);
    auto type = json::expect_string(json::require(object, "type", ctx), ctx);
    SignedIdentity out;
    auto exact_keys = [&](std::initializer_list<std::string_view> keys) {
        json::expect_object(element, ctx, keys);
        for (auto key : keys) {
            json::require(object, key, ctx);
        }
    };
    auto string_field = [&](std::string_view key) {
        return std::string(json::expect_string(json::require(object, key, ctx), ctx));
    };
    auto reference_field = [&](std::string_view key) {
        auto text = string_field(key);
        try {
            return parse_docker_reference(text, false);
        } catch (const Error& e) {
            fail(Errc::PolicyInvalid, "{}: invalid \"{}\": {}", what, key, e.message());
        }
    };
    if (type == "matchRepoDigestOrExact" || type == "matchExact" || type == "matchRepository") {
        exact_keys({"type"});
        out.kind = type == "matchExact"        ? Kind::MatchExact
                   : type == "matchRepository" ? Kind::MatchRepository
                                               : Kind::MatchRepoDigestOrExact;
    } else if (type == "exactReference") {
        exact_keys({"type", "dockerReference"});
        out.kind = Kind::ExactReference;
        out.reference = reference_field("dockerReference");
        if (out.reference.name_only()) {
            fail(Errc::PolicyInvalid,
                 "{}: expected a dockerReference with a tag or digest, found {}", what,
                 json::quote(out.reference.repository()));
        }
    } else if (type == "exactRepository") {
        exact_keys({"type", "dockerRepository"});
        out.kind = Kind::ExactRepository;
        out.reference = reference_field("dockerRepository");
    } else if (type == "remapIdentity") {
        exact_keys({"type", "prefix", "signedPrefix"});
        out.kind = Kind::RemapIdentity;
        out.prefix = string_field("prefix");
        out.signed_prefix = string_field("signedPrefix");
        for (const auto& [key, value] :
             {std::pair{"prefix", &out.prefix}, std::pair{"signedPrefix", &out.signed_prefix}}) {
            if (!valid_remap_prefix(*value)) {
                fail(Errc::PolicyInvalid,
                     "{}: expected \"{}\" to be a host[:port] or host/path, found {}", what, key,
                     json::quote(*value));
            }
        }
    } else {
        fail(Errc::PolicyInvalid,
             "{}: expected type matchRepoDigestOrExact, matchExact, matchRepository, "
             "exactReference, exactRepository or remapIdentity, found {}",
             what, json::quote(type));
    }
    return out;
}

std::string identity_mismatch(const SignedIdentity& identity, const DockerReference& intended,
                              std::string_view signed_reference) {
    auto name = identity_kind_name(identity.kind);
    auto signature = try_parse(signed_reference);
    if (!signature) {
        return fmt::format("signed identity {} is not a valid docker reference ({})",
                           json::quote(signed_reference), name);
    }
    bool match = false;
    std::string target = intended.string();
    switch (identity.kind) {
        case Kind::MatchExact:
            match = !intended.name_only() && !signature->name_only() &&
                    signature->string() == intended.string();
            break;
        case Kind::MatchRepoDigestOrExact:
            match = repo_digest_or_exact(intended, *signature);
            break;
        case Kind::MatchRepository:
            match = signature->repository() == intended.repository();
            target = intended.repository();
            break;
        case Kind::ExactReference:
            match = !signature->name_only() && signature->string() == identity.reference.string();
            target = identity.reference.string();
            break;
        case Kind::ExactRepository:
            match = signature->repository() == identity.reference.repository();
            target = identity.reference.repository();
            break;
        case Kind::RemapIdentity: {
            bool applied = false;
            auto remapped = remap(identity, intended, applied);
            if (!remapped) {
                return fmt::format(
                    "identity {} not compared: image reference {} cannot be remapped from {} to "
                    "{} ({})",
                    json::quote(signed_reference), json::quote(intended.string()),
                    json::quote(identity.prefix), json::quote(identity.signed_prefix), name);
            }
            match = repo_digest_or_exact(*remapped, *signature);
            target = remapped->string();
            break;
        }
    }
    if (match) {
        return {};
    }
    return fmt::format("identity {} does not match {} ({})", json::quote(signed_reference),
                       json::quote(target), name);
}

std::string digest_mismatch(std::string_view manifest_digest, std::string_view signed_digest) {
    if (signed_digest == manifest_digest) {
        return "";
    }
    return fmt::format("signed manifest digest: expected {} (the manifest's), found {}",
                       manifest_digest, json::quote(signed_digest));
}

}  // namespace vmd::trust
