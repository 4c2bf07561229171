// containers-policy.json(5): strict parsing and evaluation for the docker transport.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/levels.hpp"
#include "trust/reference.hpp"

namespace vmd::trust {

struct PolicyData;  // the parsed tree; defined in trust/policy_data.hpp

/// A parsed, validated policy.json. Key material is loaded only when a requirement is
/// evaluated, so bad keys in unused scopes do not stop other scopes from working.
class Policy {
  public:
    /// Parses policy.json text. Anything malformed, unknown or duplicate: Error(PolicyInvalid)
    /// naming the key or type.
    static Policy parse(std::string_view json);
    /// Reads and parses the file (at most max_bytes). Unreadable: Error(PolicyInvalid).
    static Policy load(const std::filesystem::path& path, std::uint64_t max_bytes = 4ull << 20);

    Policy(Policy&&) noexcept;
    Policy& operator=(Policy&&) noexcept;
    ~Policy();
    const PolicyData& data() const { return *data_; }

  private:
    explicit Policy(std::unique_ptr<PolicyData> data);
    std::unique_ptr<PolicyData> data_;
};

/// What an accepting evaluation found.
struct PolicyDecision {
    std::string scope;                // the matching scope key; "" for the transport default,
                                      // "default" for the policy's default
    bool signature_verified = false;  // a signature-verifying requirement accepted
};

/// Evaluates the docker-transport requirements for `reference` (the name the caller asked for)
/// over the exact `manifest` bytes and the image's raw signature blobs.
/// level Check: every requirement of the chosen scope must accept. Require: additionally a
/// requirement that verified a signature must have accepted.
/// Refusals: Error(PolicyRejected) (reject, signedBy, signedBaseLayer), Error(SignatureRequired)
/// (no signatures at all), Error(SignatureInvalid) (signatures, none accepted: the message says
/// why each candidate failed), Error(PolicyInvalid) (bad key material). Each message names the
/// scope chosen and the requirement that refused.
PolicyDecision evaluate(const Policy& policy, const DockerReference& reference,
                        std::string_view manifest, std::span<const std::string> signatures,
                        SignatureLevel level);

}  // namespace vmd::trust
