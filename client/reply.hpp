// The daemon's replies as plain C++ values, free of any D-Bus library: a generic value tree for
// the extensible a{sv} maps, and the typed report of Mount/Verify (DESIGN §4).
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "common/error.hpp"

namespace vmd::client {

/// A value of a D-Bus type the client does not model (a struct, a dict with non-string keys...);
/// it keeps the type's signature so that it can at least be named.
struct Opaque {
    std::string signature;
    bool operator==(const Opaque&) const = default;
};

/// One decoded D-Bus value. Signed integers become int64, unsigned ones (and bytes) uint64,
/// strings/object paths/signatures std::string, arrays List, string-keyed dicts Map.
struct Value {
    struct Entry;
    using List = std::vector<Value>;
    /// Key order as received (D-Bus dicts are ordered; sdbus-c++ hands them over sorted).
    using Map = std::vector<Entry>;

    std::variant<bool, std::int64_t, std::uint64_t, double, std::string, List, Map, Opaque> data;

    // Out of line: a defaulted operator== here would compare List and Map while Value is still
    // incomplete, which clang rejects.
    bool operator==(const Value& other) const;
};

// Not std::pair: clang cannot instantiate a variant holding vector<pair<string, Value>> while
// Value is still being defined.
struct Value::Entry {
    std::string key;
    Value value;
    bool operator==(const Entry&) const = default;
};

/// The entry `key` of `map`, or nullptr when absent.
const Value* find(const Value::Map& map, std::string_view key);

/// One layer of a report, bottom first.
struct LayerReport {
    std::string layer_id;
    /// The composefs blob's measured fs-verity digest ("" when the effective level was off).
    std::string blob_digest;
    /// The digests the signed manifest allows for this layer.
    std::vector<std::string> allowed;
};

/// The `info` of Mount and the `report` of Verify.
struct Report {
    std::string image_id;
    std::string manifest_digest;
    /// The normalised full reference that was checked.
    std::string identity;
    /// The policy scope that matched ("" = the transport's default, "default" = the policy's).
    std::string policy_scope;
    /// Effective levels, as the daemon spells them.
    std::string signature;
    std::string verity;
    std::vector<LayerReport> layers;
    std::uint64_t elapsed_us = 0;
};

/// Why a call did not produce a result.
enum class ErrorKind {
    /// The daemon could not be reached: no bus, no socket, nobody owns the name, timeout.
    Unreachable,
    /// The daemon (or the bus, on its behalf) refused the request.
    Refused,
    /// The daemon answered with something that is not the documented reply.
    BadReply,
};

/// A failed call, keeping the D-Bus error name and message as received.
class ClientError : public std::runtime_error {
  public:
    ClientError(ErrorKind kind, std::string name, std::string message);

    ErrorKind kind() const noexcept { return kind_; }
    /// The full D-Bus error name, e.g. "io.containers.VerityMount1.Error.VerityMismatch".
    const std::string& name() const noexcept { return name_; }
    /// The human sentence that came with the error.
    const std::string& message() const noexcept { return message_; }
    /// The daemon's typed refusal, when the name is one of DESIGN §4's.
    std::optional<Errc> daemon_error() const;

  private:
    ErrorKind kind_;
    std::string name_;
    std::string message_;
};

/// The error name used for replies that do not match the contract.
inline constexpr std::string_view kBadReplyName = "io.containers.VerityMount1.Client.BadReply";

/// Sorts a D-Bus error name received in reply to a call into Refused or Unreachable.
ErrorKind classify_error_name(std::string_view name);

/// Decodes an `info`/`report` map. Unknown keys are ignored (the map is extensible); a missing
/// key or a value of the wrong type throws ClientError(BadReply) naming the key.
Report report_from_map(const Value::Map& map);

}  // namespace vmd::client
