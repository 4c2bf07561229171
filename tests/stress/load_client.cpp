#include "stress/load_client.hpp"

#include <algorithm>
#include <array>
#include <functional>
#include <optional>
#include <random>
#include <thread>
#include <utility>

#include "stress/rootfs_check.hpp"
#include "stress/stress_bus.hpp"
#include "stress/stress_env.hpp"
#include "stress/stress_store.hpp"

namespace vmd::testing::stress {
namespace {

constexpr std::size_t kMaxFailures = 20;
// A call refused with Busy is sent again; this many times in a row is a failure.
constexpr int kMaxBusyRetries = 100000;
constexpr uid_t kNobody = 65534;
constexpr std::array kRefusalRoles = {Role::Unsigned,    Role::WrongKey, Role::NoAnnotation,
                                      Role::BlobFlipped, Role::NotErofs, Role::Incomplete,
                                      Role::Rejected,    Role::BadKey};

std::string tally_key(const Outcome& outcome, bool mount) {
    if (outcome.ok()) {
        return mount ? "ok Mount" : "ok Verify";
    }
    const std::string_view prefix = "io.containers.VerityMount1.Error.";
    return outcome.error_name.starts_with(prefix) ? outcome.error_name.substr(prefix.size())
                                                  : outcome.error_name;
}

class LoadClient {
  public:
    LoadClient(const BuiltStore& store, LoadTarget& target, std::size_t index, std::uint64_t seed,
               ClientTally& tally)
        : store_(store), target_(target), index_(index), rng_(seed), tally_(tally) {}

    /// Runs one randomly chosen scenario.
    void step() {
        using Scenario = void (LoadClient::*)();
        // Weights: mostly good mounts and refusals, a few of the costly kinds.
        static constexpr std::array<std::pair<int, Scenario>, 11> kScenarios = {{
            {22, &LoadClient::mount_read_only},
            {10, &LoadClient::mount_container},
            {1, &LoadClient::mount_container_twice},
            {16, &LoadClient::verify_good},
            {24, &LoadClient::refused_by_store},
            {9, &LoadClient::refused_argument},
            {5, &LoadClient::not_found},
            {2, &LoadClient::kernel_unsupported},
            {3, &LoadClient::access_denied},
            {2, &LoadClient::burst},
            {6, &LoadClient::hang_up},
        }};
        int total = 0;
        for (const auto& [weight, scenario] : kScenarios) {
            total += weight;
        }
        int pick = std::uniform_int_distribution<int>(0, total - 1)(rng_);
        for (const auto& [weight, scenario] : kScenarios) {
            if ((pick -= weight) < 0) {
                (this->*scenario)();
                return;
            }
        }
    }

  private:
    // --- the scenarios -------------------------------------------------------------------------

    void mount_read_only() {
        const Role role = good_role();
        auto [spec, verity] = good_call(role, true);
        if (coin()) {
            spec.options.push_back(OptionArg::boolean("nodev", true));
        }
        auto outcome = call_retrying(spec);
        expect_mounted("read-only mount", outcome, role, spec.image, verity, false);
    }

    void mount_container() {
        const Role role = good_role();
        auto [spec, verity] = good_call(role, true);
        spec.container = container_name(role, index_);
        const bool readonly = pick(4) == 0;
        if (readonly) {
            spec.options.push_back(OptionArg::boolean("readonly", true));
        }
        auto outcome = call_retrying(spec);
        expect_mounted("container mount", outcome, role, spec.image, verity, !readonly);
    }

    void mount_container_twice() {
        auto [spec, verity] = good_call(Role::Good, true);
        spec.container = container_name(Role::Good, index_);
        auto first = call_retrying(spec);
        expect_mounted("first container mount", first, Role::Good, spec.image, verity, true);
        // This client alone uses the container: while its first mount lives, the kernel refuses
        // the work dir to any other overlay.
        auto second = call(spec);
        expect_error("second mount of a container in use", second, error_name("Busy"));
    }

    void verify_good() {
        const Role role = good_role();
        auto [spec, verity] = good_call(role, false);
        auto outcome = call_retrying(spec);
        expect_verified("Verify", outcome, role, spec.image, verity);
    }

