// Races on the untrusted store (issue 10 item 7): while 8 clients mount and verify two signed
// images (read-only and their own containers, at verity=digest, the strongest level this kernel
// has), an attacker keeps rewriting images.json, layers.json, containers.json and the images'
// manifests, signatures and blobs (store_racer.hpp). Every reply must be a typed refusal or a
// mount whose whole tree is exactly that of the signed image whose manifest digest it reports,
// with that image's layers and blob digests; nothing crashes, hangs or leaks.
#include <gtest/gtest.h>

#include <iostream>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "daemon_env.hpp"
#include "stress/daemon_watch.hpp"
#include "stress/load_client.hpp"
#include "stress/rootfs_check.hpp"
#include "stress/store_racer.hpp"
#include "stress/stress_bus.hpp"
#include "stress/stress_env.hpp"
#include "stress/stress_store.hpp"

namespace vmd::testing::stress {
namespace {

constexpr std::size_t kClients = 8;
constexpr std::size_t kMaxFailures = 20;

/// A signed image as it must come out of any successful call.
struct Signed {
    const BuiltImage* image = nullptr;
    Role role = Role::Good;
    std::string fingerprint;  // of its whole tree, through a mount made before the race
};

/// What the clients saw, shared.
struct RaceTally {
    std::mutex mutex;
    std::map<std::string, unsigned> outcomes;
    std::vector<std::string> failures;

