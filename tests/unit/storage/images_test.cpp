// Image look-ups in images.json: by ID, prefix and name; strict types; bounded, symlink-free reads.
#include <fcntl.h>
#include <sys/stat.h>

#include "store_tree.hpp"

namespace vmd::storage::test {
namespace {

const std::string kImageA = make_id("aaaaaaaaaaaa1");
const std::string kImageB = make_id("aaaaaaaaaaaa2");
const std::string kImageC = make_id("cccc");
const std::string kLayer = make_id("1111");

std::string entry(const std::string& id, std::string_view extra = "") {
    return "{\"id\":\"" + id + "\"" + (extra.empty() ? "" : ",") + std::string(extra) + "}";
}

std::string three_images() {
    return "[" +
           entry(kImageA,
                 R"("digest":"sha256:0123","names":["docker.io/library/busybox:latest",)"
                 R"("quay.io/ns/a:1"],"layer":")" +
                     kLayer +
                     R"(","big-data-names":["manifest","signatures"],)"
                     R"("big-data-digests":{"manifest":"sha256:0123"},)"
                     R"("big-data-sizes":{"manifest":12},"metadata":"{\"signature-sizes\":[3,4]}",)"
                     R"("created":"2024-01-01T00:00:00Z","flags":{},"names-history":["x"])") +
           "," + entry(kImageB, R"("names":["quay.io/ns/b:1"])") + "," +
           entry(kImageC, R"("names":null,"layer":null,"metadata":"","digest":null)") + "]";
}

TEST(FindImage, ByFullIdReadsEveryField) {
    StoreTree tree;
    tree.images(three_images());
    auto image = tree.open().find_image_by_id(kImageA);
    EXPECT_EQ(image.id, kImageA);
    EXPECT_EQ(image.digest, "sha256:0123");
    EXPECT_THAT(image.names,
                ::testing::ElementsAre("docker.io/library/busybox:latest", "quay.io/ns/a:1"));
    EXPECT_EQ(image.top_layer, kLayer);
    EXPECT_THAT(image.big_data_names, ::testing::ElementsAre("manifest", "signatures"));
    EXPECT_THAT(image.signature_sizes, ::testing::ElementsAre(3u, 4u));
}

TEST(FindImage, NullFieldsReadAsAbsent) {
    StoreTree tree;
    tree.images(three_images());
    auto image = tree.open().find_image_by_id(kImageC);
    EXPECT_EQ(image.id, kImageC);
    EXPECT_TRUE(image.names.empty());
    EXPECT_TRUE(image.top_layer.empty());
    EXPECT_TRUE(image.signature_sizes.empty());
}

TEST(FindImage, ByUniquePrefix) {
    StoreTree tree;
    tree.images(three_images());
    auto store = tree.open();
    EXPECT_EQ(store.find_image_by_id(kImageC.substr(0, 12)).id, kImageC);
    EXPECT_EQ(store.find_image_by_id(kImageA.substr(0, 13)).id, kImageA);
    EXPECT_EQ(store.find_image_by_id(kImageB.substr(0, 63)).id, kImageB);
}

TEST(FindImage, AmbiguousPrefixIsNotFound) {
    StoreTree tree;
    tree.images(three_images());
    expect_error([&] { tree.open().find_image_by_id("aaaaaaaaaaaa"); }, Errc::ImageNotFound,
                 "image ID prefix aaaaaaaaaaaa", "found 2");
}

TEST(FindImage, UnknownIdIsNotFound) {
    StoreTree tree;
    tree.images(three_images());
    expect_error([&] { tree.open().find_image_by_id(make_id("dddd")); }, Errc::ImageNotFound,
                 make_id("dddd"), "found 0");
    expect_error([&] { tree.open().find_image_by_id("bbbbbbbbbbbb"); }, Errc::ImageNotFound,
                 "found 0");
}

TEST(FindImage, ArgumentThatIsNoIdIsRefusedBeforeReading) {
    StoreTree tree;  // no images.json at all: the argument is refused first
    auto store = tree.open();
    for (std::string_view bad :
         {"../../../../etc/passwd", "AAAAAAAAAAAAAAAA", "aaaaaaaaaaa", "aaaaaaaaaaaa/../x", ""}) {
        expect_error([&] { store.find_image_by_id(bad); }, Errc::InvalidArgument,
                     "expected 12 to 64 lowercase hex digits");
    }
    expect_error([&] { store.find_image_by_id(kImageA + "0"); }, Errc::InvalidArgument);
}

