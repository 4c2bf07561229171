// RFC 8785 JSON canonicalization (JCS), as Rekor signs its SET payloads.
#pragma once

#include <string>

#include "common/json.hpp"

namespace vmd::trust {

/// The canonical form of `element`: object members sorted by UTF-16 code units, no
/// whitespace, minimal string escapes, numbers in ECMAScript form. Only integers of magnitude
/// up to 2^53 are supported (a Rekor payload has no others); any other number, a duplicate key
/// or nesting deeper than 64 throws Error(SignatureInvalid).
std::string canonical_json(json::Element element);

}  // namespace vmd::trust
