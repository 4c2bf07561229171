#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/statvfs.h>

#include "common/error.hpp"
#include "mount/composefs.hpp"
#include "mount_test_support.hpp"

namespace vmd::mount::test {
namespace {

using vmd::testing::read_file;
using vmd::testing::TempDir;

// One composefs layer: its EROFS mount (detached) and its objects dir (O_PATH).
struct MountedLayer {
    UniqueFd erofs;
    UniqueFd objects;
};

class OverlayMount : public ::testing::Test {
  protected:
    void SetUp() override { tracked_roots().push_back(dir_.path()); }

    MountedLayer mount_layer(const LayerBuilder& layer) {
        auto blob = open_or_throw(layer.build(), O_RDONLY);
        return {mount_erofs(blob.get(), ErofsSourceKind::File, false, kernel_),
                open_or_throw(layer.objects(), O_PATH | O_DIRECTORY)};
    }

    MountedLayer standard_layer() {
        auto layer = build_standard_layer(dir_.path() / "standard");
        return {mount_erofs(open_or_throw(layer.image(), O_RDONLY).get(), ErofsSourceKind::File,
                            false, kernel_),
                open_or_throw(layer.objects(), O_PATH | O_DIRECTORY)};
    }

    OverlaySpec read_only_spec(const MountedLayer& layer) {
        OverlaySpec spec;
        spec.metadata_layers = {layer.erofs.get()};
        spec.data_layers = {layer.objects.get()};
        spec.staging_root = dir_.path() / "staging";
        return spec;
    }

    TempDir dir_;
    KernelFeatures kernel_ = probe_kernel_features(dir_.path());
};

TEST_F(OverlayMount, ReadOnlyWithDataLayerFollowsRedirects) {
    auto layer = standard_layer();
    auto rootfs = mount_overlay(read_only_spec(layer), kernel_);
    AttachedMount root(rootfs.get(), dir_.path() / "root");

    for (const auto& [path, content] : standard_objects()) {
        EXPECT_EQ(read_file(root.path() / path), content) << path;
    }
    EXPECT_EQ(read_file(root.path() / "plain.txt"), "plain inline content\n");
    EXPECT_EQ(read_file(root.path() / "link"), standard_objects().at("hello.txt"));
    EXPECT_TRUE(fs::is_directory(root.path() / "empty"));
    EXPECT_EQ(::access(root.path().c_str(), W_OK), -1);
    EXPECT_EQ(errno, EROFS);
    auto options = super_options(root.path());
    EXPECT_NE(options.find("metacopy=on"), std::string::npos) << options;
    EXPECT_NE(options.find("redirect_dir=on"), std::string::npos) << options;
}

TEST_F(OverlayMount, TopLayerOverridesTheOneBelow) {
    LayerBuilder bottom_builder(dir_.path() / "bottom");
    bottom_builder.object_file("shared.txt", "from the bottom layer\n")
        .object_file("bottom-only.txt", "only below\n");
    LayerBuilder top_builder(dir_.path() / "top");
    top_builder.object_file("shared.txt", "from the top layer\n").plain_file("top-only.txt", "t");
    auto bottom = mount_layer(bottom_builder);
    auto top = mount_layer(top_builder);

    OverlaySpec spec;
    spec.metadata_layers = {top.erofs.get(), bottom.erofs.get()};
    spec.data_layers = {top.objects.get(), bottom.objects.get()};
    auto rootfs = mount_overlay(spec, kernel_);
    AttachedMount root(rootfs.get(), dir_.path() / "root");

    EXPECT_EQ(read_file(root.path() / "shared.txt"), "from the top layer\n");
    EXPECT_EQ(read_file(root.path() / "bottom-only.txt"), "only below\n");
    EXPECT_EQ(read_file(root.path() / "top-only.txt"), "t");
}

TEST_F(OverlayMount, ReadWriteWritesLandInTheUpperDir) {
    auto layer = standard_layer();
    fs::create_directories(dir_.path() / "upper");
    fs::create_directories(dir_.path() / "work");
    auto upper = open_or_throw(dir_.path() / "upper", O_PATH | O_DIRECTORY);
    auto work = open_or_throw(dir_.path() / "work", O_PATH | O_DIRECTORY);
    auto spec = read_only_spec(layer);
    spec.upper_dir = upper.get();
    spec.work_dir = work.get();
    spec.readonly = false;
    auto rootfs = mount_overlay(spec, kernel_);
    AttachedMount root(rootfs.get(), dir_.path() / "root");

    vmd::testing::write_file(root.path() / "new.txt", "written through the overlay");
    EXPECT_EQ(read_file(dir_.path() / "upper" / "new.txt"), "written through the overlay");
    EXPECT_EQ(read_file(root.path() / "hello.txt"), standard_objects().at("hello.txt"));
    fs::remove(root.path() / "plain.txt");
    EXPECT_FALSE(fs::exists(root.path() / "plain.txt"));
    EXPECT_TRUE(fs::exists(dir_.path() / "upper" / "plain.txt")) << "no whiteout in the upper";
}

TEST_F(OverlayMount, SecondReadWriteMountOnTheSameWorkDirIsBusy) {
    auto layer = standard_layer();
    fs::create_directories(dir_.path() / "upper");
    fs::create_directories(dir_.path() / "work");
    auto upper = open_or_throw(dir_.path() / "upper", O_PATH | O_DIRECTORY);
    auto work = open_or_throw(dir_.path() / "work", O_PATH | O_DIRECTORY);
    auto spec = read_only_spec(layer);
    spec.upper_dir = upper.get();
    spec.work_dir = work.get();
    spec.readonly = false;

    auto first = mount_overlay(spec, kernel_);
    try {
        mount_overlay(spec, kernel_);
        FAIL() << "two read-write overlays share one work dir";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), Errc::Busy);
        EXPECT_NE(e.message().find("in use"), std::string::npos) << e.message();
    }
    first.reset();
    EXPECT_TRUE(mount_overlay(spec, kernel_)) << "the work dir stayed busy after the mount went";
}

