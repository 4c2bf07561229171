// Docker references (the distribution reference grammar) with docker.io normalisation.
#pragma once

#include <string>
#include <string_view>

namespace vmd::trust {

/// A normalised reference: `busybox` → domain "docker.io", path "library/busybox", tag "latest".
struct DockerReference {
    std::string domain;  // "docker.io", "quay.io", "localhost:5000", …
    std::string path;    // "library/busybox", "ns/repo"
    std::string tag;     // "" when absent
    std::string digest;  // "sha256:<hex>", "" when absent

    /// domain + "/" + path.
    std::string repository() const;
    /// repository[:tag][@digest]: the full normalised form.
    std::string string() const;
    /// True when the reference has neither tag nor digest.
    bool name_only() const { return tag.empty() && digest.empty(); }
    bool operator==(const DockerReference&) const = default;
};

/// Parses and normalises `text` like containers/image's reference.ParseNormalizedNamed.
/// When `default_tag` and the reference has neither tag nor digest, the tag becomes "latest".
/// Invalid input throws Error(InvalidArgument) naming the offending part.
DockerReference parse_docker_reference(std::string_view text, bool default_tag = true);

}  // namespace vmd::trust
