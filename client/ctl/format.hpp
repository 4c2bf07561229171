// What verity-mountctl prints: pure functions from results to text, human or JSON.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "client/reply.hpp"

namespace vmd::ctl {

/// One file of `digest`: its digest, or why it has none.
struct FileDigest {
    std::string path;
    /// "sha256:<hex>", empty when `error` is set.
    std::string digest;
    /// Why the digest could not be computed; empty on success.
    std::string error;
};

/// A report as a few aligned lines (image, identity, manifest digest, scope, levels, one line
/// per layer, elapsed), plus "mounted on" when `target` is not empty.
std::string report_text(const client::Report& report, std::string_view target = {});
/// A report as one JSON object with DESIGN §4's keys, `layers` an array of objects.
std::string report_json(const client::Report& report);

/// GetStatus as "key  value" lines, keys sorted, the kernel and config blocks indented.
std::string status_text(const client::Status& status);
/// GetStatus as one JSON object with DESIGN §4's keys, sorted, `kernel` and `config` nested.
std::string status_json(const client::Status& status);

/// "sha256:<hex>  PATH" per successful file, like sha256sum.
std::string digests_text(std::span<const FileDigest> digests);
/// [{"path": ..., "digest": ...}] for the successful files. Paths must be valid UTF-8.
std::string digests_json(std::span<const FileDigest> digests);

}  // namespace vmd::ctl
