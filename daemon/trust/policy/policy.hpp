// containers-policy.json(5): strict parsing for the docker transport.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "trust/policy/reference.hpp"

namespace vmd::trust {

struct PolicyData;  // the parsed tree; defined in trust/policy/policy_data.hpp

/// A parsed, validated policy.json. Key material is loaded only when a requirement is
/// evaluated, so bad keys in unused scopes do not stop other scopes from working.
class Policy {
  public:
    /// Parses policy.json text. Anything malformed, unknown or duplicate: Error(PolicyInvalid)
    /// naming the key or type.
    static Policy parse(std::string_view json);
    /// Reads and parses the file (at most max_bytes). Unreadable: Error(PolicyInvalid).
    static Policy load(const std::filesystem::path& path, std::uint64_t max_bytes = 4ull << 20);
    /// load(path, max_bytes), kept between requests while the file keeps its version
    /// (TrustedFileCache): one stat instead of a read and a parse. Errors are never kept.
    static std::shared_ptr<const Policy> load_cached(const std::filesystem::path& path,
                                                     std::uint64_t max_bytes);

    Policy(Policy&&) noexcept;
    Policy& operator=(Policy&&) noexcept;
    ~Policy();
    const PolicyData& data() const { return *data_; }

  private:
    explicit Policy(std::unique_ptr<PolicyData> data);
    std::unique_ptr<PolicyData> data_;
};

}  // namespace vmd::trust
