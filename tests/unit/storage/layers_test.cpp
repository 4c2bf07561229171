// Layer chains (layers.json ∪ volatile-layers.json) and the layer files opened beneath the root.
#include <fcntl.h>
#include <sys/stat.h>

#include "store_tree.hpp"

namespace vmd::storage::test {
namespace {

const std::string kImage = make_id("e1");
const std::string kL1 = make_id("11");
const std::string kL2 = make_id("22");
const std::string kL3 = make_id("33");
const std::string kL4 = make_id("44");

std::string layer(const std::string& id, const std::string& parent = "",
                  std::string_view extra = "") {
    std::string out = R"({"id":")" + id + "\"";
    if (!parent.empty()) {
        out += R"(,"parent":")" + parent + "\"";
    }
    out += R"(,"diff-digest":"sha256:00","compressed-diff-digest":"sha256:11","diff-size":5)";
    if (!extra.empty()) {
        out += "," + std::string(extra);
    }
    return out + "}";
}

ImageRecord image_with_top(const std::string& top) {
    ImageRecord image;
    image.id = kImage;
    image.top_layer = top;
    return image;
}

std::vector<std::string> ids(const std::vector<LayerRecord>& chain) {
    std::vector<std::string> out;
    for (const auto& entry : chain) {
        out.push_back(entry.id);
    }
    return out;
}

TEST(LayerChain, BottomFirstWithParents) {
    StoreTree tree;
    tree.layers("[" + layer(kL3, kL2) + "," + layer(kL1) + "," + layer(kL2, kL1) + "," +
                layer(kL4, kL3) + "]");
    auto chain = tree.open().layer_chain(image_with_top(kL3));
    ASSERT_EQ(chain.size(), 3u);
    EXPECT_EQ(chain[0].id, kL1);
    EXPECT_EQ(chain[0].parent, "");
    EXPECT_EQ(chain[1].id, kL2);
    EXPECT_EQ(chain[1].parent, kL1);
    EXPECT_EQ(chain[2].id, kL3);
    EXPECT_EQ(chain[2].parent, kL2);
}

TEST(LayerChain, ImageWithoutLayersHasEmptyChain) {
    StoreTree tree;
    EXPECT_TRUE(tree.open().layer_chain(image_with_top("")).empty());
}

TEST(LayerChain, UnionOfLayersAndVolatileLayers) {
    StoreTree tree;
    tree.layers("[" + layer(kL1) + "]");
    tree.volatile_layers("[" + layer(kL2, kL1) + "," + layer(kL3, kL2) + "]");
    EXPECT_THAT(ids(tree.open().layer_chain(image_with_top(kL3))),
                ::testing::ElementsAre(kL1, kL2, kL3));

    StoreTree only_volatile;
    only_volatile.volatile_layers("[" + layer(kL1) + "]");
    EXPECT_THAT(ids(only_volatile.open().layer_chain(image_with_top(kL1))),
                ::testing::ElementsAre(kL1));
}

TEST(LayerChain, LayerInBothFilesIsCorrupt) {
    StoreTree tree;
    tree.layers("[" + layer(kL1) + "]");
    tree.volatile_layers("[" + layer(kL1) + "]");
    expect_error([&] { tree.open().layer_chain(image_with_top(kL1)); }, Errc::StorageCorrupt,
                 "layer " + kL1, "layers.json", "volatile-layers.json");
}

TEST(LayerChain, IncompleteLayerInTheChainIsCorrupt) {
    StoreTree tree;
    tree.layers("[" + layer(kL1, "", R"("flags":{"incomplete":true})") + "," + layer(kL2, kL1) +
                "," + layer(kL3, "", R"("flags":{"incomplete":true,"other":1})") + "]");
    expect_error([&] { tree.open().layer_chain(image_with_top(kL2)); }, Errc::StorageCorrupt,
                 "layer " + kL1, "incomplete");
    // An incomplete layer outside the chain does not matter; incomplete:false is complete.
    tree.layers("[" + layer(kL1, "", R"("flags":{"incomplete":false})") + "," + layer(kL2, kL1) +
                "," + layer(kL3, "", R"("flags":{"incomplete":true})") + "]");
    EXPECT_EQ(tree.open().layer_chain(image_with_top(kL2)).size(), 2u);
}