TEST(FindImage, ByExactName) {
    StoreTree tree;
    tree.images(three_images());
    auto store = tree.open();
    EXPECT_EQ(store.find_image_by_name("quay.io/ns/a:1").id, kImageA);
    EXPECT_EQ(store.find_image_by_name("quay.io/ns/b:1").id, kImageB);
    expect_error([&] { store.find_image_by_name("busybox"); }, Errc::ImageNotFound,
                 "image name \"busybox\"", "found 0");
    expect_error([&] { store.find_image_by_name("quay.io/ns/a"); }, Errc::ImageNotFound);
}

TEST(FindImage, LongUntrustedTextIsCutInMessages) {
    StoreTree tree;
    tree.images(three_images());
    try {
        tree.open().find_image_by_name(std::string(5000, 'n'));
        ADD_FAILURE() << "expected ImageNotFound";
    } catch (const Error& error) {
        EXPECT_EQ(error.code(), Errc::ImageNotFound);
        EXPECT_THAT(error.message(), ::testing::HasSubstr("(5000 bytes)"));
        EXPECT_LT(error.message().size(), 400u);
    }
}

TEST(FindImage, NameOrIdHeldTwiceIsCorrupt) {
    StoreTree tree;
    tree.images("[" + entry(kImageA, R"("names":["x:1"])") + "," +
                entry(kImageB, R"("names":["x:1"])") + "," + entry(kImageC) + "," + entry(kImageC) +
                "]");
    auto store = tree.open();
    expect_error([&] { store.find_image_by_name("x:1"); }, Errc::StorageCorrupt, "found 2");
    expect_error([&] { store.find_image_by_id(kImageC); }, Errc::StorageCorrupt, "found 2");
}

TEST(FindImage, EmptyStoreHasNoImages) {
    StoreTree tree;
    expect_error([&] { tree.open().find_image_by_id(kImageA); }, Errc::ImageNotFound, "found 0");
    std::filesystem::create_directories(tree.root() / "overlay-images");
    expect_error([&] { tree.open().find_image_by_name("x:1"); }, Errc::ImageNotFound, "found 0");
    tree.images("");
    expect_error([&] { tree.open().find_image_by_name("x:1"); }, Errc::ImageNotFound, "found 0");
    tree.images("[]");
    expect_error([&] { tree.open().find_image_by_name("x:1"); }, Errc::ImageNotFound, "found 0");
}

TEST(FindImage, LockFileIsUsedButNeverCreated) {
    StoreTree tree;
    tree.images(three_images());
    auto lock = tree.root() / "overlay-images/images.lock";
    EXPECT_EQ(tree.open().find_image_by_id(kImageA).id, kImageA);
    EXPECT_FALSE(std::filesystem::exists(lock));
    tree.write("overlay-images/images.lock", "");
    EXPECT_EQ(tree.open().find_image_by_id(kImageA).id, kImageA);
    EXPECT_EQ(std::filesystem::file_size(lock), 0u);
}

TEST(FindImage, FifoAsLockFileIsRefusedWithoutBlocking) {
    StoreTree tree;
    tree.images(three_images());
    ASSERT_EQ(::mkfifo((tree.root() / "overlay-images/images.lock").c_str(), 0600), 0);
    expect_error([&] { tree.open().find_image_by_id(kImageA); }, Errc::StorageCorrupt,
                 "overlay-images/images.lock: expected a regular file, found a FIFO");
}

struct BadImages {
    std::string name;
    std::string json;
    std::string needle;
};

class MalformedImagesJson : public ::testing::TestWithParam<BadImages> {};