    void refused_by_store() {
        const Role role = kRefusalRoles[pick(kRefusalRoles.size())];
        CallSpec spec{coin(), image_name(role), "", {OptionArg::string("verity", "digest")}};
        auto outcome = call_retrying(spec);
        const auto expected = expected_error(role, spec.mount);
        if (expected.empty()) {
            expect_verified("Verify of a broken EROFS image", outcome, role, spec.image, "digest");
        } else {
            expect_error("refusal of " + image_name(role), outcome, expected);
        }
    }

    void refused_argument() {
        const auto good = image_name(Role::Good);
        const std::array<CallSpec, 7> cases = {{
            {false, "Not A Reference!", "", {}},
            {false, good, "", {OptionArg::boolean("bogus", true)}},
            {false, good, "", {OptionArg::boolean("verity", true)}},
            {false, good, "", {OptionArg::string("verity", "enforced")}},
            {false,
             good,
             "",
             {OptionArg::string("signature", "require"), OptionArg::string("signature", "check")}},
            {true, good, container_name(Role::Other, index_), {}},
            {true, good, "../../etc", {}},
        }};
        const auto& spec = cases[pick(cases.size())];
        expect_error("invalid argument", call_retrying(spec), error_name("InvalidArgument"));
    }

    void not_found() {
        switch (pick(3)) {
            case 0:
                expect_error("absent name", call_retrying({coin(), "quay.io/stress/absent:v1"}),
                             error_name("ImageNotFound"));
                break;
            case 1:
                expect_error("absent ID", call_retrying({false, std::string(64, 'e')}),
                             error_name("ImageNotFound"));
                break;
            default:
                expect_error("absent container",
                             call_retrying({true, image_name(Role::Good), "no-such-container"}),
                             error_name("ContainerNotFound"));
        }
    }

    void kernel_unsupported() {
        CallSpec spec{coin(), image_name(Role::Good), "", {OptionArg::string("verity", "enforce")}};
        // With fs-verity, enforce goes on and finds blobs that are no verity files.
        expect_error("verity=enforce", call_retrying(spec),
                     error_name(target_.fs_verity ? "VerityMissing" : "KernelUnsupported"));
    }

    void access_denied() {
        CallSpec spec{coin(), image_name(Role::Good)};
        Outcome outcome;
        try {
            outcome = call_as_user(target_.address, kNobody, spec, kCallTimeout);
        } catch (const std::exception& error) {
            failure(std::string("caller uid 65534 could not call: ") + error.what());
            return;
        }
        count(outcome, spec.mount);
        expect_error("caller uid 65534", outcome, error_name("AccessDenied"));
    }

    void burst() {
        std::vector<CallSpec> specs;
        std::vector<std::string> verity;
        for (unsigned i = 0; i < target_.max_concurrent + 4; ++i) {
            auto [spec, level] = good_call(Role::Good, false);
            specs.push_back(std::move(spec));
            verity.push_back(level);
        }
        auto outcomes = connection().call_all(specs, kCallTimeout);
        for (std::size_t i = 0; i < outcomes.size(); ++i) {
            count(outcomes[i], false);
            if (outcomes[i].error_name == error_name("Busy")) {
                ++tally_.burst_busy;
                continue;
            }
            expect_verified("Verify in a burst", outcomes[i], Role::Good, specs[i].image,
                            verity[i]);
        }
    }

    void hang_up() {
        auto [spec, verity] = good_call(good_role(), true);
        try {
            Connection(target_.address).send_and_hang_up(spec);
        } catch (const std::exception& error) {
            failure(std::string("hang-up call: ") + error.what());
            return;
        }
        ++tally_.calls;
        ++tally_.hang_ups;
    }

    // --- calls and checks ----------------------------------------------------------------------

    Connection& connection() {
        if (!connection_) {
            connection_.emplace(target_.address);
        }
        return *connection_;
    }

    void count(const Outcome& outcome, bool mount) {
        ++tally_.calls;
        ++tally_.outcomes[tally_key(outcome, mount)];
        if (!mount && outcome.ok()) {
            target_.verifies_ok.fetch_add(1);
        }
    }

    Outcome call(const CallSpec& spec) {
        auto outcome = connection().call(spec, kCallTimeout);
        count(outcome, spec.mount);
        return outcome;
    }

    /// A call sent alone; Busy (the daemon full with other clients' bursts) means: send again.
    Outcome call_retrying(const CallSpec& spec) {
        for (int attempt = 0; attempt < kMaxBusyRetries; ++attempt) {
            auto outcome = call(spec);
            if (outcome.error_name != error_name("Busy")) {
                return outcome;
            }
            ++tally_.busy_retries;
            std::this_thread::yield();
        }
        failure("Busy " + std::to_string(kMaxBusyRetries) + " times in a row for " + spec.image);
        return {};
    }

