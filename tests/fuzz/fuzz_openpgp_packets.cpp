// libFuzzer target: OpenPGP packet framing (openpgp::detail::parse_packets) and the packet
// parsers behind it (parse_signature, parse_public_key), on bytes from the untrusted store.
#include "fuzz_support.hpp"
#include "trust/openpgp/keys.hpp"
#include "trust/openpgp/openpgp.hpp"
#include "trust/openpgp/packets.hpp"
#include "trust/openpgp/signature.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    namespace detail = vmd::openpgp::detail;
    using vmd::fuzz::check;
    auto bytes = vmd::fuzz::as_text(data, size);
    vmd::fuzz::run(bytes, {vmd::Errc::SignatureInvalid}, [&] {
        auto list = detail::parse_packets(bytes, vmd::openpgp::kMaxKeyFilePackets, "fuzz input");
        std::size_t total = 0;
        for (const auto& packet : list.packets) {
            check(packet.tag != detail::Tag{0}, "no packet has the reserved tag 0");
            total += packet.body.size();
        }
        check(total <= bytes.size(), "bodies are never longer than the input");
        for (const auto& packet : list.packets) {
            vmd::fuzz::run(packet.body, {vmd::Errc::SignatureInvalid}, [&] {
                if (packet.tag == detail::Tag::Signature) {
                    auto signature = detail::parse_signature(packet.body);
                    check(signature.version == 3 || signature.version == 4, "v3 or v4 only");
                    check(!signature.values.empty(), "a signature has its numbers");
                } else if (packet.tag == detail::Tag::PublicKey ||
                           packet.tag == detail::Tag::PublicSubkey) {
                    auto key = detail::parse_public_key(packet.body);
                    check(key.fingerprint.size() == 20, "v4 fingerprints are 20 bytes");
                    check(key.pkey != nullptr || !key.unsupported.empty(),
                          "a key without OpenSSL key says why");
                }
            });
        }
    });
    return 0;
}
