// Every kernel fallback of mount_compat, forced by clearing its KernelFeatures flag, runs for real
// on this kernel: the same rootfs must come out of each path, and nothing may stay behind.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <functional>

#include "common/error.hpp"
#include "mount/composefs.hpp"
#include "mount/mount_compat.hpp"
#include "mount_test_support.hpp"

namespace vmd::mount::test {
namespace {

using vmd::testing::read_file;
using vmd::testing::TempDir;

struct Fallback {
    std::string name;
    std::function<void(KernelFeatures&)> apply;
    // What the overlay's options must show for this path ({dir} is the test's directory).
    std::string expected_option;
};

// gtest prints the parameter of a failed test with this.
[[maybe_unused]] void PrintTo(const Fallback& fallback, std::ostream* out) {
    *out << fallback.name;
}

std::vector<Fallback> fallbacks() {
    return {
        {"Current", [](KernelFeatures&) {}, "datadir+={dir}/top/objects"},
        {"NoDetachedLayers", [](KernelFeatures& k) { k.detached_layers = false; },
         "lowerdir+={dir}/staging/layers-"},
        {"NoOpathFds", [](KernelFeatures& k) { k.layers_by_opath_fd = false; },
         "datadir+={dir}/top/objects"},
        {"NoLayersByFd",
         [](KernelFeatures& k) {
             k.layers_by_fd = false;
             k.layers_by_opath_fd = false;
         },
         "lowerdir+=/proc/self/fd/"},
        {"LegacyLowerdirString", [](KernelFeatures& k) { k.overlay_lowerdir_plus = false; },
         "lowerdir=/proc/self/fd/"},
        {"NoErofsFileBacked", [](KernelFeatures& k) { k.erofs_file_backed = false; },
         "datadir+={dir}/top/objects"},
        {"Kernel6_13",
         [](KernelFeatures& k) {
             k.detached_layers = false;
             k.layers_by_opath_fd = false;
         },
         "lowerdir+={dir}/staging/layers-"},
        {"Kernel6_8",
         [](KernelFeatures& k) {
             k.detached_layers = false;
             k.layers_by_opath_fd = false;
             k.layers_by_fd = false;
             k.erofs_file_backed = false;
         },
         "lowerdir+=/proc/self/fd/"},
        {"Kernel6_6",
         [](KernelFeatures& k) {
             k.detached_layers = false;
             k.layers_by_opath_fd = false;
             k.layers_by_fd = false;
             k.erofs_file_backed = false;
             k.overlay_lowerdir_plus = false;
         },
         "lowerdir=/proc/self/fd/"},
    };
}

class ForcedFallback : public ::testing::TestWithParam<Fallback> {
  protected:
    void SetUp() override {
        tracked_roots().push_back(dir_.path());
        kernel_ = probe_kernel_features(dir_.path());
        GetParam().apply(kernel_);
        LayerBuilder bottom(dir_.path() / "bottom");
        bottom.object_file("shared.txt", "bottom\n").object_file("lib/bottom.so", "ELF-ish\n");
        LayerBuilder top(dir_.path() / "top");
        top.object_file("shared.txt", "top\n").plain_file("etc/hostname", "top-host\n");
        for (auto* builder : {&top, &bottom}) {
            auto blob = open_or_throw(builder->build(), O_RDONLY);
            erofs_.push_back(mount_erofs(blob.get(), ErofsSourceKind::File, false, kernel_));
            objects_.push_back(open_or_throw(builder->objects(), O_PATH | O_DIRECTORY));
        }
    }

    OverlaySpec spec() const {
        OverlaySpec spec;
        for (std::size_t i = 0; i < erofs_.size(); ++i) {
            spec.metadata_layers.push_back(erofs_[i].get());
            spec.data_layers.push_back(objects_[i].get());
        }
        spec.staging_root = staging_root();
        return spec;
    }

    fs::path staging_root() const { return dir_.path() / "staging"; }

