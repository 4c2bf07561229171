// Keyed input read through a table: one entry per known key with the function that reads its
// value. The config, the store's JSON records and the request options all read this way, so a
// key's name, its reader and the "expected one of ..." list never drift apart.
#pragma once

#include <array>
#include <bitset>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace vmd {

/// One known key and the function (or function pointer type) that reads its value.
template <typename Reader>
struct KeyEntry {
    std::string_view key;
    Reader read;
};

/// The index of `key` in `table`, or nullopt when the table does not know it.
template <typename Reader, std::size_t N>
constexpr std::optional<std::size_t> find_key(const std::array<KeyEntry<Reader>, N>& table,
                                              std::string_view key) {
    for (std::size_t i = 0; i < N; ++i) {
        if (table[i].key == key) {
            return i;
        }
    }
    return std::nullopt;
}

/// The table's keys in order, comma-separated, for "expected one of ..." messages.
template <typename Reader, std::size_t N>
std::string key_list(const std::array<KeyEntry<Reader>, N>& table) {
    std::string out;
    for (const auto& entry : table) {
        out += out.empty() ? "" : ", ";
        out += entry.key;
    }
    return out;
}

/// Which keys of an N-entry table were met so far, to refuse a key given twice.
template <std::size_t N>
class SeenKeys {
  public:
    /// Marks `index`; false when it was marked before.
    bool mark(std::size_t index) {
        if (seen_.test(index)) {
            return false;
        }
        seen_.set(index);
        return true;
    }

  private:
    std::bitset<N> seen_;
};

}  // namespace vmd
