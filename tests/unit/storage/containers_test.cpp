// Container look-ups in containers.json: full ID, exact name, unique prefix.
#include "store_tree.hpp"

namespace vmd::storage::test {
namespace {

// Functions, not globals: a global std::string could throw before main (cert-err58-cpp).
std::string image_id() {
    return make_id("e1");
}
std::string layer_a() {
    return make_id("f1");
}
std::string layer_b() {
    return make_id("f2");
}
std::string container_1() {
    return make_id("abcdef0123451");
}
std::string container_2() {
    return make_id("abcdef0123452");
}

std::string container(const std::string& id, std::string_view names, const std::string& layer) {
    return R"({"id":")" + id + R"(","names":)" + std::string(names) + R"(,"image":")" + image_id() +
           R"(","layer":")" + layer + R"(","metadata":"{}","created":"2024-01-01T00:00:00Z"})";
}

void write_two(const StoreTree& tree) {
    tree.containers("[" + container(container_1(), R"(["web"])", layer_a()) + "," +
                    container(container_2(), R"(["abcdef012345", "db"])", layer_b()) + "]");
}

TEST(FindContainer, ByFullId) {
    StoreTree tree;
    write_two(tree);
    auto found = tree.open().find_container(container_1());
    EXPECT_EQ(found.id, container_1());
    EXPECT_THAT(found.names, ::testing::ElementsAre("web"));
    EXPECT_EQ(found.image, image_id());
    EXPECT_EQ(found.layer, layer_a());
}

TEST(FindContainer, VolatileContainersAreFoundAndCheckedLikeTheOthers) {
    // podman run --rm makes volatile containers: containers/storage keeps them in
    // volatile-containers.json beside containers.json.
    StoreTree tree;
    tree.containers("[" + container(container_1(), R"(["web"])", layer_a()) + "]");
    tree.volatile_containers("[" + container(container_2(), R"(["rm"])", layer_b()) + "]");
    auto store = tree.open();
    EXPECT_EQ(store.find_container("web").layer, layer_a());
    EXPECT_EQ(store.find_container("rm").id, container_2());
    EXPECT_EQ(store.find_container(container_2()).layer, layer_b());

    tree.volatile_containers("[" + container(container_1(), R"(["again"])", layer_b()) + "]");
    expect_error([&] { store.find_container(container_1()); }, Errc::StorageCorrupt,
                 "expected one container in", "found 2");
    tree.volatile_containers(R"([{"id":"x"}])");
    expect_error([&] { store.find_container("web"); }, Errc::StorageCorrupt,
                 "volatile-containers.json[0].id: expected 64 lowercase hex digits");
}

TEST(FindContainer, ByExactName) {
    StoreTree tree;
    write_two(tree);
    auto store = tree.open();
    EXPECT_EQ(store.find_container("web").id, container_1());
    EXPECT_EQ(store.find_container("db").layer, layer_b());
    expect_error([&] { store.find_container("we"); }, Errc::ContainerNotFound, "\"we\"",
                 "found none");
}

TEST(FindContainer, NameWinsOverAmbiguousPrefix) {
    // "abcdef012345" prefixes both IDs, but it is also the exact name of the second container.
    StoreTree tree;
    write_two(tree);
    EXPECT_EQ(tree.open().find_container("abcdef012345").id, container_2());
}

TEST(FindContainer, ByUniquePrefixAndAmbiguousPrefix) {
    StoreTree tree;
    write_two(tree);
    auto store = tree.open();
    EXPECT_EQ(store.find_container(container_1().substr(0, 14)).id, container_1());
    expect_error([&] { store.find_container("abcdef0123"); }, Errc::ContainerNotFound,
                 "found none");  // shorter than 12: not a prefix, and no such name
    tree.containers("[" + container(container_1(), "[]", layer_a()) + "," +
                    container(container_2(), "[]", layer_b()) + "]");
    expect_error([&] { tree.open().find_container("abcdef012345"); }, Errc::ContainerNotFound,
                 "container ID prefix abcdef012345", "found 2");
}

TEST(FindContainer, MissingFileOrUnknownIdIsNotFound) {
    StoreTree tree;
    expect_error([&] { tree.open().find_container(container_1()); }, Errc::ContainerNotFound,
                 "found none");
    write_two(tree);
    expect_error([&] { tree.open().find_container(make_id("99")); }, Errc::ContainerNotFound);
    expect_error([&] { tree.open().find_container("../../etc/passwd"); }, Errc::ContainerNotFound);
}

TEST(FindContainer, InvalidEntriesAreCorrupt) {
    StoreTree tree;
    tree.containers(R"([{"id":")" + container_1() + R"(","image":"busybox"}])");
    expect_error([&] { tree.open().find_container("web"); }, Errc::StorageCorrupt,
                 "containers.json[0].image: expected 64 lowercase hex digits, found \"busybox\"");
    tree.containers(R"([{"id":")" + container_1() + R"(","layer":"../../x"}])");
    expect_error([&] { tree.open().find_container(container_1()); }, Errc::StorageCorrupt,
                 "containers.json[0].layer: expected 64 lowercase hex digits");
    tree.containers(R"([{"id":")" + container_1() + R"(","names":"web"}])");
    expect_error([&] { tree.open().find_container("web"); }, Errc::StorageCorrupt,
                 "containers.json[0].names: expected an array");
    tree.containers(R"({"id":")" + container_1() + R"("})");
    expect_error([&] { tree.open().find_container(container_1()); }, Errc::StorageCorrupt,
                 "containers.json: expected an array");
}

TEST(FindContainer, SameIdOrNameTwiceIsCorrupt) {
    StoreTree tree;
    tree.containers("[" + container(container_1(), R"(["web"])", layer_a()) + "," +
                    container(container_2(), R"(["web"])", layer_b()) + "]");
    expect_error([&] { tree.open().find_container("web"); }, Errc::StorageCorrupt, "found 2");
    tree.containers("[" + container(container_1(), "[]", layer_a()) + "," +
                    container(container_1(), "[]", layer_b()) + "]");
    expect_error([&] { tree.open().find_container(container_1()); }, Errc::StorageCorrupt,
                 "found 2");
}

TEST(FindContainer, SymlinkedContainersJsonIsRefused) {
    StoreTree tree;
    tree.write("elsewhere.json", "[]");
    std::filesystem::create_directories(tree.root() / "overlay-containers");
    std::filesystem::create_symlink("../elsewhere.json",
                                    tree.root() / "overlay-containers/containers.json");
    expect_error([&] { tree.open().find_container("web"); }, Errc::StorageCorrupt,
                 "overlay-containers/containers.json: expected a regular file, found a symlink");
}

}  // namespace
}  // namespace vmd::storage::test
