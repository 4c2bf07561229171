// Mounting through the real daemon: by name, ID and prefix, read-only and read-write, files
// checked through the mount, on stores written by the fixture builder and by skopeo.
#include <unistd.h>

#include "daemon_env.hpp"
#include "fixtures/sample_images.hpp"

namespace vmd::testing {
namespace {

namespace fs = std::filesystem;

void expect_sample_rootfs(const fs::path& root) {
    EXPECT_EQ(read_file(root / "etc/os-release"), kOsRelease);
    // The top layer overrides /etc/motd and links to it.
    EXPECT_EQ(read_file(root / "etc/motd"), kTopMotd);
    EXPECT_TRUE(fs::is_symlink(root / "etc/motd.link"));
    EXPECT_EQ(fs::read_symlink(root / "etc/motd.link"), "motd");
    EXPECT_EQ(read_file(root / "etc/motd.link"), kTopMotd);
    EXPECT_EQ(read_file(root / "usr/share/demo/hello.txt"), kHelloText);
    EXPECT_EQ(read_file(root / "usr/share/demo/top.txt"), kTopText);
    EXPECT_EQ(read_file(root / "usr/share/demo/data.bin").size(), 13000u);
}

class MountThroughDaemon : public ::testing::Test {
  protected:
    DaemonEnv env{sample_store()};
};

TEST_F(MountThroughDaemon, ByNameShowsEveryLayerThroughTheMount) {
    MountPoint target(env.dir() / "rootfs");
    auto result = env.ctl({"mount", std::string(kDemoName), "--target", target.str()});
    ASSERT_EQ(result.exit_code, 0) << result.err;
    expect_sample_rootfs(target.path());
    // Read-only without a container.
    EXPECT_NE(::access((target.path() / "etc").c_str(), W_OK), 0);
}

TEST_F(MountThroughDaemon, ByFullIdAndByUniquePrefix) {
    const auto& id = env.store().image().id;
    for (const auto& image : {id, id.substr(0, 12)}) {
        MountPoint target(env.dir() / ("rootfs-" + image));
        auto result = env.ctl({"mount", image, "--target", target.str(), "--json"});
        ASSERT_EQ(result.exit_code, 0) << result.err;
        EXPECT_NE(result.out.find("\"image_id\": \"" + id + "\""), std::string::npos) << result.out;
        // An ID names the image; the identity checked is its first stored name.
        EXPECT_NE(result.out.find(std::string(kDemoName)), std::string::npos) << result.out;
        expect_sample_rootfs(target.path());
    }
}

TEST_F(MountThroughDaemon, ShortNameIsNormalisedLikeADockerReference) {
    // "demo" is docker.io/library/demo:latest, which the store does not hold.
    MountPoint target(env.dir() / "rootfs");
    auto result = env.ctl({"mount", "demo", "--target", target.str()});
    expect_refused(result, "ImageNotFound", "docker.io/library/demo:latest");
}

TEST_F(MountThroughDaemon, InfoReportsLevelsLayersAndDigests) {
    auto result = env.ctl({"verify", std::string(kDemoName), "--json"});
    ASSERT_EQ(result.exit_code, 0) << result.err;
    const auto& image = env.store().image();
    EXPECT_NE(result.out.find(image.manifest_digest), std::string::npos);
    for (const auto& layer : image.layers) {
        EXPECT_NE(result.out.find(layer.id), std::string::npos);
        EXPECT_NE(result.out.find(layer.blob_digest), std::string::npos);
    }
    EXPECT_NE(result.out.find("\"signature\": \"require\""), std::string::npos) << result.out;
    EXPECT_NE(result.out.find("\"verity\": \"digest\""), std::string::npos) << result.out;
    EXPECT_NE(result.out.find("\"policy_scope\": \"quay.io/example/demo\""), std::string::npos)
        << result.out;
}

TEST(ContainerMount, WriteLandsInTheContainersLayer) {
    auto spec = sample_store();
    spec.containers.push_back({"web", 0});
    DaemonEnv env(spec);
    const auto& container = env.store().containers.at(0);
    MountPoint target(env.dir() / "rootfs");
    auto result = env.ctl({"mount", std::string(kDemoName), "web", "--target", target.str()});
    ASSERT_EQ(result.exit_code, 0) << result.err;
    expect_sample_rootfs(target.path());
    write_file(target.path() / "etc/written-by-test", "container data\n");
    ::umount2(target.str().c_str(), 0);
    auto diff = env.store().paths.store / "overlay" / container.layer_id / "diff";
    EXPECT_EQ(read_file(diff / "etc/written-by-test"), "container data\n");
}

TEST(ContainerMount, ContainerOfAnotherImageIsRefused) {
    auto spec = sample_store();
    spec.images.push_back(layered_image(3, "quay.io/example/other:1"));
    spec.containers.push_back({"other", 1});
    DaemonEnv env(spec);
    MountPoint target(env.dir() / "rootfs");
    auto result = env.ctl({"mount", std::string(kDemoName), "other", "--target", target.str()});
    expect_refused(result, "InvalidArgument", env.store().image(1).id);
}

TEST(SkopeoStore, WhatTheRealStoreCodeWroteMountsAndReads) {
    ASSERT_TRUE(have_program("skopeo")) << missing_program("skopeo", "skopeo");
    auto spec = sample_store();
    spec.mode = StoreMode::Skopeo;
    DaemonEnv env(spec);
    MountPoint target(env.dir() / "rootfs");
    auto result = env.ctl({"mount", std::string(kDemoName), "--target", target.str()});
    ASSERT_EQ(result.exit_code, 0) << result.err;
    expect_sample_rootfs(target.path());
}

TEST(BusctlCall, MountReturnsAFileDescriptorAndInfo) {
    DaemonEnv env(sample_store());
    auto result = env.busctl_call({"Mount", "ssa{sv}", std::string(kDemoName), "", "0"});
    ASSERT_EQ(result.exit_code, 0) << result.err;
    // busctl prints the reply signature, then the values: the fd number first.
    EXPECT_EQ(result.out.rfind("ha{sv} ", 0), 0u) << result.out;
    EXPECT_NE(result.out.find(env.store().image().manifest_digest), std::string::npos);
}

}  // namespace
}  // namespace vmd::testing