TEST(LayerChain, LoopIsCorrupt) {
    StoreTree tree;
    tree.layers("[" + layer(kL1, kL3) + "," + layer(kL2, kL1) + "," + layer(kL3, kL2) + "]");
    expect_error([&] { tree.open().layer_chain(image_with_top(kL3)); }, Errc::StorageCorrupt,
                 "loop at layer " + kL3);
    tree.layers("[" + layer(kL1, kL1) + "]");
    expect_error([&] { tree.open().layer_chain(image_with_top(kL1)); }, Errc::StorageCorrupt,
                 "loop at layer " + kL1);
}

TEST(LayerChain, MoreThanMaxLayersIsCorrupt) {
    StoreTree tree;
    tree.layers("[" + layer(kL1) + "," + layer(kL2, kL1) + "," + layer(kL3, kL2) + "," +
                layer(kL4, kL3) + "]");
    Limits limits;
    limits.max_layers = 3;
    EXPECT_EQ(tree.open(limits).layer_chain(image_with_top(kL3)).size(), 3u);
    expect_error([&] { tree.open(limits).layer_chain(image_with_top(kL4)); }, Errc::StorageCorrupt,
                 "expected at most 3 layers, found more");
}

TEST(LayerChain, MissingLayerIsCorrupt) {
    StoreTree tree;
    tree.layers("[" + layer(kL2, kL1) + "]");
    expect_error([&] { tree.open().layer_chain(image_with_top(kL2)); }, Errc::StorageCorrupt,
                 "layer " + kL1 + " of image " + kImage, "found none");
    StoreTree empty;
    expect_error([&] { empty.open().layer_chain(image_with_top(kL1)); }, Errc::StorageCorrupt,
                 "found none");
}

TEST(LayerChain, MalformedLayersAreCorrupt) {
    struct Case {
        std::string json;
        std::string needle;
    };
    for (const auto& [json, needle] : std::vector<Case>{
             {"[" + layer(kL1, "../../x") + "]", "layers.json[0].parent: expected 64 lowercase"},
             {R"([{"id":"x"}])", "layers.json[0].id: expected 64 lowercase hex digits"},
             {"[" + layer(kL1, "", R"("flags":{"incomplete":"yes"})") + "]",
              "layers.json[0].flags.incomplete: expected a boolean, found a string"},
             {"[" + layer(kL1, "", R"("flags":[])") + "]",
              "layers.json[0].flags: expected an object"},
             {"[" + layer(kL1) + ",", "layers.json: expected valid JSON"},
             {"{}", "layers.json: expected an array"},
         }) {
        SCOPED_TRACE(json);
        StoreTree tree;
        tree.layers(json);
        expect_error([&] { tree.open().layer_chain(image_with_top(kL1)); }, Errc::StorageCorrupt,
                     needle);
        StoreTree as_volatile;
        as_volatile.volatile_layers(json);
        expect_error([&] { as_volatile.open().layer_chain(image_with_top(kL1)); },
                     Errc::StorageCorrupt, needle);
    }
}

TEST(LayerChain, OversizedLayersJsonIsRejected) {
    StoreTree tree;
    auto json = "[" + layer(kL1) + "]";
    tree.volatile_layers(json);
    Limits limits;
    limits.max_json_bytes = 10;
    expect_error(
        [&] { tree.open(limits).layer_chain(image_with_top(kL1)); }, Errc::StorageCorrupt,
        fmt::format("volatile-layers.json: expected at most 10 bytes, found {}", json.size()));
}

