// libFuzzer target: bounded decompression of a compressed data packet body
// (openpgp::detail::decompress_packet): ZIP, ZLIB and BZIP2 streams from the untrusted store.
#include "fuzz_support.hpp"
#include "trust/openpgp/decompress.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    // A small bound keeps each input fast; the bound logic is the same as the real one's.
    constexpr std::size_t kBound = 64 * 1024;
    auto body = vmd::fuzz::as_text(data, size);
    vmd::fuzz::run(body, {vmd::Errc::SignatureInvalid}, [&] {
        auto out = vmd::openpgp::detail::decompress_packet(body, kBound);
        vmd::fuzz::check(out.size() <= kBound, "output within the bound");
        if (!body.empty() && body.front() == '\0') {
            vmd::fuzz::check(out == body.substr(1), "algorithm 0 copies the data");
        }
    });
    return 0;
}
