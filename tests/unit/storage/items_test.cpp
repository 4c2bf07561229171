// Image big-data items: file names, the manifest and the signatures.
#include <cstdint>

#include "storage/io.hpp"
#include "store_tree.hpp"

namespace vmd::storage::test {
namespace {

const std::string kImage = make_id("e1");

TEST(BigDataFileName, PlainKeysAreKeptOthersAreBase64) {
    EXPECT_EQ(big_data_file_name("manifest"), "manifest");
    EXPECT_EQ(big_data_file_name("signatures"), "signatures");
    EXPECT_EQ(big_data_file_name("0.9.a.z"), "0.9.a.z");
    EXPECT_EQ(big_data_file_name("manifest-sha256:abc"), "=bWFuaWZlc3Qtc2hhMjU2OmFiYw==");
    EXPECT_EQ(big_data_file_name("signature-1"), "=c2lnbmF0dXJlLTE=");
    EXPECT_EQ(big_data_file_name("Manifest"), "=TWFuaWZlc3Q=");
    EXPECT_EQ(big_data_file_name("../x"), "=Li4veA==");
}

TEST(Base64, Rfc4648Vectors) {
    using detail::base64_encode;
    EXPECT_EQ(base64_encode(""), "");
    EXPECT_EQ(base64_encode("f"), "Zg==");
    EXPECT_EQ(base64_encode("fo"), "Zm8=");
    EXPECT_EQ(base64_encode("foo"), "Zm9v");
    EXPECT_EQ(base64_encode("foob"), "Zm9vYg==");
    EXPECT_EQ(base64_encode("fooba"), "Zm9vYmE=");
    EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
    EXPECT_EQ(base64_encode(std::string_view("\xff\xfe\x00", 3)), "//4A");
}

class Items : public ::testing::Test {
  protected:
    void item(std::string_view key, std::string_view content) const {
        tree.write(std::filesystem::path("overlay-images") / kImage / big_data_file_name(key),
                   content);
    }
    std::filesystem::path item_path(std::string_view key) const {
        return tree.root() / "overlay-images" / kImage / big_data_file_name(key);
    }
    ImageRecord image(std::vector<std::uint64_t> sizes, bool listed = true) const {
        ImageRecord record;
        record.id = kImage;
        record.big_data_names = {"manifest"};
        if (listed) {
            record.big_data_names.push_back("signatures");
        }
        record.signature_sizes = std::move(sizes);
        return record;
    }

    StoreTree tree;
};

TEST_F(Items, ManifestIsReadWhole) {
    item("manifest", R"({"schemaVersion":2})");
    EXPECT_EQ(tree.open().read_manifest(image({})), R"({"schemaVersion":2})");
}

TEST_F(Items, ManifestOfImageFoundInImagesJson) {
    tree.images(R"([{"id":")" + kImage + R"(","names":["x:1"],"big-data-names":["manifest"]}])");
    item("manifest", "bytes");
    auto store = tree.open();
    EXPECT_EQ(store.read_manifest(store.find_image_by_name("x:1")), "bytes");
}

TEST_F(Items, OversizedManifestIsRejectedNotTruncated) {
    item("manifest", std::string(11, 'm'));
    Limits limits;
    limits.max_manifest_bytes = 10;
    expect_error([&] { tree.open(limits).read_manifest(image({})); }, Errc::StorageCorrupt,
                 "overlay-images/" + kImage + "/manifest: expected at most 10 bytes, found 11");
    limits.max_manifest_bytes = 11;
    EXPECT_EQ(tree.open(limits).read_manifest(image({})).size(), 11u);
}

TEST_F(Items, ManifestThatIsNotARegularFileIsRefused) {
    auto store = tree.open();
    expect_error([&] { store.read_manifest(image({})); }, Errc::StorageCorrupt,
                 "/manifest: expected a regular file, found nothing");
    item("other", "x");
    std::filesystem::create_symlink("other", item_path("manifest"));
    expect_error([&] { store.read_manifest(image({})); }, Errc::StorageCorrupt,
                 "/manifest: expected a regular file, found a symlink");
    std::filesystem::remove(item_path("manifest"));
    ASSERT_EQ(::mkfifo(item_path("manifest").c_str(), 0600), 0);
    expect_error([&] { store.read_manifest(image({})); }, Errc::StorageCorrupt,
                 "/manifest: expected a regular file, found a FIFO");
}

TEST_F(Items, SignaturesAreSplitBySizes) {
    item("signatures", "abcdefg");
    auto signatures = tree.open().read_signatures(image({3, 4}));
    EXPECT_THAT(signatures, ::testing::ElementsAre("abc", "defg"));
    EXPECT_THAT(tree.open().read_signatures(image({7})), ::testing::ElementsAre("abcdefg"));
}

TEST_F(Items, SignaturesWithBinaryBytesStayExact) {
    std::string blob("\0sigstore-json\n{}", 17);
    item("signatures", blob + blob);
    auto signatures = tree.open().read_signatures(image({17, 17}));
    ASSERT_EQ(signatures.size(), 2u);
    EXPECT_EQ(signatures[0], blob);
    EXPECT_EQ(signatures[1], blob);
}

TEST_F(Items, SizesThatDoNotSumToTheFileSizeAreCorrupt) {
    item("signatures", "abcdefg");
    auto store = tree.open();
    expect_error(
        [&] {
            store.read_signatures(image({3, 5}));
        },
        Errc::StorageCorrupt, "expected 8 bytes (the sum of the image's signature-sizes), found 7");
    expect_error(
        [&] {
            store.read_signatures(image({3, 3}));
        },
        Errc::StorageCorrupt, "expected 6 bytes", "found 7");
    expect_error([&] { store.read_signatures(image({})); }, Errc::StorageCorrupt,
                 "expected 0 bytes", "found 7");
    expect_error(
        [&] {
            store.read_signatures(image({UINT64_MAX, 8}));
        },
        Errc::StorageCorrupt, "found 7");
    expect_error(
        [&] {
            store.read_signatures(image({3, 0, 4}));
        },
        Errc::StorageCorrupt, "signature-sizes[1]: expected a positive size, found 0");
}

TEST_F(Items, NoSignaturesIsEmpty) {
    EXPECT_TRUE(tree.open().read_signatures(image({}, false)).empty());
}

TEST_F(Items, ListedButMissingSignaturesAreCorrupt) {
    expect_error([&] { tree.open().read_signatures(image({}, true)); }, Errc::StorageCorrupt,
                 "/signatures: expected a regular file, found nothing");
    expect_error([&] { tree.open().read_signatures(image({5}, false)); }, Errc::StorageCorrupt,
                 "expected 5 bytes", "found 0");
}

TEST_F(Items, SignaturesAreBoundedAndSymlinkFree) {
    item("signatures", std::string(20, 's'));
    Limits limits;
    limits.max_manifest_bytes = 19;
    expect_error([&] { tree.open(limits).read_signatures(image({20})); }, Errc::StorageCorrupt,
                 "/signatures: expected at most 19 bytes, found 20");
    std::filesystem::remove(item_path("signatures"));
    item("elsewhere", "x");
    std::filesystem::create_symlink("elsewhere", item_path("signatures"));
    expect_error([&] { tree.open().read_signatures(image({1})); }, Errc::StorageCorrupt,
                 "/signatures: expected a regular file, found a symlink");
}

}  // namespace
}  // namespace vmd::storage::test