    void add(const std::string& key, const std::string& failure) {
        std::lock_guard lock(mutex);
        ++outcomes[key];
        if (!failure.empty() && failures.size() < kMaxFailures) {
            failures.push_back(failure);
        }
    }
};

/// The refusals a store under attack may cause; anything else (Internal, a crash, a hang, a
/// policy or argument error) is a failure.
bool expected_refusal(const std::string& name) {
    static const std::set<std::string> kAllowed = {error_name("StorageCorrupt"),
                                                   error_name("SignatureInvalid"),
                                                   error_name("SignatureRequired"),
                                                   error_name("VerityMismatch"),
                                                   error_name("VerityMissing"),
                                                   error_name("ImageNotFound"),
                                                   error_name("ContainerNotFound"),
                                                   error_name("InvalidArgument"),
                                                   error_name("PolicyRejected"),
                                                   error_name("MountFailed"),
                                                   error_name("Busy")};
    return kAllowed.contains(name);
}

/// "" when a successful reply is one of the signed images, whole; else what is wrong.
std::string judge_success(const Outcome& outcome, bool mount, const std::vector<Signed>& images) {
    const Signed* match = nullptr;
    for (const auto& candidate : images) {
        if (candidate.image->manifest_digest == outcome.report.manifest_digest) {
            match = &candidate;
        }
    }
    if (match == nullptr) {
        return "success with a manifest no one signed: " + outcome.report.manifest_digest;
    }
    const auto& layers = match->image->layers;
    if (outcome.report.layers.size() != layers.size()) {
        return "success with " + std::to_string(outcome.report.layers.size()) + " layers for " +
               match->image->names.front();
    }
    for (std::size_t i = 0; i < layers.size(); ++i) {
        if (outcome.report.layers[i].layer_id != layers[i].id ||
            outcome.report.layers[i].blob_digest != layers[i].blob_digest) {
            return "success with layer " + std::to_string(i + 1) + " not that of " +
                   match->image->names.front();
        }
    }
    if (mount) {
        try {
            if (tree_fingerprint(outcome.rootfs.get()) != match->fingerprint) {
                return "a mount whose files are not exactly " + match->image->names.front() + "'s";
            }
        } catch (const std::exception& error) {
            return std::string("a mount that cannot be read: ") + error.what();
        }
    }
    return "";
}

void race_client(const std::string& address, std::size_t index, std::uint64_t seed,
                 const std::vector<Signed>& images, std::atomic<std::size_t>& calls,
                 std::size_t until, LoadTarget& target, RaceTally& tally) {
    std::mt19937_64 rng(seed);
    try {
        Connection connection(address);
        while (calls.fetch_add(1) < until) {
            const auto& wanted = images[rng() % images.size()];
            CallSpec spec(rng() % 5 != 0,
                          rng() % 2 == 0 ? wanted.image->names.front() : wanted.image->id);
            if (spec.mount && rng() % 2 == 0) {
                spec.container = container_name(wanted.role, index);
            }
            auto outcome = connection.call(spec, kCallTimeout);
            std::string failure;
            if (outcome.ok()) {
                failure = judge_success(outcome, spec.mount, images);
                target.verifies_ok.fetch_add(spec.mount ? 0 : 1);
            } else if (!expected_refusal(outcome.error_name) || outcome.error_message.empty()) {
                failure = "unexpected " + outcome.error_name + " " + outcome.error_message;
            }
            const auto key = outcome.ok()
                                 ? (spec.mount ? "ok Mount" : "ok Verify")
                                 : outcome.error_name.substr(outcome.error_name.rfind('.') + 1);
            tally.add(key, failure.empty() ? ""
                                           : "client " + std::to_string(index) + ", " + spec.image +
                                                 ": " + failure);
        }
    } catch (const std::exception& error) {
        tally.add("client stopped", "client " + std::to_string(index) + ": " + error.what());
    }
}

TEST(Race, StoreRewrittenWhileEightClientsMountOnlySignedContentOrTypedRefusals) {
    if (!namespace_problem().empty()) {
        GTEST_SKIP() << namespace_problem();
    }
    DaemonEnv env(stress_store_spec(nonce(), kClients, 2),
                  {{"verity", "\"digest\""}, {"max_concurrent", std::to_string(kClients)}});
    LoadTarget target;
    target.address = env.address();
    target.idle_sockets = 1;
    std::vector<Signed> images;
    {
        Connection connection(env.address());
        for (Role role : {Role::Good, Role::Other}) {
            const auto& image = env.store().image(index_of(role));
            auto outcome = connection.call({true, image.names.front()}, kCallTimeout);
            ASSERT_TRUE(outcome.ok()) << outcome.error_name << " " << outcome.error_message;
            images.push_back({&image, role, tree_fingerprint(outcome.rootfs.get())});
        }
    }
    auto before = quiesce(target, env.daemon().pid());
    ASSERT_EQ(before.problem, "");

    RaceTally tally;
    std::atomic<bool> stop{false};
    std::atomic<std::size_t> calls{0};
    StoreRacer racer(env.store(), index_of(Role::Good), index_of(Role::Other), seed());
    const auto started = std::chrono::steady_clock::now();
    std::thread attacker([&] { racer.run(stop); });
    std::vector<std::thread> clients;
    for (std::size_t i = 0; i < kClients; ++i) {
        clients.emplace_back(race_client, env.address(), i, seed() + 1 + i, std::cref(images),
                             std::ref(calls), scale().race_calls, std::ref(target),
                             std::ref(tally));
    }
    for (auto& client : clients) {
        client.join();
    }
    stop = true;
    attacker.join();
    const auto seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

    // The store is whole again: both images mount, and the daemon holds what it held before.
    {
        Connection connection(env.address());
        for (const auto& image : images) {
            for (const auto& container : {std::string(), container_name(image.role, 0)}) {
                auto outcome =
                    connection.call({true, image.image->names.front(), container}, kCallTimeout);
                EXPECT_EQ(outcome.error_name, "") << outcome.error_message;
                if (outcome.ok()) {
                    EXPECT_EQ(judge_success(outcome, true, images), "");
                }
            }
        }
    }
    auto after = quiesce(target, env.daemon().pid());
    EXPECT_EQ(after.problem, "");
    EXPECT_EQ(after.holdings.fds, before.holdings.fds)
        << describe_growth(before.holdings, after.holdings);
    EXPECT_EQ(after.holdings.mounts, before.holdings.mounts);
    const auto loops = loops_serving(env.store());
    EXPECT_TRUE(loops.empty()) << loops.front();

    std::cout << "stress race: " << scale().race_calls << " calls from " << kClients
              << " clients in " << seconds << " s; load average " << load_average()
              << "\n  outcomes:";
    for (const auto& [key, n] : tally.outcomes) {
        std::cout << " " << key << " " << n << ";";
    }
    unsigned total_changes = 0;
    for (const auto& [kind, n] : racer.changes()) {
        total_changes += n;
    }
    std::cout << "\n  store changes: " << total_changes << " of " << racer.changes().size()
              << " kinds\n";
    for (const auto& failure : tally.failures) {
        ADD_FAILURE() << failure;
    }
    EXPECT_GT(tally.outcomes["ok Mount"], 0u);
    EXPECT_GT(total_changes, 0u);
}

}  // namespace
}  // namespace vmd::testing::stress