TEST_P(MalformedImagesJson, IsStorageCorrupt) {
    StoreTree tree;
    tree.images(GetParam().json);
    auto store = tree.open();
    // Every look-up checks the whole file, whichever image it is after.
    expect_error([&] { store.find_image_by_id(kImageB); }, Errc::StorageCorrupt, GetParam().needle);
    expect_error([&] { store.find_image_by_name("no:such"); }, Errc::StorageCorrupt,
                 GetParam().needle);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, MalformedImagesJson,
    ::testing::Values(
        BadImages{"NotJson", "[{\"id\":", "images.json: expected valid JSON"},
        BadImages{"Whitespace", "  \n", "images.json: expected valid JSON"},
        BadImages{"InvalidUtf8", "[{\"id\":\"\xff\"}]", "expected valid JSON"},
        BadImages{"RootObject", "{}", "images.json: expected an array, found an object"},
        BadImages{"EntryNotObject", "[1]", "images.json[0]: expected an object, found a number"},
        BadImages{"MissingId", "[{\"names\":[]}]", "images.json[0].id: expected an ID"},
        BadImages{"IdNumber", "[{\"id\":7}]", "images.json[0].id: expected a string"},
        BadImages{"IdPath", "[{\"id\":\"../../../etc\"}]",
                  "images.json[0].id: expected 64 lowercase hex digits, found \"../../../etc\""},
        BadImages{"IdUppercase", "[" + entry(make_id("ABCD")) + "]",
                  "expected 64 lowercase hex digits"},
        BadImages{"NamesString", "[" + entry(kImageA, R"("names":"x")") + "]",
                  "images.json[0].names: expected an array, found a string"},
        BadImages{"NameNumber", "[" + entry(kImageA, R"("names":["x",1])") + "]",
                  "images.json[0].names[]: expected a string, found a number"},
        BadImages{"LayerNotId", "[" + entry(kImageA, R"("layer":"../x")") + "]",
                  "images.json[0].layer: expected 64 lowercase hex digits"},
        BadImages{"DigestNumber", "[" + entry(kImageA, R"("digest":1)") + "]",
                  "images.json[0].digest: expected a string"},
        BadImages{"MetadataObject", "[" + entry(kImageA, R"("metadata":{})") + "]",
                  "images.json[0].metadata: expected a string, found an object"},
        BadImages{"BigDataNamesObject", "[" + entry(kImageA, R"("big-data-names":{})") + "]",
                  "images.json[0].big-data-names: expected an array"},
        BadImages{"BigDataSizeNegative",
                  "[" + entry(kImageA, R"("big-data-sizes":{"manifest":-1})") + "]",
                  "images.json[0].big-data-sizes{}: expected a non-negative integer"},
        BadImages{"BigDataDigestNumber",
                  "[" + entry(kImageA, R"("big-data-digests":{"manifest":1})") + "]",
                  "images.json[0].big-data-digests{}: expected a string"},
        BadImages{"DuplicateKey", "[" + entry(kImageA, R"("names":[],"names":["x"])") + "]",
                  "images.json[0]: expected key \"names\" once, found it twice"},
        BadImages{"SecondEntryBad", "[" + entry(kImageB) + "," + entry(kImageA, "\"id\":1") + "]",
                  "images.json[1]: expected key \"id\" once"}),
    [](const auto& param_info) { return param_info.param.name; });

