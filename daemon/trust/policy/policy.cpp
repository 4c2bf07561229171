#include "trust/policy/policy.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>

#include "common/error.hpp"
#include "common/json.hpp"
#include "common/trusted_file_cache.hpp"
#include "common/unique_fd.hpp"
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

// Reads a whole regular file, refusing anything larger than `max_bytes`.
std::string read_bounded(const std::filesystem::path& path, std::uint64_t max_bytes,
                         std::string_view what) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
    if (!fd) {
        fail_errno(Errc::PolicyInvalid, errno, fmt::format("{}: open {}", what, path.string()));
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) {
        fail_errno(Errc::PolicyInvalid, errno, fmt::format("{}: stat {}", what, path.string()));
    }
    if (!S_ISREG(st.st_mode)) {
        fail(Errc::PolicyInvalid, "{}: expected a regular file at {}, found another file type",
             what, path.string());
    }
    std::string out;
    std::array<char, 65536> buffer{};
    while (true) {
        ssize_t n = ::read(fd.get(), buffer.data(), buffer.size());
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            fail_errno(Errc::PolicyInvalid, errno, fmt::format("{}: read {}", what, path.string()));
        }
        if (n == 0) {
            return out;
        }
        out.append(buffer.data(), static_cast<size_t>(n));
        if (out.size() > max_bytes) {
            fail(Errc::PolicyInvalid, "{}: expected at most {} bytes in {}, found more", what,
                 max_bytes, path.string());
        }
    }
}

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
    return read_bounded(source.value, kMaxKeyBytes, source.origin);
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
    return parse(read_bounded(path, max_bytes, "policy.json"));
}

std::shared_ptr<const Policy> Policy::load_cached(const std::filesystem::path& path,
                                                  std::uint64_t max_bytes) {
    static TrustedFileCache<Policy> cache;
    const std::filesystem::path files[] = {path};
    return cache.get(fmt::format("{}\n{}", path.string(), max_bytes), files,
                     [&] { return load(path, max_bytes); });
}

}  // namespace vmd::trust
