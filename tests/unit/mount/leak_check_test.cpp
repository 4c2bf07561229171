// Runs around every test process of this binary: at the end, no fd may be left open beyond those
// open at the start, and no mount or loop device may remain below the paths the tests used.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "mount_test_support.hpp"

namespace vmd::mount::test {
namespace {

// Loop devices whose backing file lies below one of `roots`.
std::vector<std::string> loops_below(const std::vector<fs::path>& roots) {
    std::vector<std::string> found;
    for (const auto& entry : fs::directory_iterator("/sys/block")) {
        std::ifstream in(entry.path() / "loop" / "backing_file");
        std::string backing;
        if (!std::getline(in, backing)) {
            continue;
        }
        for (const auto& root : roots) {
            if (backing.starts_with(root.string() + "/")) {
                found.push_back(entry.path().filename().string() + " -> " + backing);
            }
        }
    }
    return found;
}

class LeakCheck : public ::testing::Environment {
  public:
    void SetUp() override { fds_at_start_ = count_open_fds(); }
    void TearDown() override {
        EXPECT_EQ(count_open_fds(), fds_at_start_) << "fds leaked by the mount tests";
        EXPECT_THAT(mounts_below(tracked_roots()), ::testing::IsEmpty());
        EXPECT_THAT(loops_below(tracked_roots()), ::testing::IsEmpty());
    }

  private:
    std::size_t fds_at_start_ = 0;
};

// gtest owns registered environments.
[[maybe_unused]] ::testing::Environment* const kLeakCheck =
    ::testing::AddGlobalTestEnvironment(new LeakCheck);

TEST(LeakCheck, SeesOpenFdsAndMounts) {
    std::size_t before = count_open_fds();
    {
        UniqueFd fd(::open("/", O_PATH | O_CLOEXEC));
        ASSERT_TRUE(fd);
        EXPECT_EQ(count_open_fds(), before + 1);
    }
    EXPECT_EQ(count_open_fds(), before);
    // The root is always a mount point: the scanner must find it.
    EXPECT_THAT(mounts_below({fs::path("/proc")}), ::testing::Contains("/proc"));
}

}  // namespace
}  // namespace vmd::mount::test
