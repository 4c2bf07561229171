#include <fcntl.h>
#include <gtest/gtest.h>

#include "common/error.hpp"
#include "mount/composefs.hpp"
#include "mount_test_support.hpp"

namespace vmd::mount::test {
namespace {

using vmd::testing::TempDir;

std::string header(std::uint32_t magic, std::uint32_t flags) {
    std::string bytes(64, '\0');
    for (int i = 0; i < 4; ++i) {
        bytes[static_cast<std::size_t>(i)] = static_cast<char>(magic >> (8 * i));
        bytes[static_cast<std::size_t>(4 + i)] = static_cast<char>(i == 0 ? 1 : 0);  // version 1
        bytes[static_cast<std::size_t>(8 + i)] = static_cast<char>(flags >> (8 * i));
    }
    return bytes;
}

bool has_acl_of(const std::string& bytes) {
    TempDir dir;
    vmd::testing::write_file(dir.path() / "blob", bytes);
    auto fd = open_or_throw(dir.path() / "blob", O_RDONLY);
    return composefs_blob_has_acl(fd.get());
}

TEST(ComposefsBlobHasAcl, HeaderFlagsDecide) {
    EXPECT_TRUE(has_acl_of(header(0xd078629a, 1)));
    EXPECT_FALSE(has_acl_of(header(0xd078629a, 0)));
    EXPECT_FALSE(has_acl_of(header(0xd078629a, 2)));  // only bit 0 means ACLs
    EXPECT_TRUE(has_acl_of(header(0xd078629a, 3)));
}

TEST(ComposefsBlobHasAcl, NoHeaderMeansMountAsIs) {
    EXPECT_TRUE(has_acl_of(header(0x9a6278d0, 0)));  // the magic byte-swapped is no magic
    EXPECT_TRUE(has_acl_of(""));
    EXPECT_TRUE(has_acl_of(header(0xd078629a, 0).substr(0, 11)));  // too short for the flags

    TempDir dir;
    auto image = build_standard_layer(dir.path() / "layer").image();
    auto fd = open_or_throw(image, O_RDONLY);
    EXPECT_TRUE(composefs_blob_has_acl(fd.get())) << "mkfs.erofs images have no composefs header";
}

TEST(ComposefsBlobHasAcl, UnreadableBlobIsStorageCorrupt) {
    TempDir dir;
    auto path_only = open_or_throw(dir.path(), O_PATH);
    try {
        composefs_blob_has_acl(path_only.get());
        FAIL() << "an unreadable fd gave an answer";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), Errc::StorageCorrupt);
    }
}

}  // namespace
}  // namespace vmd::mount::test