TEST(LayerChain, TopLayerThatIsNoIdNeverBecomesAPath) {
    StoreTree tree;
    expect_error([&] { tree.open().layer_chain(image_with_top("../../etc")); },
                 Errc::StorageCorrupt, "expected 64 lowercase hex digits");
}

class LayerFiles : public ::testing::Test {
  protected:
    std::filesystem::path layer_dir() const { return tree.root() / "overlay" / kL1; }
    std::filesystem::path blob() const { return layer_dir() / "composefs-data/composefs.blob"; }

    StoreTree tree;
};

TEST_F(LayerFiles, BlobIsOpenedReadOnlyBlockingAndCloseOnExec) {
    tree.write(blob().lexically_relative(tree.root()), "erofs-bytes");
    auto fd = tree.open().open_layer_blob(kL1);
    ASSERT_TRUE(fd);
    char buffer[32] = {};
    EXPECT_EQ(::read(fd.get(), buffer, sizeof(buffer)), 11);
    EXPECT_STREQ(buffer, "erofs-bytes");
    int status = ::fcntl(fd.get(), F_GETFL);
    EXPECT_EQ(status & O_ACCMODE, O_RDONLY);
    EXPECT_EQ(status & O_NONBLOCK, 0);
    EXPECT_NE(::fcntl(fd.get(), F_GETFD) & FD_CLOEXEC, 0);
}

TEST_F(LayerFiles, BlobThatIsNotARegularFileIsRefused) {
    auto store = tree.open();
    expect_error([&] { store.open_layer_blob(kL1); }, Errc::StorageCorrupt,
                 "overlay/" + kL1 +
                     "/composefs-data/composefs.blob: expected a regular file, "
                     "found nothing");

    tree.write("target.blob", "x");
    std::filesystem::create_directories(blob().parent_path());
    std::filesystem::create_symlink(tree.root() / "target.blob", blob());
    expect_error([&] { store.open_layer_blob(kL1); }, Errc::StorageCorrupt,
                 "composefs.blob: expected a regular file, found a symlink");

    std::filesystem::remove(blob());
    ASSERT_EQ(::mkfifo(blob().c_str(), 0600), 0);
    expect_error([&] { store.open_layer_blob(kL1); }, Errc::StorageCorrupt,
                 "composefs.blob: expected a regular file, found a FIFO");

    std::filesystem::remove(blob());
    std::filesystem::create_directory(blob());
    expect_error([&] { store.open_layer_blob(kL1); }, Errc::StorageCorrupt,
                 "composefs.blob: expected a regular file, found a directory");
}

TEST_F(LayerFiles, BlobOverMaxBlobBytesIsRefusedAtOpen) {
    tree.write(blob().lexically_relative(tree.root()), "erofs-bytes");
    Limits limits;
    limits.max_blob_bytes = 11;
    EXPECT_TRUE(tree.open(limits).open_layer_blob(kL1));
    limits.max_blob_bytes = 10;
    expect_error([&] { tree.open(limits).open_layer_blob(kL1); }, Errc::StorageCorrupt,
                 "overlay/" + kL1 +
                     "/composefs-data/composefs.blob: expected at most 10 bytes "
                     "(max_blob_bytes), found 11");
}

TEST_F(LayerFiles, SymlinkedDirectoryOnTheWayToTheBlobIsRefused) {
    tree.write("real/composefs.blob", "x");
    std::filesystem::create_directories(layer_dir());
    std::filesystem::create_directory_symlink(tree.root() / "real", layer_dir() / "composefs-data");
    expect_error([&] { tree.open().open_layer_blob(kL1); }, Errc::StorageCorrupt,
                 "found a symlink in its path");
}

