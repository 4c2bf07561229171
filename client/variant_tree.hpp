// sdbus-c++ values -> the client's Value tree. Internal to the client library (it needs sdbus-c++).
#pragma once

#include <sdbus-c++/Types.h>

#include <map>
#include <string>

#include "client/reply.hpp"

namespace vmd::client {

/// Decodes one variant by its signature; types the tree does not model become Opaque.
Value value_from_variant(const sdbus::Variant& variant);
/// Decodes an a{sv} map, keeping sdbus-c++'s (sorted) key order.
Value::Map map_from_variants(const std::map<std::string, sdbus::Variant>& map);

}  // namespace vmd::client
