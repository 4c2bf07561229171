// libFuzzer target: Keyring::import_file (a trusted key file; it must never throw or crash,
// whatever the bytes) and then verify() of a fixed containers/image signature with the keys it
// imported.
#include <chrono>

#include "fuzz_openpgp_fixtures.hpp"
#include "trust/openpgp/openpgp.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const std::string message = vmd::fuzz::openpgp_fixture("image.signature");
    auto bytes = vmd::fuzz::as_text(data, size);
    vmd::openpgp::Keyring keyring;
    vmd::fuzz::run(bytes, {}, [&] {
        auto added = keyring.import_file(bytes);
        vmd::fuzz::check(added == keyring.size(), "a fresh keyring holds what one file added");
        vmd::fuzz::check((added == 0) == !keyring.last_import_error().empty(),
                         "a file that adds nothing says why");
    });
    // With no key, verify() of the fixed message only re-reads (and re-inflates) that message,
    // the same work for every input, before it refuses the unknown issuer: most inputs import
    // nothing, so skipping them keeps the fuzzer on the part the input decides.
    if (keyring.size() == 0) {
        return 0;
    }
    vmd::fuzz::run(bytes, {vmd::Errc::SignatureInvalid}, [&] {
        auto verified = vmd::openpgp::verify(message, keyring, std::chrono::system_clock::now());
        vmd::fuzz::check(verified.signer_fingerprint.size() == 40, "fingerprints are 40 hex");
    });
    return 0;
}