    void expect_nothing_staged() const {
        if (fs::exists(staging_root())) {
            EXPECT_TRUE(fs::is_empty(staging_root())) << "a staging directory stayed behind";
        }
        EXPECT_TRUE(mounts_below({staging_root()}).empty());
    }

    void expect_rootfs(const fs::path& root) const {
        EXPECT_EQ(read_file(root / "shared.txt"), "top\n");
        EXPECT_EQ(read_file(root / "lib" / "bottom.so"), "ELF-ish\n");
        EXPECT_EQ(read_file(root / "etc" / "hostname"), "top-host\n");
        auto options = super_options(root);
        auto expected = GetParam().expected_option;
        if (auto at = expected.find("{dir}"); at != std::string::npos) {
            expected.replace(at, 5, dir_.path().string());
        }
        EXPECT_NE(options.find(expected), std::string::npos) << options;
    }

    TempDir dir_;
    KernelFeatures kernel_;
    std::vector<UniqueFd> erofs_;
    std::vector<UniqueFd> objects_;
};

TEST_P(ForcedFallback, ReadOnlyRootfs) {
    auto rootfs = mount_overlay(spec(), kernel_);
    expect_nothing_staged();
    AttachedMount root(rootfs.get(), dir_.path() / "root");
    expect_rootfs(root.path());

    struct stat st {};
    ASSERT_EQ(::fstat(erofs_[0].get(), &st), 0);
    EXPECT_EQ(major(st.st_dev) == 7, !kernel_.erofs_file_backed) << "loop device use";
}

TEST_P(ForcedFallback, ReadWriteRootfs) {
    fs::create_directories(dir_.path() / "upper");
    fs::create_directories(dir_.path() / "work");
    auto upper = open_or_throw(dir_.path() / "upper", O_PATH | O_DIRECTORY);
    auto work = open_or_throw(dir_.path() / "work", O_PATH | O_DIRECTORY);
    auto rw = spec();
    rw.upper_dir = upper.get();
    rw.work_dir = work.get();
    rw.readonly = false;
    auto rootfs = mount_overlay(rw, kernel_);
    expect_nothing_staged();
    AttachedMount root(rootfs.get(), dir_.path() / "root");
    expect_rootfs(root.path());
    vmd::testing::write_file(root.path() / "etc" / "hostname", "changed\n");
    EXPECT_EQ(read_file(dir_.path() / "upper" / "etc" / "hostname"), "changed\n");
}

TEST_P(ForcedFallback, RefusalUnwindsEverything) {
    vmd::testing::write_file(dir_.path() / "not-a-dir", "x");
    auto file = open_or_throw(dir_.path() / "not-a-dir", O_RDONLY);
    auto bad = spec();
    bad.data_layers.push_back(file.get());
    EXPECT_THROW(mount_overlay(bad, kernel_), Error);
    expect_nothing_staged();
}

INSTANTIATE_TEST_SUITE_P(Kernels, ForcedFallback, ::testing::ValuesIn(fallbacks()),
                         [](const auto& param_info) { return param_info.param.name; });

TEST(LegacyLowerdir, JoinsAndEscapes) {
    std::vector<std::string> metadata = {"/proc/self/fd/5", "/odd:name"};
    std::vector<std::string> data = {"/data\\dir", "/proc/self/fd/9"};
    EXPECT_EQ(legacy_lowerdir(metadata, data),
              "/proc/self/fd/5:/odd\\:name::/data\\\\dir::/proc/self/fd/9");
    EXPECT_EQ(legacy_lowerdir(metadata, {}), "/proc/self/fd/5:/odd\\:name");
}

TEST(ReopenIfOpath, OnlyOpathFdsAreReopened) {
    TempDir dir;
    auto path_fd = open_or_throw(dir.path(), O_PATH | O_DIRECTORY);
    auto real_fd = open_or_throw(dir.path(), O_RDONLY | O_DIRECTORY);
    auto reopened = reopen_if_opath(path_fd.get());
    ASSERT_TRUE(reopened);
    EXPECT_EQ(::fcntl(reopened.get(), F_GETFL) & O_PATH, 0);
    struct stat a {
    }, b{};
    ASSERT_EQ(::fstat(reopened.get(), &a), 0);
    ASSERT_EQ(::fstat(path_fd.get(), &b), 0);
    EXPECT_EQ(a.st_ino, b.st_ino);
    EXPECT_FALSE(reopen_if_opath(real_fd.get()));
}

TEST(StagedLayers, AttachesPrivatelyAndUnwinds) {
    TempDir dir;
    tracked_roots().push_back(dir.path());
    auto layer = build_standard_layer(dir.path() / "layer");
    auto blob = open_or_throw(layer.image(), O_RDONLY);
    auto kernel = probe_kernel_features(dir.path());
    auto mnt = mount_erofs(blob.get(), ErofsSourceKind::File, false, kernel);
    fs::path staged_dir;
    {
        std::vector<int> fds = {mnt.get()};
        StagedLayers staged(fds, dir.path() / "staging");
        staged_dir = staged.dir();
        EXPECT_EQ(read_file(staged_dir / "0" / "plain.txt"), "plain inline content\n");
        std::ifstream mountinfo("/proc/self/mountinfo");
        std::string line;
        bool private_bind = false;
        while (std::getline(mountinfo, line)) {
            if (line.find(" " + staged_dir.string() + " ") != std::string::npos) {
                private_bind = line.find("shared:") == std::string::npos;
            }
        }
        EXPECT_TRUE(private_bind) << "the staging directory is not a private mount";
        ASSERT_EQ(staged.fds().size(), 1U);
    }
    EXPECT_FALSE(fs::exists(staged_dir));
    EXPECT_TRUE(mounts_below({dir.path() / "staging"}).empty());
}

}  // namespace
}  // namespace vmd::mount::test

