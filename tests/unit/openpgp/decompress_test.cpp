// Bounded decompression against streams made by zlib and libbz2 themselves.
#include <bzlib.h>
#include <gtest/gtest.h>
#include <zlib.h>

#include <functional>

#include "common/error.hpp"
#include "openpgp_test_util.hpp"
#include "trust/openpgp/decompress.hpp"
#include "trust/openpgp/openpgp.hpp"

namespace vmd::testing {
namespace {

using openpgp::kMaxDecompressedBytes;
using openpgp::detail::decompress_packet;
using openpgp_test::expect_refused;

// A compressed packet body: the algorithm octet, then the stream.
std::string deflated(std::string_view data, int window_bits, char algorithm) {
    z_stream stream{};
    EXPECT_EQ(deflateInit2(&stream, 9, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY), Z_OK);
    std::string out(deflateBound(&stream, data.size()), '\0');
    stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
    stream.avail_in = static_cast<uInt>(data.size());
    stream.next_out = reinterpret_cast<Bytef*>(out.data());
    stream.avail_out = static_cast<uInt>(out.size());
    EXPECT_EQ(deflate(&stream, Z_FINISH), Z_STREAM_END);
    out.resize(stream.total_out);
    deflateEnd(&stream);
    return algorithm + out;
}

std::string bzipped(std::string_view data) {
    std::string out(data.size() + data.size() / 100 + 700, '\0');
    auto size = static_cast<unsigned int>(out.size());
    EXPECT_EQ(BZ2_bzBuffToBuffCompress(out.data(), &size, const_cast<char*>(data.data()),
                                       static_cast<unsigned int>(data.size()), 9, 0, 0),
              BZ_OK);
    out.resize(size);
    return '\x03' + out;
}

std::string zip(std::string_view data) {
    return deflated(data, -15, '\x01');
}
std::string zlib(std::string_view data) {
    return deflated(data, 15, '\x02');
}

TEST(OpenpgpDecompress, EveryAlgorithmRoundTrips) {
    std::string data;
    for (int i = 0; i < 50000; ++i) {
        data += static_cast<char>('a' + (i * 7) % 26);
    }
    EXPECT_EQ(decompress_packet('\x00' + data, kMaxDecompressedBytes), data);
    EXPECT_EQ(decompress_packet(zip(data), kMaxDecompressedBytes), data);
    EXPECT_EQ(decompress_packet(zlib(data), kMaxDecompressedBytes), data);
    EXPECT_EQ(decompress_packet(bzipped(data), kMaxDecompressedBytes), data);
    EXPECT_EQ(decompress_packet(zlib(""), kMaxDecompressedBytes), "");
}

TEST(OpenpgpDecompress, OutputIsBoundedExactly) {
    std::string at_limit(kMaxDecompressedBytes, '\0');
    std::string over_limit(kMaxDecompressedBytes + 1, '\0');
    for (const auto& make : std::vector<std::function<std::string(std::string_view)>>{
             zip, zlib, bzipped,
             [](std::string_view data) { return '\x00' + std::string(data); }}) {
        EXPECT_EQ(decompress_packet(make(at_limit), kMaxDecompressedBytes).size(),
                  kMaxDecompressedBytes);
        expect_refused([&] { decompress_packet(make(over_limit), kMaxDecompressedBytes); },
                       "expected at most 1048576 bytes once decompressed");
    }
    // A 10 MiB bomb of a few kilobytes stops at the bound.
    auto bomb = zlib(std::string(10 * 1024 * 1024, '\0'));
    EXPECT_LT(bomb.size(), 20000U);
    expect_refused([&] { decompress_packet(bomb, kMaxDecompressedBytes); }, "at most");
}

TEST(OpenpgpDecompress, RefusesTruncatedTrailingAndUnknown) {
    std::string data(1000, 'z');
    for (const auto& packet : {zip(data), zlib(data), bzipped(data)}) {
        expect_refused([&] { decompress_packet(packet.substr(0, packet.size() - 3), 4096); },
                       "compressed data");
        expect_refused([&] { decompress_packet(packet + "junk", 4096); },
                       "expected nothing after the end of the stream");
    }
    expect_refused([] { decompress_packet(std::string("\x04xyz", 4), 4096); },
                   "expected algorithm 0 (none), 1 (ZIP), 2 (ZLIB) or 3 (BZIP2), found 4");
    expect_refused([] { decompress_packet("", 4096); }, "empty packet");
    expect_refused([] { decompress_packet(std::string("\x02garbage", 8), 4096); }, "corrupt");
}

}  // namespace
}  // namespace vmd::testing
