// A store under a RHEL-style policy.json: signedBy (GPG) for Red Hat's registry, sigstoreSigned
// for another, insecureAcceptAnything by default. Over the bus, the daemon mounts exactly the
// images that policy lets through and refuses the others with the right error.
#include <string>
#include <vector>

#include "daemon_env.hpp"
#include "fixtures/gpg_home.hpp"
#include "fixtures/json_records.hpp"
#include "fixtures/sample_images.hpp"
#include "fixtures/store_files.hpp"

namespace vmd::testing {
namespace {

constexpr std::string_view kRedHat = "registry.redhat.io/ubi9/ubi:latest";
constexpr std::string_view kQuay = "quay.io/example/app:latest";
constexpr std::string_view kBusybox = "docker.io/library/busybox:latest";

// What RHEL ships in /etc/containers/policy.json, with this test's keys, plus a sigstore scope.
std::string rhel_policy(const std::string& gpg_key, const std::string& cosign_key) {
    auto signed_by =
        R"([{"type":"signedBy","keyType":"GPGKeys","keyPaths":[")" + gpg_key + R"("]}])";
    return R"({"default":[{"type":"insecureAcceptAnything"}],"transports":{"docker":{)"
           R"("registry.access.redhat.com":)" +
           signed_by + R"(,"registry.redhat.io":)" + signed_by +
           R"(,"quay.io/example":[{"type":"sigstoreSigned","keyPath":")" + cosign_key +
           R"(","signedIdentity":{"type":"matchRepository"}}]},)"
           R"("docker-daemon":{"":[{"type":"insecureAcceptAnything"}]}}})";
}

// A GPG simple signature of `image`'s manifest for `identity`, as `gpg --sign` makes it.
std::string gpg_signature(const GpgHome& home, const std::string& key, const BuiltImage& image,
                          std::string_view identity) {
    auto payload =
        R"({"critical":{"identity":{"docker-reference":")" + std::string(identity) +
        R"("},"image":{"docker-manifest-digest":")" + image.manifest_digest +
        R"("},"type":"atomic container signature"},"optional":{"creator":"test","timestamp":1}})";
    return home.sign(payload, {key}, {});
}

class RhelPolicy : public ::testing::Test {
  protected:
    static StoreSpec spec() {
        StoreSpec spec;
        // Distinct layer chains, so that the three images have distinct IDs.
        spec.images = {layered_image(1, std::string(kRedHat)), layered_image(2, std::string(kQuay)),
                       layered_image(3, std::string(kBusybox))};
        spec.images[0].signatures = {};  // signed with GPG below
        spec.images[2].signatures = {};  // unsigned
        return spec;
    }

    void SetUp() override {
        write_file(gpg_key_, home_.export_keys({redhat_}, false));
        write_file(env_.store().paths.policy,
                   rhel_policy(gpg_key_.string(), env_.store().paths.public_key.string()));
        sign_redhat({gpg_signature(home_, redhat_, image(0), kRedHat)});
    }

    const BuiltImage& image(std::size_t index) { return env_.store().image(index); }
    void sign_redhat(const std::vector<std::string>& blobs) {
        set_signatures(env_.store().paths.store, image(0).id, blobs);
    }
    void set_quay_signatures(const std::vector<std::string>& blobs) {
        set_signatures(env_.store().paths.store, image(1).id, blobs);
    }
    // Mounts `name` read-only and checks the rootfs is the image's.
    void expect_mounts(std::string_view name, const std::string& level) {
        MountPoint target(env_.dir() / "rootfs");
        auto result =
            env_.ctl({"mount", std::string(name), "--target", target.str(), "--signature", level});
        ASSERT_EQ(result.exit_code, 0) << name << " at " << level << ": " << result.err;
        EXPECT_EQ(read_file(target.path() / "etc/os-release"), kOsRelease);
    }
    RunResult verify(std::string_view name, const std::string& level = "check") {
        return env_.ctl({"verify", std::string(name), "--signature", level});
    }

    GpgHome home_;
    std::string redhat_ = home_.generate_key("Red Hat, Inc. (test) <security@example.com>",
                                             "rsa3072", "sign", "never");
    std::string stranger_ =
        home_.generate_key("stranger <s@example.com>", "ed25519", "sign", "never");
    DaemonEnv env_{spec(), {{"signature", "\"check\""}}};
    std::filesystem::path gpg_key_ = env_.dir() / "RPM-GPG-KEY-redhat-release";
};