TEST_F(LayerFiles, LayerIdWithDotDotNeverReachesTheFilesystem) {
    // A blob that "../" would reach, beside the store root: the ID check refuses first.
    tree.write("outside/composefs-data/composefs.blob", "x");
    std::filesystem::create_directories(tree.root() / "store/overlay");
    auto store = Store::open(tree.root() / "store", {});
    const std::string short_id = kL1.substr(0, 63);
    for (std::string_view bad : {"../../outside", "..", "", "/etc", short_id.c_str()}) {
        expect_error([&] { store.open_layer_blob(bad); }, Errc::StorageCorrupt,
                     "layer ID: expected 64 lowercase hex digits");
        expect_error([&] { store.open_layer_dir(bad, "diff"); }, Errc::StorageCorrupt,
                     "layer ID: expected 64 lowercase hex digits");
    }
    ImageRecord image;
    image.id = "../../outside";
    expect_error([&] { store.read_manifest(image); }, Errc::StorageCorrupt,
                 "image ID: expected 64 lowercase hex digits");
}

TEST_F(LayerFiles, DiffAndWorkAreOpenedAsPathDirectories) {
    std::filesystem::create_directories(layer_dir() / "diff");
    std::filesystem::create_directories(layer_dir() / "work");
    auto store = tree.open();
    for (std::string_view subdir : {"diff", "work"}) {
        auto fd = store.open_layer_dir(kL1, subdir);
        ASSERT_TRUE(fd);
        struct stat st {};
        ASSERT_EQ(::fstat(fd.get(), &st), 0);
        EXPECT_TRUE(S_ISDIR(st.st_mode));
        EXPECT_NE(::fcntl(fd.get(), F_GETFL) & O_PATH, 0);
    }
    expect_error([&] { store.open_layer_dir(kL1, "../diff"); }, Errc::Internal,
                 "expected \"diff\" or \"work\"");
}

TEST_F(LayerFiles, DiffThatIsNotADirectoryIsRefused) {
    std::filesystem::create_directories(tree.root() / "real-diff");
    std::filesystem::create_directories(layer_dir());
    std::filesystem::create_directory_symlink(tree.root() / "real-diff", layer_dir() / "diff");
    auto store = tree.open();
    expect_error([&] { store.open_layer_dir(kL1, "diff"); }, Errc::StorageCorrupt,
                 "overlay/" + kL1 + "/diff: expected a directory, found a symlink");
    vmd::testing::write_file(layer_dir() / "work", "x");
    expect_error([&] { store.open_layer_dir(kL1, "work"); }, Errc::StorageCorrupt,
                 "/work: expected a directory, found a regular file");
    expect_error([&] { store.open_layer_dir(kL2, "diff"); }, Errc::StorageCorrupt,
                 "expected a directory, found nothing");
}

TEST(OpenBeneath, PathsLeavingTheRootAreRefused) {
    StoreTree tree;
    tree.write("store/a", "x");
    tree.write("secret", "x");
    auto store = Store::open(tree.root() / "store", {});
    EXPECT_TRUE(open_beneath(store.root_fd(), "a", O_RDONLY));
    expect_error([&] { open_beneath(store.root_fd(), "../secret", O_RDONLY); },
                 Errc::StorageCorrupt, "../secret: expected a path beneath the store root");
    expect_error(
        [&] { open_beneath(store.root_fd(), (tree.root() / "secret").string(), O_RDONLY); },
        Errc::StorageCorrupt, "expected a path beneath the store root");
    expect_error([&] { open_beneath(store.root_fd(), "missing", O_RDONLY, Errc::ImageNotFound); },
                 Errc::ImageNotFound, "missing: expected a regular file, found nothing");
}

TEST(OpenBeneath, SymlinkToProcIsRefused) {
    StoreTree tree;
    std::filesystem::create_directory_symlink("/proc/self/root", tree.root() / "escape");
    auto store = tree.open();
    expect_error([&] { open_beneath(store.root_fd(), "escape/etc/passwd", O_RDONLY); },
                 Errc::StorageCorrupt, "found a symlink in its path");
}

}  // namespace
}  // namespace vmd::storage::test
