// The attacker of the race test: with write access to the store, it keeps rewriting images.json,
// layers.json, containers.json and one of two signed images' manifest, signatures and blobs — with
// the other image's bytes, tampered bytes, truncations, empty files, symlinks, FIFOs, missing
// files — in place (a reader can see half a write) or by rename-over, and puts the original back
// after a random moment. One change at a time, so that the store is whole between changes.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "fixtures/store_builder.hpp"

namespace vmd::testing::stress {

class StoreRacer {
  public:
    /// Races on the files of `store` that concern images `first` and `second` (indexes): each is
    /// in turn the victim whose files change, and the other the donor of foreign bytes.
    StoreRacer(const BuiltStore& store, std::size_t first, std::size_t second, std::uint64_t seed);

    /// Changes and restores files until `stop` is set; leaves every file as it found it.
    void run(const std::atomic<bool>& stop);
    /// How many changes of each kind were made ("manifest: other image's bytes, in place", …).
    const std::map<std::string, unsigned>& changes() const { return changes_; }

  private:
    /// One file of the store: its path and good bytes, and what may replace them.
    struct Target {
        std::string name;
        std::filesystem::path path;
        std::string original;
        std::filesystem::path donor;  // the other image's file of the same role ("" for none)
        std::string swapped;          // the original with the two images' identities exchanged
    };

    void change(const Target& target);
    void restore(const Target& target);
    std::size_t pick(std::size_t n) {
        return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng_);
    }

    std::vector<Target> targets_;
    std::mt19937_64 rng_;
    std::map<std::string, unsigned> changes_;
};

}  // namespace vmd::testing::stress