TEST_F(RhelPolicy, MountsWhatThePolicyLetsThrough) {
    for (const std::string level : {"check", "require"}) {
        expect_mounts(kRedHat, level);  // signedBy: a GPG signature by the trusted key
        expect_mounts(kQuay, level);    // sigstoreSigned: the store's cosign signature
    }
    // insecureAcceptAnything: mounted at check; require wants a verified signature.
    expect_mounts(kBusybox, "check");
    expect_refused(verify(kBusybox, "require"), "SignatureRequired",
                   R"(policy scope "default" (policy default): signature=require expected a )"
                   "signature-verifying requirement (signedBy or sigstoreSigned), found only "
                   "insecureAcceptAnything");
}

TEST_F(RhelPolicy, RefusesWhatItDoesNot) {
    sign_redhat({gpg_signature(home_, stranger_, image(0), kRedHat)});
    expect_refused(verify(kRedHat), "SignatureInvalid",
                   R"(policy scope "registry.redhat.io", requirement 1 of 1 (signedBy): )"
                   "expected an accepted signature, found none of 1: signature 1: ");

    sign_redhat({gpg_signature(home_, redhat_, image(0), "registry.redhat.io/ubi9/other:latest")});
    expect_refused(verify(kRedHat), "SignatureInvalid", "ubi9/other:latest");

    // A cosign signature is not what signedBy reads.
    sign_redhat({make_signature(env_.store().key, kRedHat, image(0).manifest_digest)});
    expect_refused(verify(kRedHat), "SignatureRequired",
                   "expected at least one GPG simple-signing signature, found none (1 sigstore "
                   "signature blob(s), which signedBy does not read)");

    // Nor a GPG signature what sigstoreSigned reads.
    set_quay_signatures({gpg_signature(home_, redhat_, image(1), kQuay)});
    expect_refused(verify(kQuay), "SignatureRequired",
                   "1 GPG simple-signing signature(s), which sigstoreSigned does not read");

    // An armored blob beside a good signature: containers/image reads none of them.
    sign_redhat({gpg_signature(home_, redhat_, image(0), kRedHat),
                 home_.gpg({"--armor", "--export", redhat_})});
    expect_refused(verify(kRedHat), "StorageCorrupt", "signature 2 of 2: ");

    // The same image under a name the policy does not cover falls to the default.
    sign_redhat({gpg_signature(home_, redhat_, image(0), kRedHat)});
    set_image_names(env_.store().paths.store, image(0).id,
                    std::vector<std::string>{std::string(kRedHat), "example.com/ubi:latest"});
    auto other_name = verify("example.com/ubi:latest");
    EXPECT_EQ(other_name.exit_code, 0) << other_name.err;
}

TEST_F(RhelPolicy, KeyFileEditsTakeEffectOnTheNextRequest) {
    const auto trusted = read_file(gpg_key_);
    age_past_settle_time({env_.store().paths.policy, gpg_key_});
    auto first = verify(kRedHat);
    EXPECT_EQ(first.exit_code, 0) << first.err;
    auto kept = verify(kRedHat);  // from the keyring the daemon kept
    EXPECT_EQ(kept.exit_code, 0) << kept.err;

    // In place (same inode): another key there no longer accepts Red Hat's signature.
    write_file(gpg_key_, home_.export_keys({stranger_}, false));
    expect_refused(verify(kRedHat), "SignatureInvalid", "signature 1: ");
    write_file_atomic(gpg_key_, trusted, 0644);  // replaced, as editors save
    auto back = verify(kRedHat);
    EXPECT_EQ(back.exit_code, 0) << back.err;
    write_file(gpg_key_, "not a key");
    expect_refused(verify(kRedHat), "PolicyInvalid",
                   "expected at least one GPG public key with a valid self-signed user ID");
    write_file(gpg_key_, trusted);
    auto again = verify(kRedHat);
    EXPECT_EQ(again.exit_code, 0) << again.err;
}

}  // namespace
}  // namespace vmd::testing
