#include "trust/policy/reference.hpp"

#include <algorithm>

#include "common/error.hpp"
#include "common/json.hpp"
#include "trust/policy/grammar.hpp"

namespace vmd::trust {

namespace {

constexpr std::string_view kDefaultDomain = "docker.io";
constexpr std::string_view kLegacyDefaultDomain = "index.docker.io";
constexpr std::string_view kOfficialRepoPrefix = "library/";

bool has_upper(std::string_view text) {
    return std::any_of(text.begin(), text.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
}

// Like docker/distribution's splitDockerDomain: the first component is a registry only when
// it looks like one (a '.', a ':', "localhost", or an upper-case letter).
std::pair<std::string, std::string> split_domain(std::string_view name) {
    auto slash = name.find('/');
    std::string domain;
    std::string remainder;
    if (slash == std::string_view::npos) {
        domain = kDefaultDomain;
        remainder = name;
    } else {
        auto first = name.substr(0, slash);
        bool registry = first.find_first_of(".:") != std::string_view::npos ||
                        first == "localhost" || has_upper(first);
        if (registry) {
            domain = first;
            remainder = name.substr(slash + 1);
        } else {
            domain = kDefaultDomain;
            remainder = name;
        }
    }
    if (domain == kLegacyDefaultDomain) {
        domain = kDefaultDomain;
    }
    if (domain == kDefaultDomain && remainder.find('/') == std::string::npos) {
        remainder.insert(0, kOfficialRepoPrefix);
    }
    return {std::move(domain), std::move(remainder)};
}

}  // namespace

std::string DockerReference::repository() const {
    return domain + "/" + path;
}

std::string DockerReference::string() const {
    std::string out = repository();
    if (!tag.empty()) {
        out += ":" + tag;
    }
    if (!digest.empty()) {
        out += "@" + digest;
    }
    return out;
}

DockerReference parse_docker_reference(std::string_view text, bool default_tag) {
    auto bad = [&](std::string_view expected, std::string_view found) {
        fail(Errc::InvalidArgument, "docker reference {}: expected {}, found {}", json::quote(text),
             expected, found);
    };
    if (text.empty()) {
        bad("an image name", "an empty string");
    }
    if (grammar::is_hex64(text)) {
        bad("an image name", "64 hexadecimal digits (an image ID)");
    }
    DockerReference ref;
    std::string_view rest = text;
    if (auto at = rest.find('@'); at != std::string_view::npos) {
        auto digest = rest.substr(at + 1);
        if (!grammar::is_digest(digest)) {
            bad("a digest sha256:<64 lowercase hex> (or sha384/sha512) after '@'",
                json::quote(digest));
        }
        ref.digest = digest;
        rest = rest.substr(0, at);
    }
    auto colon = rest.rfind(':');
    auto slash = rest.rfind('/');
    if (colon != std::string_view::npos && (slash == std::string_view::npos || colon > slash)) {
        auto tag = rest.substr(colon + 1);
        if (!grammar::is_tag(tag)) {
            bad("a tag of 1-128 characters [A-Za-z0-9_.-] not starting with '.' or '-'",
                json::quote(tag));
        }
        ref.tag = tag;
        rest = rest.substr(0, colon);
    }
    auto [domain, path] = split_domain(rest);
    if (!grammar::is_domain(domain)) {
        bad("a registry host[:port]", json::quote(domain));
    }
    if (has_upper(path)) {
        bad("a lowercase repository path", json::quote(path));
    }
    for (std::string_view remaining = path;;) {
        auto next = remaining.find('/');
        auto component = remaining.substr(0, next);
        if (!grammar::is_path_component(component)) {
            bad("path components of [a-z0-9] joined by '.', '_', '__' or '-'",
                json::quote(component));
        }
        if (next == std::string_view::npos) {
            break;
        }
        remaining.remove_prefix(next + 1);
    }
    ref.domain = std::move(domain);
    ref.path = std::move(path);
    if (auto size = ref.repository().size(); size > grammar::kNameTotalLengthMax) {
        bad(fmt::format("a repository name of at most {} characters", grammar::kNameTotalLengthMax),
            fmt::format("{} characters", size));
    }
    if (default_tag && ref.name_only()) {
        ref.tag = "latest";
    }
    return ref;
}

}  // namespace vmd::trust
