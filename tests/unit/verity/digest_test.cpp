#include "verity/digest.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>

#include <random>

#include "common/error.hpp"
#include "common/unique_fd.hpp"
#include "fixtures/test_env.hpp"

namespace vmd::verity {
namespace {

using vmd::testing::run;
using vmd::testing::TempDir;

std::string random_bytes(std::size_t size, unsigned seed) {
    std::mt19937 gen(seed);
    std::string out(size, '\0');
    for (auto& c : out) {
        c = static_cast<char>(gen());
    }
    return out;
}

std::string reference_digest(const std::filesystem::path& path) {
    auto result = run({"fsverity", "digest", "--compact", path.string()});
    if (result.exit_code != 0) {
        return {};
    }
    auto line = result.out.substr(0, result.out.find_first_of(" \n"));
    return "sha256:" + line;
}

class DigestMatchesFsverityTool : public ::testing::TestWithParam<std::size_t> {};

TEST_P(DigestMatchesFsverityTool, OnFdAndBytes) {
    ASSERT_TRUE(vmd::testing::have_program("fsverity"))
        << vmd::testing::missing_program("fsverity", "fsverity");
    TempDir dir;
    auto path = dir.path() / "data";
    auto content = random_bytes(GetParam(), static_cast<unsigned>(GetParam()));
    vmd::testing::write_file(path, content);

    auto expected = reference_digest(path);
    ASSERT_FALSE(expected.empty());
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    ASSERT_TRUE(fd);
    EXPECT_EQ(to_string(digest_fd(fd.get())), expected);
    EXPECT_EQ(to_string(digest_bytes(std::as_bytes(std::span(content)))), expected);

    // Feeding in odd-sized pieces gives the same digest as one piece.
    FsVerityHasher hasher;
    for (std::size_t pos = 0; pos < content.size(); pos += 1000) {
        auto piece = std::string_view(content).substr(pos, 1000);
        hasher.update(std::as_bytes(std::span(piece)));
    }
    EXPECT_EQ(to_string(hasher.finish()), expected);
}

// 0, 1, one block less/equal/more, 1 MiB + 1, and 129 * 128 blocks + 1 for a three-level tree.
INSTANTIATE_TEST_SUITE_P(Sizes, DigestMatchesFsverityTool,
                         ::testing::Values(0, 1, 4095, 4096, 4097, (1u << 20) + 1,
                                           129u * 128u * 4096u + 1u));

TEST(Digest, DiffersWhenOneByteChanges) {
    std::string a(10000, 'x');
    std::string b = a;
    b[5000] = 'y';
    EXPECT_NE(digest_bytes(std::as_bytes(std::span(a))), digest_bytes(std::as_bytes(std::span(b))));
}

TEST(Digest, FdLongerThanTheBoundIsRefusedNotDigestedInPart) {
    TempDir dir;
    auto path = dir.path() / "data";
    const std::string content = random_bytes(3 * 4096 + 5, 7);
    vmd::testing::write_file(path, content);
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    ASSERT_TRUE(fd);
    EXPECT_EQ(digest_fd(fd.get(), content.size()), digest_bytes(std::as_bytes(std::span(content))));
    try {
        digest_fd(fd.get(), 4096);
        ADD_FAILURE() << "a file of " << content.size() << " bytes passed a bound of 4096";
    } catch (const Error& error) {
        EXPECT_EQ(error.code(), Errc::StorageCorrupt);
        EXPECT_EQ(error.message(),
                  "fs-verity digest: expected a file of at most 4096 bytes, found at least 4097");
    }
}

TEST(Digest, StringFormIsPrefixedLowercaseHex) {
    auto text = to_string(digest_bytes({}));
    EXPECT_EQ(text.substr(0, 7), "sha256:");
    EXPECT_EQ(text.size(), 7u + 64u);
    EXPECT_EQ(text.find_first_not_of("0123456789abcdef", 7), std::string::npos);
}

}  // namespace
}  // namespace vmd::verity