TEST(FindImage, MetadataSignatureSizes) {
    StoreTree tree;
    tree.images(
        "[" + entry(kImageA, R"("metadata":"{\"signature-sizes\":[10,20,30],\"other\":[true]}")") +
        "," +
        entry(
            kImageB,
            R"("metadata":"{\"signatures-sizes\":{\"sha256:00\":[1,2]},\"signature-sizes\":[5]}")") +
        "," + entry(kImageC, R"("metadata":"{}")") + "]");
    auto store = tree.open();
    EXPECT_THAT(store.find_image_by_id(kImageA).signature_sizes,
                ::testing::ElementsAre(10u, 20u, 30u));
    EXPECT_THAT(store.find_image_by_id(kImageB).signature_sizes, ::testing::ElementsAre(5u));
    EXPECT_TRUE(store.find_image_by_id(kImageC).signature_sizes.empty());
}

TEST(FindImage, MalformedMetadataOfTheChosenImageIsCorrupt) {
    struct Case {
        std::string metadata;
        std::string needle;
    };
    for (const auto& [metadata, needle] : std::vector<Case>{
             {R"(not json)", "images.json[1].metadata: expected valid JSON"},
             {R"([])", "images.json[1].metadata: expected an object, found an array"},
             {R"({\"signature-sizes\":\"3\"})", "metadata.signature-sizes: expected an array"},
             {R"({\"signature-sizes\":[-3]})",
              "metadata.signature-sizes[]: expected a non-negative integer, found -3"},
             {R"({\"signature-sizes\":[1.5]})", "metadata.signature-sizes[]: expected"},
             {R"({\"signatures-sizes\":{\"d\":[\"x\"]}})",
              "metadata.signatures-sizes{}[]: expected a non-negative integer"},
             {R"({\"signatures-sizes\":[]})", "metadata.signatures-sizes: expected an object"},
         }) {
        SCOPED_TRACE(metadata);
        StoreTree tree;
        tree.images("[" + entry(kImageB) + "," +
                    entry(kImageA, "\"metadata\":\"" + metadata + "\"") + "]");
        auto store = tree.open();
        // Only the chosen image's metadata is parsed.
        EXPECT_EQ(store.find_image_by_id(kImageB).id, kImageB);
        expect_error([&] { store.find_image_by_id(kImageA); }, Errc::StorageCorrupt, needle);
    }
}

TEST(FindImage, OversizedImagesJsonIsRejectedNotTruncated) {
    StoreTree tree;
    auto json = three_images();
    tree.images(json);
    Limits limits;
    limits.max_json_bytes = json.size() - 1;
    expect_error([&] { tree.open(limits).find_image_by_id(kImageA); }, Errc::StorageCorrupt,
                 fmt::format("overlay-images/images.json: expected at most {} bytes, found {}",
                             json.size() - 1, json.size()));
    limits.max_json_bytes = json.size();
    EXPECT_EQ(tree.open(limits).find_image_by_id(kImageA).id, kImageA);
}

TEST(FindImage, SymlinkInPlaceOfImagesJsonIsRefused) {
    StoreTree tree;
    tree.write("elsewhere/images.json", three_images());
    std::filesystem::create_directories(tree.root() / "overlay-images");
    std::filesystem::create_symlink(tree.root() / "elsewhere/images.json",
                                    tree.root() / "overlay-images/images.json");
    expect_error([&] { tree.open().find_image_by_id(kImageA); }, Errc::StorageCorrupt,
                 "overlay-images/images.json: expected a regular file, found a symlink");
}

TEST(FindImage, SymlinkedImagesDirectoryIsRefused) {
    StoreTree tree;
    tree.write("elsewhere/images.json", three_images());
    std::filesystem::create_directory_symlink("elsewhere", tree.root() / "overlay-images");
    expect_error([&] { tree.open().find_image_by_id(kImageA); }, Errc::StorageCorrupt,
                 "overlay-images/images.lock: expected a regular file reached through plain "
                 "directories, found a symlink in its path");
}

TEST(FindImage, FifoOrDirectoryInPlaceOfImagesJsonIsRefusedWithoutBlocking) {
    StoreTree tree;
    std::filesystem::create_directories(tree.root() / "overlay-images");
    auto path = tree.root() / "overlay-images/images.json";
    ASSERT_EQ(::mkfifo(path.c_str(), 0600), 0);
    expect_error([&] { tree.open().find_image_by_id(kImageA); }, Errc::StorageCorrupt,
                 "overlay-images/images.json: expected a regular file, found a FIFO");
    std::filesystem::remove(path);
    std::filesystem::create_directory(path);
    expect_error([&] { tree.open().find_image_by_id(kImageA); }, Errc::StorageCorrupt,
                 "overlay-images/images.json: expected a regular file, found a directory");
}

TEST(StoreOpen, MissingRootIsCorrupt) {
    StoreTree tree;
    expect_error([&] { Store::open(tree.root() / "nope", {}); }, Errc::StorageCorrupt,
                 "expected a directory");
    tree.write("file", "x");
    expect_error([&] { Store::open(tree.root() / "file", {}); }, Errc::StorageCorrupt,
                 "expected a directory");
}

TEST(FindImage, FailedLookupsLeakNoFds) {
    StoreTree symlinked;
    symlinked.write("elsewhere/images.json", "[]");
    std::filesystem::create_directories(symlinked.root() / "overlay-images");
    std::filesystem::create_symlink(symlinked.root() / "elsewhere/images.json",
                                    symlinked.root() / "overlay-images/images.json");
    StoreTree fifo;
    fifo.images("[]");
    fifo.write("overlay-images/images.lock", "");
    std::filesystem::create_directories(fifo.root() / "overlay-images" / kImageA);
    ASSERT_EQ(::mkfifo((fifo.root() / "overlay-images" / kImageA / "manifest").c_str(), 0600), 0);
    StoreTree malformed;
    malformed.images("[" + entry(kImageA, R"("metadata":"{")") + "]");
    malformed.write("overlay-images/images.lock", "");
    Limits small;
    small.max_json_bytes = 4;

    auto stores = std::vector<Store>{};
    stores.push_back(symlinked.open());
    stores.push_back(fifo.open());
    stores.push_back(malformed.open());
    stores.push_back(malformed.open(small));
    auto before = open_fd_count();
    std::size_t failures = 0;
    for (int round = 0; round < 25; ++round) {
        for (const auto& store : stores) {
            try {
                store.find_image_by_id(kImageA);
            } catch (const Error&) {
                ++failures;
            }
            try {
                store.read_manifest(ImageRecord{kImageA, {}, {}, {}, {}, {}});
            } catch (const Error&) {
                ++failures;
            }
            try {
                store.open_layer_blob(kImageA);
            } catch (const Error&) {
                ++failures;
            }
        }
    }
    EXPECT_EQ(failures, 25u * stores.size() * 3);
    EXPECT_EQ(open_fd_count(), before);
}

}  // namespace
}  // namespace vmd::storage::test
