// The composefs blobs and layer tars the builder makes: small EROFS images with overlay
// redirect/metacopy xattrs over sparse files, checked with erofs-utils (no mount here: mounting
// belongs to the mount module's tests).
#include <gtest/gtest.h>

#include <filesystem>
#include <stdexcept>

#include "fixtures/composefs_builder.hpp"
#include "fixtures/oci_layout.hpp"
#include "fixtures/test_env.hpp"
#include "fixtures_helpers.hpp"

namespace vmd::testing {
namespace {

namespace fs = std::filesystem;

class ComposefsBuilderTest : public ::testing::Test {
  protected:
    ComposefsLayer build(const std::vector<Entry>& entries) {
        return build_composefs(entries, objects(), blob(), dir_.path());
    }
    fs::path objects() const { return dir_.path() / "objects"; }
    fs::path blob() const { return dir_.path() / "composefs.blob"; }

    TempDir dir_;
};

TEST_F(ComposefsBuilderTest, BlobStaysSmallAndHoldsTheTree) {
    ASSERT_TRUE(have_program("fsck.erofs")) << missing_program("fsck.erofs", "erofs-utils");
    std::string big(1 << 20, 'x');
    auto layer =
        build({Entry::file("/data/big", big, 0600), Entry::file("/data/same", big),
               Entry::file("/bin/tool", "#!/bin/sh\n", 0750), Entry::file("/etc/empty", ""),
               Entry::symlink("/etc/link", "../data/big"), Entry::directory("/var/tmp", 01777)});
    // Holes in chunked files take no space: the blob is metadata only.
    EXPECT_LT(fs::file_size(blob()), 64u * 1024);
    // Identical content is stored once.
    EXPECT_EQ(layer.objects.size(), 3u);
    EXPECT_EQ(layer.objects[0].object, layer.objects[1].object);
    std::size_t stored = 0;
    for (const auto& entry : fs::recursive_directory_iterator(objects())) {
        stored += entry.is_regular_file() ? 1 : 0;
    }
    EXPECT_EQ(stored, 2u);

    auto extracted = dir_.path() / "extracted";
    auto fsck = run({"fsck.erofs", "--extract=" + extracted.string(), blob().string()});
    ASSERT_EQ(fsck.exit_code, 0) << fsck.err;
    EXPECT_EQ(fs::file_size(extracted / "data" / "big"), big.size());
    EXPECT_EQ(fs::file_size(extracted / "etc" / "empty"), 0u);
    EXPECT_EQ(fs::read_symlink(extracted / "etc" / "link"), "../data/big");
    auto perms = [&](const char* path) {
        return fs::status(extracted / path).permissions() & fs::perms::mask;
    };
    EXPECT_EQ(perms("data/big"), fs::perms(0600));
    EXPECT_EQ(perms("bin/tool"), fs::perms(0750));
    EXPECT_EQ(perms("var/tmp"), fs::perms(01777));
    EXPECT_EQ(perms("var"), fs::perms(0755));
    // The extracted files are holes: the blob does not carry the content.
    EXPECT_EQ(read_file(extracted / "data" / "big"), std::string(big.size(), '\0'));
}

TEST_F(ComposefsBuilderTest, BlobCarriesRedirectAndMetacopyXattrs) {
    auto layer = build({Entry::file("/a", "first"), Entry::file("/dir/b", "second")});
    ASSERT_EQ(layer.objects.size(), 2u);
    auto bytes = read_file(blob());
    for (const auto& object : layer.objects) {
        EXPECT_NE(bytes.find("/" + object.object), std::string::npos) << object.path;
        auto raw = checks::hex_decode(object.digest.substr(7));
        std::string metacopy = std::string("\x00\x24\x00\x01", 4) + raw;
        EXPECT_NE(bytes.find(metacopy), std::string::npos) << object.path;
        EXPECT_EQ(read_file(objects() / object.object), object.path == "/a" ? "first" : "second");
    }
    ASSERT_TRUE(have_program("fsverity")) << missing_program("fsverity", "fsverity");
    EXPECT_EQ(layer.blob_digest, checks::fsverity_tool_digest(blob()));
    ASSERT_TRUE(have_program("dump.erofs")) << missing_program("dump.erofs", "erofs-utils");
    auto dump = run({"dump.erofs", "--path=/dir/b", blob().string()});
    ASSERT_EQ(dump.exit_code, 0) << dump.err;
    EXPECT_NE(dump.out.find("Size: 6"), std::string::npos) << dump.out;
    EXPECT_EQ(dump.out.find("Xattr size: 0"), std::string::npos) << dump.out;
}

TEST_F(ComposefsBuilderTest, BadEntriesAreRefused) {
    EXPECT_THROW(build({Entry::file("relative", "x")}), std::invalid_argument);
    EXPECT_THROW(build({Entry::file("/a/../b", "x")}), std::invalid_argument);
    EXPECT_THROW(build({Entry::file("/a", "x"), Entry::file("/a", "y")}), std::invalid_argument);
    EXPECT_THROW(build({Entry::file("/a", "x"), Entry::file("/a/b", "y")}), std::invalid_argument);
    EXPECT_THROW(build({Entry::directory("/")}), std::invalid_argument);
}

TEST(OciLayout, UstarArchiveReadsBackWithTar) {
    TempDir dir;
    std::string content(1000, 'q');
    std::vector<TarEntry> entries{{"ab", true, {}, 0755}, {"ab/cdef", false, content, 0644}};
    auto archive = ustar_archive(entries);
    EXPECT_EQ(archive.size() % 512, 0u);
    write_file(dir.path() / "layer.tar", archive);
    auto list = run({"tar", "-tvf", (dir.path() / "layer.tar").string()});
    ASSERT_EQ(list.exit_code, 0) << list.err;
    EXPECT_NE(list.out.find("ab/cdef"), std::string::npos) << list.out;
    auto extract =
        run({"tar", "-xf", (dir.path() / "layer.tar").string(), "-C", dir.path().string()});
    ASSERT_EQ(extract.exit_code, 0) << extract.err;
    EXPECT_EQ(read_file(dir.path() / "ab" / "cdef"), content);
    EXPECT_THROW(ustar_archive(std::vector<TarEntry>{{std::string(101, 'n'), false, {}, 0644}}),
                 std::invalid_argument);
}

TEST(OciLayout, ManifestListsAnnotatedLayersBottomFirst) {
    auto config = image_config(std::vector<std::string>{"sha256:" + std::string(64, '1')});
    std::vector<LayerDescriptor> layers{{"sha256:" + std::string(64, '1'), 10, "sha256:aa"},
                                        {"sha256:" + std::string(64, '2'), 20, std::nullopt}};
    checks::JsonFile manifest(image_manifest(config, layers));
    simdjson::dom::array list = manifest.root["layers"].get_array();
    ASSERT_EQ(list.size(), 2u);
    EXPECT_EQ(checks::str(list.at(0), "digest"), layers[0].digest);
    EXPECT_EQ(uint64_t(list.at(1)["size"]), 20u);
    EXPECT_EQ(checks::str(list.at(0)["annotations"], "io.containers.composefs.digest"),
              "sha256:aa");
    EXPECT_TRUE(list.at(1)["annotations"].error() == simdjson::NO_SUCH_FIELD);
    EXPECT_EQ(uint64_t(manifest.root["config"]["size"]), config.size());
}

}  // namespace
}  // namespace vmd::testing