namespace vmd::mount::test {
namespace {

// What a daemon on a kernel without detached layers does at start: a child enters a namespace of
// its own, mounts there (as StagedLayers would), and is killed before unmounting.
TEST(PrivateMountNamespace, MountsMadeInsideStayInsideAndGoWithTheProcess) {
    TempDir dir;
    const auto target = dir.path() / "staged";
    fs::create_directories(target);
    std::array<int, 2> ready{};
    std::array<int, 2> hold{};
    ASSERT_EQ(::pipe2(ready.data(), O_CLOEXEC), 0);
    ASSERT_EQ(::pipe2(hold.data(), O_CLOEXEC), 0);
    UniqueFd ready_read(ready[0]), ready_write(ready[1]), hold_read(hold[0]), hold_write(hold[1]);
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        // Only system calls from here: the child of a threaded parent.
        const bool mounted = enter_private_mount_namespace() == 0 &&
                             ::mount("tmpfs", target.c_str(), "tmpfs", 0, nullptr) == 0;
        char c = mounted ? '1' : '0';
        [[maybe_unused]] auto n = ::write(ready_write.get(), &c, 1);
        n = ::read(hold_read.get(), &c, 1);  // until the parent has looked and killed it
        ::_exit(0);
    }
    char c = 0;
    ASSERT_EQ(::read(ready_read.get(), &c, 1), 1);
    EXPECT_EQ(c, '1') << "the child could not enter a namespace of its own and mount there";
    const auto ns = [](const std::string& pid) {
        return fs::read_symlink("/proc/" + pid + "/ns/mnt").string();
    };
    EXPECT_NE(ns(std::to_string(child)), ns("self"));
    EXPECT_TRUE(mounts_below({target}).empty()) << "the child's mount reached this namespace";
    ::kill(child, SIGKILL);
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    EXPECT_TRUE(mounts_below({target}).empty());
}

}  // namespace
}  // namespace vmd::mount::test
