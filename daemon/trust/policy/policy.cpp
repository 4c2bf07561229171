#include "trust/policy/policy.hpp"

#include <algorithm>
#include <array>

#include "common/error.hpp"
#include "common/file_read.hpp"
#include "common/json.hpp"
#include "common/trusted_file_cache.hpp"
#include "trust/policy/grammar.hpp"
#include "trust/policy/policy_data.hpp"

namespace vmd::trust {

namespace {

constexpr std::uint64_t kMaxKeyBytes = 1u << 20;

// The transports containers/image registers; a typo here would silently never apply.
constexpr std::array<std::string_view, 11> kKnownTransports = {
    "atomic", "containers-storage", "dir",    "docker", "docker-archive", "docker-daemon",
    "oci",    "oci-archive",        "ostree", "sif",    "tarball",
};

Requirements parse_requirements(json::Element element, const std::string& where) {
    json::Context ctx{Errc::PolicyInvalid, where};
    Requirements out;
    std::size_t index = 0;
    for (auto item : json::expect_array(element, ctx)) {
        out.push_back(parse_requirement(item, fmt::format("{}[{}]", where, index++)));
    }
    if (out.empty()) {
        fail(Errc::PolicyInvalid, "{}: expected a non-empty list of requirements, found []", where);
    }
    return out;
}

}  // namespace

std::string load_key_source(const KeySource& source) {
    if (source.kind == KeySource::Kind::Data) {
        return source.value;
    }
    // origin names the file already ("keyPaths[1] \"/etc/…\"").
    return *read_regular_file(source.value, {source.origin, kMaxKeyBytes, Errc::PolicyInvalid});
}

void KeySourceSet::add(const KeySource& source) {
    const bool is_path = source.kind == KeySource::Kind::Path;
    cache_key += fmt::format("{}{}:{}\n", is_path ? 'p' : 'd', source.value.size(), source.value);
    if (is_path) {
        files.emplace_back(source.value);
    }
}

bool valid_docker_scope(std::string_view scope) {
    if (scope.empty()) {
        return true;
    }
    if (scope.starts_with("*.")) {
        return grammar::is_domain_name(scope.substr(2));
    }
    if (grammar::is_domain(scope)) {
        return true;  // a host, possibly with a port ("localhost:5000")
    }
    auto rest = scope;
    if (auto at = rest.find('@'); at != std::string_view::npos) {
        if (!grammar::is_digest(rest.substr(at + 1))) {
            return false;
        }
        rest = rest.substr(0, at);
    }
    auto colon = rest.rfind(':');
    auto slash = rest.rfind('/');
    if (colon != std::string_view::npos && (slash == std::string_view::npos || colon > slash)) {
        if (!grammar::is_tag(rest.substr(colon + 1))) {
            return false;
        }
        rest = rest.substr(0, colon);
    }
    return grammar::is_name(rest);
}

std::vector<std::string> docker_scope_candidates(const DockerReference& reference) {
    std::vector<std::string> out;
    if (!reference.name_only()) {
        out.push_back(reference.string());
    }
    std::string name = reference.repository();
    while (true) {
        out.push_back(name);
        auto slash = name.rfind('/');
        if (slash == std::string::npos) {
            break;
        }
        name.resize(slash);
    }
    // `name` is now the host; wildcards apply to the host without its port.
    if (auto colon = name.find(':'); colon != std::string::npos) {
        name.resize(colon);
    }
    for (auto dot = name.find('.'); dot != std::string::npos; dot = name.find('.')) {
        name.erase(0, dot + 1);
        out.push_back("*." + name);
    }
    return out;
}

Policy::Policy(std::unique_ptr<PolicyData> data) : data_(std::move(data)) {}
Policy::Policy(Policy&&) noexcept = default;
Policy& Policy::operator=(Policy&&) noexcept = default;
Policy::~Policy() = default;

Policy Policy::parse(std::string_view text) {
    constexpr json::Context ctx{Errc::PolicyInvalid, "policy.json"};
    auto doc = json::Document::parse(text, ctx.code, ctx.what);
    auto root = json::expect_object(doc.root(), ctx, {{"default", "transports"}});
    auto data = std::make_unique<PolicyData>();
    data->default_requirements = parse_requirements(json::require(root, "default", ctx), "default");
    if (auto transports = json::find(root, "transports")) {
        constexpr json::Context tctx{Errc::PolicyInvalid, "policy.json \"transports\""};
        for (auto transport : json::expect_object(*transports, tctx)) {
            std::string tname(transport.key);
            if (std::find(kKnownTransports.begin(), kKnownTransports.end(), tname) ==
                kKnownTransports.end()) {
                fail(Errc::PolicyInvalid,
                     "policy.json \"transports\": expected a containers/image transport name, "
                     "found {}",
                     json::quote(tname));
            }
            std::string where = fmt::format("transports.{}", tname);
            auto& scopes = data->transports[tname];
            for (auto scope : json::expect_object(transport.value, {Errc::PolicyInvalid, where})) {
                if (tname == "docker" && !valid_docker_scope(scope.key)) {
                    fail(Errc::PolicyInvalid,
                         "{}: expected a scope that is \"\", *.domain, a host or a repository "
                         "[with :tag or @digest], found {}",
                         where, json::quote(scope.key));
                }
                scopes.emplace(
                    std::string(scope.key),
                    parse_requirements(scope.value,
                                       fmt::format("{}[{}]", where, json::quote(scope.key))));
            }
        }
    }
    return Policy(std::move(data));
}

Policy Policy::load(const std::filesystem::path& path, std::uint64_t max_bytes) {
    const std::string what = "policy " + path.string();
    return parse(*read_regular_file(path, {what, max_bytes, Errc::PolicyInvalid}));
}

std::shared_ptr<const Policy> Policy::load_cached(const std::filesystem::path& path,
                                                  std::uint64_t max_bytes) {
    static TrustedFileCache<Policy> cache;
    const std::filesystem::path files[] = {path};
    return cache.get(fmt::format("{}\n{}", path.string(), max_bytes), files,
                     [&] { return load(path, max_bytes); });
}

}  // namespace vmd::trust