    void expect_error(const std::string& what, const Outcome& outcome, const std::string& name) {
        if (outcome.error_name != name) {
            failure(what + ": expected " + name + ", found " +
                    (outcome.ok() ? std::string("success") : outcome.error_name) + " " +
                    outcome.error_message);
        } else if (outcome.error_message.empty()) {
            failure(what + ": " + name + " without a message");
        }
    }

    void expect_verified(const std::string& what, const Outcome& outcome, Role role,
                         const std::string& requested, const std::string& verity) {
        if (!outcome.ok()) {
            failure(what + " of " + requested + ": expected success, found " + outcome.error_name +
                    " " + outcome.error_message);
            return;
        }
        auto mismatch =
            report_mismatch(outcome.report, store_.image(index_of(role)), requested, verity);
        if (!mismatch.empty()) {
            failure(what + " of " + requested + ": " + mismatch);
        }
    }

    void expect_mounted(const std::string& what, const Outcome& outcome, Role role,
                        const std::string& requested, const std::string& verity, bool writable) {
        expect_verified(what, outcome, role, requested, verity);
        if (!outcome.ok()) {
            return;
        }
        const int rootfs = outcome.rootfs.get();
        if (!is_overlay(rootfs) || is_read_only(rootfs) == writable) {
            failure(what + ": expected a " + (writable ? "writable" : "read-only") +
                    " overlay, found another mount");
        }
        auto id = read_below(rootfs, "etc/stress-id");
        if (id != stress_id(nonce(), role)) {
            failure(what + ": /etc/stress-id through the mount is \"" +
                    id.value_or("(unreadable)") + "\", expected \"" + stress_id(nonce(), role) +
                    "\"");
        }
    }

    void failure(std::string text) {
        if (tally_.failures.size() < kMaxFailures) {
            tally_.failures.push_back("client " + std::to_string(index_) + ": " + std::move(text));
        }
    }

    // --- random choices ------------------------------------------------------------------------

    std::size_t pick(std::size_t n) {
        return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng_);
    }
    bool coin() { return pick(2) == 0; }
    Role good_role() { return coin() ? Role::Good : Role::Other; }

    /// A call for `role` by name, full ID or an ID prefix, at verity off or digest (asked for,
    /// or left to the configured minimum, off); returns it with the level it must report.
    std::pair<CallSpec, std::string> good_call(Role role, bool mount) {
        const auto& image = store_.image(index_of(role));
        CallSpec spec{mount, image.names.front()};
        const auto form = pick(3);
        if (form == 1) {
            spec.image = image.id;
        } else if (form == 2) {
            spec.image = image.id.substr(0, 12 + pick(52));
        }
        std::string verity = "off";
        switch (pick(3)) {
            case 0:
                break;
            case 1:
                spec.options.push_back(OptionArg::string("verity", "off"));
                break;
            default:
                spec.options.push_back(OptionArg::string("verity", "digest"));
                verity = "digest";
        }
        return {std::move(spec), verity};
    }

    const BuiltStore& store_;
    LoadTarget& target_;
    std::size_t index_;
    std::mt19937_64 rng_;
    ClientTally& tally_;
    std::optional<Connection> connection_;
};

}  // namespace

void ClientTally::add(const ClientTally& other) {
    for (const auto& [key, n] : other.outcomes) {
        outcomes[key] += n;
    }
    calls += other.calls;
    busy_retries += other.busy_retries;
    burst_busy += other.burst_busy;
    hang_ups += other.hang_ups;
    failures.insert(failures.end(), other.failures.begin(), other.failures.end());
}

void run_load_client(const BuiltStore& store, LoadTarget& target, std::size_t index,
                     std::uint64_t seed, std::atomic<std::size_t>& calls, std::size_t until,
                     ClientTally& tally) {
    try {
        LoadClient client(store, target, index, seed, tally);
        while (calls.load() < until) {
            const auto before = tally.calls;
            client.step();
            calls.fetch_add(tally.calls - before);
        }
    } catch (const std::exception& error) {
        tally.failures.push_back("client " + std::to_string(index) + " stopped: " + error.what());
    }
}

}  // namespace vmd::testing::stress