namespace vmd::testing {
namespace {

TEST(HostKernel, EnforceIsRefusedNamingFsVerityWhileDigestWorks) {
    DaemonEnv env(sample_store());
    auto status = env.ctl({"status", "--json"});
    ASSERT_EQ(status.exit_code, 0) << status.err;
    if (status.out.find("\"fs_verity\": false") == std::string::npos) {
        GTEST_SKIP() << "this kernel and store filesystem have fs-verity; the VM test covers it";
    }
    expect_refused(env.ctl({"verify", std::string(kDemoName), "--verity", "enforce"}),
                   "KernelUnsupported", "fs-verity");
    EXPECT_EQ(env.ctl({"verify", std::string(kDemoName)}).exit_code, 0);
    // The refusal is counted; the daemon keeps serving.
    auto after = env.ctl({"status", "--json"});
    EXPECT_NE(after.out.find("\"refusals\": 1"), std::string::npos) << after.out;
}

TEST(HostKernel, EnforceAsConfiguredMinimumRefusesEveryRequestButStatusAnswers) {
    DaemonEnv env(sample_store(), {{"verity", "\"enforce\""}});
    expect_refused(env.ctl({"verify", std::string(kDemoName), "--verity", "digest"}),
                   "KernelUnsupported", "fs-verity");
    auto status = env.ctl({"status", "--json"});
    EXPECT_EQ(status.exit_code, 0) << status.err;
    EXPECT_NE(status.out.find("\"overlay_verity\": true"), std::string::npos) << status.out;
}

}  // namespace
}  // namespace vmd::testing
