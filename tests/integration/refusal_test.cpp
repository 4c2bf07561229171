// Every attack on the store is a typed refusal; the daemon stays healthy and leaks nothing.
#include <algorithm>
#include <filesystem>
#include <functional>
#include <ostream>

#include "daemon_env.hpp"
#include "fixtures/sample_images.hpp"
#include "fixtures/store_files.hpp"
#include "fixtures/store_tamper.hpp"

namespace vmd::testing {
namespace {

struct Attack {
    std::string name;
    std::string error;                        // expected error name
    std::string message_part;                 // must appear in the message
    std::function<void(BuiltStore&)> tamper;  // changes the store
    std::vector<std::string> ctl_args = {};   // default: mount the demo image
};

std::string top_layer(const BuiltStore& store) {
    return store.image().layers.back().id;
}

std::vector<Attack> attacks() {
    return {
        {"ManifestModified", "SignatureInvalid", "",
         [](BuiltStore& s) {
             auto manifest = s.image().manifest;
             manifest.insert(manifest.rfind('}'), ",\"x-attacker\":1");
             rewrite_manifest(s.paths.store, s.image().id, manifest);
         }},
        {"SignatureMissing", "SignatureRequired", "",
         [](BuiltStore& s) { set_signatures(s.paths.store, s.image().id, {}); }},
        {"SignatureByUnknownKey", "SignatureInvalid", "",
         [](BuiltStore& s) {
             auto other = SigningKey::generate(KeyType::EcdsaP256);
             std::vector<SignatureSpec> specs{SignatureSpec::with_key(other)};
             resign(s, 0, specs);
         }},
        {"SignatureForAnotherRepository", "SignatureInvalid", "quay.io/example/other",
         [](BuiltStore& s) {
             std::vector<SignatureSpec> specs{
                 SignatureSpec::for_identity("quay.io/example/other:latest")};
             resign(s, 0, specs);
         }},
        {"LayerWithoutAnnotation", "VerityMissing", "",
         [](BuiltStore& s) { set_annotation(s, 0, 1, AnnotationSpec::omitted()); }},
        {"BlobChangedByOneByte", "VerityMismatch", "",
         [](BuiltStore& s) { flip_blob_byte(s.paths.store, top_layer(s)); }},
        {"BlobReplacedBySymlink", "StorageCorrupt", "",
         [](BuiltStore& s) { replace_blob_with_symlink(s.paths.store, top_layer(s)); }},
        {"TwoLayersSwapped", "VerityMismatch", "",
         [](BuiltStore& s) { swap_layer_order(s.paths.store, s.image().id, 0, 1); }},
        {"ExtraLayer", "StorageCorrupt", "",
         [](BuiltStore& s) {
             add_extra_layer(s, 0, LayerSpec{{Entry::file("/extra", "extra\n")}});
         }},
        {"IncompleteLayer", "StorageCorrupt", "",
         [](BuiltStore& s) { mark_layer_incomplete(s.paths.store, top_layer(s)); }},
        {"UnknownOptionKey", "InvalidArgument", "bogus", [](BuiltStore&) {}},
        {"ImagePathTraversal", "InvalidArgument", "", [](BuiltStore&) {}, {"verify", "../../etc"}},
        {"ContainerPathTraversal",
         "InvalidArgument",
         "",
         [](BuiltStore&) {},
         {"mount", std::string(kDemoName), "../../etc", "--target", "{target}"}},
        {"BadLevelValue", "InvalidArgument", "enforced", [](BuiltStore&) {}},
    };
}

void PrintTo(const Attack& attack, std::ostream* out) {
    *out << attack.name;
}

class Refusal : public ::testing::TestWithParam<Attack> {};

TEST_P(Refusal, IsTypedAndLeavesTheDaemonHealthy) {
    const auto& attack = GetParam();
    DaemonEnv env(sample_store());
    // Warm up once so that lazily opened fds (journal, loop-control) are already counted.
    ASSERT_EQ(env.ctl({"verify", std::string(kDemoName)}).exit_code, 0);
    const auto fds_before = open_fd_count(env.daemon().pid());
    const auto mounts_before = mount_count(env.daemon().pid(), env.dir().string());

    attack.tamper(env.store());
    RunResult result;
    if (attack.name == "UnknownOptionKey") {
        result = env.busctl_call(
            {"Verify", "sa{sv}", std::string(kDemoName), "1", "bogus", "b", "true"});
        EXPECT_NE(result.exit_code, 0);
        EXPECT_NE(result.err.find(attack.message_part), std::string::npos) << result.err;
    } else if (attack.name == "BadLevelValue") {
        result = env.busctl_call(
            {"Verify", "sa{sv}", std::string(kDemoName), "1", "verity", "s", "enforced"});
        EXPECT_NE(result.exit_code, 0);
        EXPECT_NE(result.err.find(attack.message_part), std::string::npos) << result.err;
    } else {
        MountPoint target(env.dir() / "rootfs");
        auto args = attack.ctl_args;
        if (args.empty()) {
            args = {"mount", std::string(kDemoName), "--target", "{target}"};
        }
        std::replace(args.begin(), args.end(), std::string("{target}"), target.str());
        result = env.ctl(args);
        expect_refused(result, attack.error, attack.message_part);
    }

    // Healthy: it still answers, and holds no more fds or mounts than before.
    auto status = env.ctl({"status", "--json"});
    EXPECT_EQ(status.exit_code, 0) << status.err;
    EXPECT_TRUE(env.daemon().running());
    EXPECT_EQ(open_fd_count(env.daemon().pid()), fds_before);
    EXPECT_EQ(mount_count(env.daemon().pid(), env.dir().string()), mounts_before);
}

INSTANTIATE_TEST_SUITE_P(Store, Refusal, ::testing::ValuesIn(attacks()),
                         [](const auto& test) { return test.param.name; });

TEST(Authorization, CallerWhoseUidIsNotAllowedIsRefused) {
    DaemonEnv env(sample_store(), {{"allowed_uids", "[0]"}});
    auto result =
        env.ctl({"status"}, {"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"});
    expect_refused(result, "AccessDenied", "65534");
    auto mount = env.ctl({"verify", std::string(kDemoName)},
                         {"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"});
    expect_refused(mount, "AccessDenied", "65534");
}

TEST(Authorization, RootIsRefusedWhenNotListed) {
    DaemonEnv env(sample_store(), {{"allowed_uids", "[4242]"}});
    expect_refused(env.ctl({"verify", std::string(kDemoName)}), "AccessDenied", "uid 0");
}

// max_blob_bytes over the bus, at the levels this host can serve (enforce needs fs-verity: the
// VM test asks for it): Verify and Mount both refuse a blob one byte over the bound.
TEST(BlobBound, EveryLevelAndMethodRefusesABlobOverMaxBlobBytes) {
    auto spec = sample_store();
    TempDir sizes_dir;
    const auto sizes_store = build_store(spec, sizes_dir.path());
    const auto& bottom = sizes_store.image().layers.front().id;
    const auto size = std::filesystem::file_size(blob_path(sizes_store.paths.store, bottom));
    DaemonEnv env(spec, {{"verity", "\"off\""}, {"max_blob_bytes", std::to_string(size - 1)}});
    // The store builder is deterministic: the daemon's store has the same bottom blob.
    ASSERT_EQ(env.store().image().layers.front().id, bottom);
    ASSERT_EQ(std::filesystem::file_size(blob_path(env.store().paths.store, bottom)), size);
    const std::string says = "composefs.blob: expected at most " + std::to_string(size - 1) +
                             " bytes (max_blob_bytes), found " + std::to_string(size);
    MountPoint target(env.dir() / "rootfs");
    for (std::string level : {"off", "digest"}) {
        SCOPED_TRACE(level);
        expect_refused(env.ctl({"verify", std::string(kDemoName), "--verity", level}),
                       "StorageCorrupt", says);
        expect_refused(
            env.ctl({"mount", std::string(kDemoName), "--target", target.str(), "--verity", level}),
            "StorageCorrupt", says);
    }
    EXPECT_TRUE(env.daemon().running());
}

}  // namespace
}  // namespace vmd::testing
