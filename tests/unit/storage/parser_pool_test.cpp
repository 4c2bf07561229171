// The JSON parsers' pool: buffers a big store grew are reused while requests come and dropped
// once the daemon is idle (release_large_parsers).
#include "storage/records.hpp"
#include "store_tree.hpp"

namespace vmd::storage::test {
namespace {

constexpr std::size_t kKeptCapacity = 8u << 20;  // the pool's limit for idle parsers

TEST(ParserPool, BigStoreBuffersAreKeptUntilReleased) {
    release_large_parsers();
    ASSERT_LE(detail::largest_idle_parser_capacity(), kKeptCapacity);

    StoreTree tree;
    const std::string id = make_id("b16");
    // An unknown key is skipped, but its bytes still pass through the parser.
    tree.images(R"([{"id":")" + id + R"(","names":["quay.io/ns/big:1"],"padding":")" +
                std::string(kKeptCapacity + (1u << 20), 'a') + "\"}]");
    const auto store = tree.open();
    EXPECT_EQ(store.find_image_by_name("quay.io/ns/big:1").id, id);
    EXPECT_GT(detail::largest_idle_parser_capacity(), kKeptCapacity);
    // Still there after the next look-up, which reused it.
    EXPECT_EQ(store.find_image_by_id(id).id, id);
    EXPECT_GT(detail::largest_idle_parser_capacity(), kKeptCapacity);

    release_large_parsers();
    EXPECT_LE(detail::largest_idle_parser_capacity(), kKeptCapacity);
    EXPECT_EQ(store.find_image_by_name("quay.io/ns/big:1").id, id);
}

}  // namespace
}  // namespace vmd::storage::test
