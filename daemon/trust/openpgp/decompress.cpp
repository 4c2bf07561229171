#include "trust/openpgp/decompress.hpp"

#include <bzlib.h>
#include <zlib.h>

#include <climits>
#include <memory>

#include "common/error.hpp"

namespace vmd::openpgp::detail {

namespace {

constexpr std::size_t kChunk = std::size_t{16} * 1024;

[[noreturn]] void too_large(std::size_t max_output) {
    fail(Errc::SignatureInvalid,
         "compressed data: expected at most {} bytes once decompressed, found more", max_output);
}

// Ends a zlib stream on every path.
struct InflateEnd {
    void operator()(z_stream* stream) const { inflateEnd(stream); }
};
struct Bzip2End {
    void operator()(bz_stream* stream) const { BZ2_bzDecompressEnd(stream); }
};

// What one call of a decompressor did with the output window it was given.
struct Step {
    std::size_t written = 0;
    bool ended = false;
};

// Calls `step(window, room)` with fresh output room until it reports the end of the stream;
// the output stops one byte past the bound, so that "too large" is seen without inflating more.
template <typename StepFunction>
std::string drain(std::size_t max_output, StepFunction&& step) {
    std::string out;
    bool ended = false;
    while (!ended) {
        auto used = out.size();
        if (used == max_output + 1) {
            too_large(max_output);
        }
        out.resize(std::min(used + kChunk, max_output + 1));
        auto result = step(out.data() + used, out.size() - used);
        out.resize(used + result.written);
        ended = result.ended;
    }
    if (out.size() > max_output) {
        too_large(max_output);
    }
    return out;
}

void check_consumed(std::size_t unread) {
    if (unread != 0) {
        fail(Errc::SignatureInvalid,
             "compressed data: expected nothing after the end of the stream, found {} bytes",
             unread);
    }
}

[[noreturn]] void truncated(std::string_view format) {
    fail(Errc::SignatureInvalid,
         "compressed data: expected the end of the {} stream, found the end of the packet", format);
}

// ZIP is raw deflate (window bits -15); ZLIB has the zlib header and checksum.
std::string inflate_all(std::string_view data, bool raw, std::size_t max_output) {
    const char* format = raw ? "deflate" : "zlib";
    z_stream stream{};
    if (data.size() > UINT_MAX || inflateInit2(&stream, raw ? -15 : 15) != Z_OK) {
        fail(Errc::SignatureInvalid, "compressed data: cannot start zlib on {} bytes", data.size());
    }
    std::unique_ptr<z_stream, InflateEnd> guard(&stream);
    // zlib's interface is not const-correct; it never writes through next_in.
    stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
    stream.avail_in = static_cast<uInt>(data.size());
    auto out = drain(max_output, [&](char* window, std::size_t room) {
        stream.next_out = reinterpret_cast<Bytef*>(window);
        stream.avail_out = static_cast<uInt>(room);
        int status = inflate(&stream, Z_NO_FLUSH);
        if (status == Z_BUF_ERROR && stream.avail_in == 0) {
            truncated(format);
        }
        if (status != Z_OK && status != Z_STREAM_END && status != Z_BUF_ERROR) {
            fail(Errc::SignatureInvalid, "compressed data: corrupt {} stream ({})", format,
                 stream.msg != nullptr ? stream.msg : "no detail");
        }
        return Step{room - stream.avail_out, status == Z_STREAM_END};
    });
    check_consumed(stream.avail_in);
    return out;
}

std::string bunzip_all(std::string_view data, std::size_t max_output) {
    bz_stream stream{};
    // small = 1: at most ~2.3 MB of state instead of ~3.6 MB for a 900k block (the sender picks
    // the block size); half the speed matters little on a bounded, small output.
    if (data.size() > UINT_MAX || BZ2_bzDecompressInit(&stream, 0, 1) != BZ_OK) {
        fail(Errc::SignatureInvalid, "compressed data: cannot start bzip2 on {} bytes",
             data.size());
    }
    std::unique_ptr<bz_stream, Bzip2End> guard(&stream);
    // libbz2 is not const-correct either; it only reads next_in.
    stream.next_in = const_cast<char*>(data.data());
    stream.avail_in = static_cast<unsigned int>(data.size());
    auto out = drain(max_output, [&](char* window, std::size_t room) {
        stream.next_out = window;
        stream.avail_out = static_cast<unsigned int>(room);
        int status = BZ2_bzDecompress(&stream);
        if (status == BZ_OK && stream.avail_in == 0 && stream.avail_out != 0) {
            truncated("bzip2");
        }
        if (status != BZ_OK && status != BZ_STREAM_END) {
            fail(Errc::SignatureInvalid, "compressed data: corrupt bzip2 stream (error {})",
                 status);
        }
        return Step{room - stream.avail_out, status == BZ_STREAM_END};
    });
    check_consumed(stream.avail_in);
    return out;
}

}  // namespace

std::string decompress_packet(std::string_view body, std::size_t max_output) {
    if (body.empty()) {
        fail(Errc::SignatureInvalid,
             "compressed data: expected an algorithm octet, found an empty packet");
    }
    auto algorithm = static_cast<Compression>(body.front());
    auto data = body.substr(1);
    switch (algorithm) {
        case Compression::None:
            if (data.size() > max_output) {
                too_large(max_output);
            }
            return std::string(data);
        case Compression::Zip:
            return inflate_all(data, true, max_output);
        case Compression::Zlib:
            return inflate_all(data, false, max_output);
        case Compression::Bzip2:
            return bunzip_all(data, max_output);
    }
    fail(Errc::SignatureInvalid,
         "compressed data: expected algorithm 0 (none), 1 (ZIP), 2 (ZLIB) or 3 (BZIP2), found {}",
         static_cast<int>(body.front()));
}

}  // namespace vmd::openpgp::detail