TEST_F(OverlayMount, UpperDirFromOtherLowerLayersIsNamedInTheRefusal) {
    auto first_layer = standard_layer();
    LayerBuilder other_builder(dir_.path() / "other");
    other_builder.object_file("other.txt", "another image\n");
    auto other_layer = mount_layer(other_builder);
    fs::create_directories(dir_.path() / "upper");
    fs::create_directories(dir_.path() / "work");
    auto upper = open_or_throw(dir_.path() / "upper", O_PATH | O_DIRECTORY);
    auto work = open_or_throw(dir_.path() / "work", O_PATH | O_DIRECTORY);
    auto spec = read_only_spec(first_layer);
    spec.upper_dir = upper.get();
    spec.work_dir = work.get();
    spec.readonly = false;
    mount_overlay(spec, kernel_).reset();

    spec.metadata_layers = {other_layer.erofs.get()};
    spec.data_layers = {other_layer.objects.get()};
    try {
        mount_overlay(spec, kernel_);
        FAIL() << "index=on accepted an upper dir recorded against other lower layers";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), Errc::MountFailed);
        EXPECT_NE(e.message().find("index=on"), std::string::npos) << e.message();
        EXPECT_NE(e.message().find("Stale file handle"), std::string::npos) << e.message();
    }
}

TEST_F(OverlayMount, MountAttributesFollowTheSpec) {
    auto layer = standard_layer();
    auto spec = read_only_spec(layer);
    spec.nodev = true;
    spec.nosuid = true;
    auto rootfs = mount_overlay(spec, kernel_);
    struct statvfs st {};
    ASSERT_EQ(::fstatvfs(rootfs.get(), &st), 0);
    EXPECT_NE(st.f_flag & ST_RDONLY, 0U);
    EXPECT_NE(st.f_flag & ST_NODEV, 0U);
    EXPECT_NE(st.f_flag & ST_NOSUID, 0U);

    spec.nodev = false;
    spec.nosuid = false;
    auto plain = mount_overlay(spec, kernel_);
    ASSERT_EQ(::fstatvfs(plain.get(), &st), 0);
    EXPECT_EQ(st.f_flag & (ST_NODEV | ST_NOSUID), 0U);
}

TEST_F(OverlayMount, VerityRequireWithoutFsVerityFailsEveryRedirectedOpen) {
    if (kernel_.fs_verity) {
        GTEST_SKIP() << "fs-verity works here: the data files would need verity enabled";
    }
    auto layer = standard_layer();
    auto spec = read_only_spec(layer);
    spec.verity_require = true;
    // DESIGN §6: the kernel accepts verity=require, then every redirected open fails with EIO.
    auto rootfs = mount_overlay(spec, kernel_);
    AttachedMount root(rootfs.get(), dir_.path() / "root");
    EXPECT_NE(super_options(root.path()).find("verity=require"), std::string::npos);
    UniqueFd hello(::open((root.path() / "hello.txt").c_str(), O_RDONLY | O_CLOEXEC));
    EXPECT_FALSE(hello);
    EXPECT_EQ(errno, EIO);
    EXPECT_EQ(read_file(root.path() / "plain.txt"), "plain inline content\n");
}

TEST_F(OverlayMount, VerityRequireOnAKernelWithoutOverlayVerityIsRefused) {
    auto layer = standard_layer();
    auto spec = read_only_spec(layer);
    spec.verity_require = true;
    auto old_kernel = kernel_;
    old_kernel.overlay_verity = false;
    try {
        mount_overlay(spec, old_kernel);
        FAIL() << "verity=require was silently dropped";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), Errc::KernelUnsupported);
        EXPECT_NE(e.message().find("6.6"), std::string::npos) << e.message();
    }
}

TEST_F(OverlayMount, MalformedSpecsAreRefused) {
    auto layer = standard_layer();
    OverlaySpec none;
    EXPECT_THROW(mount_overlay(none, kernel_), Error);

    auto upper_only = read_only_spec(layer);
    upper_only.upper_dir = layer.objects.get();
    try {
        mount_overlay(upper_only, kernel_);
        FAIL() << "an upper dir without a work dir was accepted";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), Errc::Internal);
    }

    OverlaySpec single;
    single.metadata_layers = {layer.erofs.get()};
    try {
        mount_overlay(single, kernel_);
        FAIL() << "a single lower without upper was passed to the kernel";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), Errc::MountFailed);
        EXPECT_NE(e.message().find("at least 2 lower layers"), std::string::npos) << e.message();
    }
}

TEST_F(OverlayMount, KernelRefusalCarriesItsMessage) {
    auto layer = standard_layer();
    vmd::testing::write_file(dir_.path() / "not-a-dir", "x");
    auto file = open_or_throw(dir_.path() / "not-a-dir", O_RDONLY);
    auto spec = read_only_spec(layer);
    spec.data_layers = {file.get()};
    auto by_path = kernel_;
    by_path.layers_by_fd = false;
    try {
        mount_overlay(spec, by_path);
        FAIL() << "a regular file was accepted as a data layer";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), Errc::MountFailed);
        EXPECT_NE(e.message().find("kernel: e overlay:"), std::string::npos) << e.message();
        EXPECT_NE(e.message().find("is not a directory"), std::string::npos) << e.message();
    }
}

}  // namespace
}  // namespace vmd::mount::test
