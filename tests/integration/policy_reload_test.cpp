// The daemon keeps what it parsed from policy.json and the key files it names (they are trusted
// /etc files) only while they stay the same: every edit shows on the very next request.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "daemon_env.hpp"
#include "fixtures/json_records.hpp"
#include "fixtures/sample_images.hpp"
#include "fixtures/signing.hpp"

namespace vmd::testing {
namespace {

namespace fs = std::filesystem;

class PolicyReload : public ::testing::Test {
  protected:
    RunResult verify() { return env_.ctl({"verify", std::string(kDemoName)}); }
    void expect_verified() {
        auto result = verify();
        EXPECT_EQ(result.exit_code, 0) << result.err;
    }

    DaemonEnv env_{sample_store()};
    const FixturePaths& paths_ = env_.store().paths;
    const std::string policy_ = read_file(paths_.policy);
    const std::string key_ = read_file(paths_.public_key);
};

TEST_F(PolicyReload, PolicyEditsTakeEffectOnTheNextRequest) {
    age_past_settle_time({paths_.policy, paths_.public_key});
    expect_verified();
    expect_verified();  // now from what the daemon kept

    // Edited in place (same inode), then replaced the way editors save (a new inode).
    write_file(paths_.policy, R"({"default":[{"type":"reject"}]})");
    expect_refused(verify(), "PolicyRejected", "\"reject\"");
    write_file_atomic(paths_.policy, policy_, 0644);
    expect_verified();
    write_file_atomic(paths_.policy, "{", 0644);
    expect_refused(verify(), "PolicyInvalid");
    write_file(paths_.policy, policy_);
    expect_verified();
}

TEST_F(PolicyReload, KeyFileEditsTakeEffectOnTheNextRequest) {
    age_past_settle_time({paths_.policy, paths_.public_key});
    expect_verified();
    expect_verified();

    // The policy names the key file by path: another key there refuses the image's signature.
    const auto other = SigningKey::generate(KeyType::EcdsaP256);
    write_file(paths_.public_key, other.public_pem());
    expect_refused(verify(), "SignatureInvalid");
    write_file_atomic(paths_.public_key, key_, 0644);
    expect_verified();
    write_file(paths_.public_key, "not a key");
    expect_refused(verify(), "PolicyInvalid");
    write_file(paths_.public_key, key_);
    expect_verified();
}

}  // namespace
}  // namespace vmd::testing
