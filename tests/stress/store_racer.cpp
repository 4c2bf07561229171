#include "stress/store_racer.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <stdexcept>
#include <thread>
#include <utility>

#include "common/unique_fd.hpp"
#include "fixtures/store_files.hpp"
#include "fixtures/test_env.hpp"

namespace vmd::testing::stress {
namespace fs = std::filesystem;
namespace {

constexpr std::array kKinds = {"other image's bytes",
                               "identities exchanged",
                               "one byte flipped",
                               "truncated",
                               "empty",
                               "symlink",
                               "FIFO",
                               "missing"};

/// `text` with every `a` and every `b` of each pair exchanged, all at once.
std::string exchanged(std::string text,
                      const std::vector<std::pair<std::string, std::string>>& pairs) {
    std::vector<std::pair<std::string, std::string>> forward;  // value -> placeholder -> value
    for (std::size_t i = 0; i < pairs.size(); ++i) {
        forward.emplace_back(pairs[i].first, "\x01" + std::to_string(2 * i) + "\x01");
        forward.emplace_back(pairs[i].second, "\x01" + std::to_string(2 * i + 1) + "\x01");
    }
    auto replace_all = [&](const std::string& from, const std::string& to) {
        for (auto at = text.find(from); at != std::string::npos;
             at = text.find(from, at + to.size())) {
            text.replace(at, from.size(), to);
        }
    };
    for (const auto& [value, placeholder] : forward) {
        replace_all(value, placeholder);
    }
    for (std::size_t i = 0; i < forward.size(); ++i) {
        replace_all(forward[i].second, forward[i ^ 1].first);
    }
    return text;
}

fs::path beside(const fs::path& path, const char* suffix) {
    return path.string() + suffix;
}

/// Writes `bytes` to a new file beside `path` and renames it over `path`.
void rename_over(const fs::path& path, std::string_view bytes) {
    const auto temporary = beside(path, ".racer");
    write_file(temporary, bytes);
    fs::rename(temporary, path);
}

/// Rewrites `path` where it is, in two writes: a reader may see the first half alone.
void write_in_place(const fs::path& path, std::string_view bytes) {
    UniqueFd fd(::open(path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC));
    if (!fd) {
        throw std::runtime_error("racer: cannot open " + path.string());
    }
    const auto half = bytes.size() / 2;
    for (auto part : {bytes.substr(0, half), bytes.substr(half)}) {
        if (::write(fd.get(), part.data(), part.size()) != static_cast<ssize_t>(part.size())) {
            throw std::runtime_error("racer: cannot write " + path.string());
        }
        std::this_thread::yield();
    }
}

}  // namespace

StoreRacer::StoreRacer(const BuiltStore& built, std::size_t first, std::size_t second,
                       std::uint64_t seed)
    : rng_(seed) {
    const auto& store = built.paths.store;
    const auto& a = built.image(first);
    const auto& b = built.image(second);
    auto add = [&](std::string name, const fs::path& path, const fs::path& donor,
                   const std::vector<std::pair<std::string, std::string>>& identities) {
        auto original = read_file(path);
        auto swapped = identities.empty() ? std::string() : exchanged(original, identities);
        targets_.push_back({std::move(name), path, std::move(original), donor, std::move(swapped)});
    };
    add("images.json", images_json(store), {},
        {{a.layers.back().id, b.layers.back().id}, {a.names.front(), b.names.front()}});
    add("layers.json", layers_json(store), {}, {{a.layers.front().id, b.layers.front().id}});
    add("containers.json", containers_json(store), {}, {{a.id, b.id}});
    for (const auto& [victim, donor] : {std::pair{&a, &b}, std::pair{&b, &a}}) {
        for (const char* item : {"manifest", "signatures"}) {
            add(std::string(item) + " of " + victim->names.front(),
                image_dir(store, victim->id) / item, image_dir(store, donor->id) / item, {});
        }
        for (bool top : {true, false}) {
            const auto& layer = top ? victim->layers.back() : victim->layers.front();
            const auto& other = top ? donor->layers.back() : donor->layers.front();
            add(std::string(top ? "top" : "bottom") + " blob of " + victim->names.front(),
                blob_path(store, layer.id), blob_path(store, other.id), {});
        }
    }
}

void StoreRacer::run(const std::atomic<bool>& stop) {
    using std::chrono::microseconds;
    while (!stop.load()) {
        const auto& target = targets_[pick(targets_.size())];
        change(target);
        // A random moment for readers to meet the change, then one with the store whole again.
        std::this_thread::sleep_for(microseconds(pick(3000)));
        restore(target);
        std::this_thread::sleep_for(microseconds(pick(1000)));
    }
}

void StoreRacer::change(const Target& target) {
    std::string kind;
    do {
        kind = kKinds[pick(kKinds.size())];
    } while ((kind == "other image's bytes" && target.donor.empty()) ||
             (kind == "identities exchanged" && target.swapped.empty()));
    const auto& path = target.path;
    if (kind == "symlink") {
        const auto temporary = beside(path, ".racer");
        fs::create_symlink(target.donor.empty() ? beside(path, ".aside") : target.donor, temporary);
        if (target.donor.empty()) {
            write_file(beside(path, ".aside"), target.original);
        }
        fs::rename(temporary, path);
    } else if (kind == "FIFO") {
        const auto temporary = beside(path, ".racer");
        if (::mkfifo(temporary.c_str(), 0600) != 0) {
            throw std::runtime_error("racer: mkfifo " + temporary.string());
        }
        fs::rename(temporary, path);
    } else if (kind == "missing") {
        fs::rename(path, beside(path, ".aside"));
    } else {
        std::string bytes;
        if (kind == "other image's bytes") {
            bytes = read_file(target.donor);
        } else if (kind == "identities exchanged") {
            bytes = target.swapped;
        } else if (kind == "one byte flipped") {
            bytes = target.original;
            auto& byte = bytes[pick(bytes.size())];
            byte = static_cast<char>(static_cast<unsigned char>(byte) ^ (1 + pick(255)));
        } else if (kind == "truncated") {
            bytes = target.original.substr(0, pick(target.original.size()));
        }
        const bool in_place = pick(2) == 0;
        kind += in_place ? ", in place" : ", renamed over";
        in_place ? write_in_place(path, bytes) : rename_over(path, bytes);
    }
    ++changes_[target.name + ": " + kind];
}

void StoreRacer::restore(const Target& target) {
    rename_over(target.path, target.original);
    std::error_code ignored;
    fs::remove(beside(target.path, ".aside"), ignored);
}

}  // namespace vmd::testing::stress
