// libFuzzer target: openpgp::verify() of one message (a GPG signature blob from the untrusted
// store, without its simple-signing prefix) against containers/image's test keys.
#include <algorithm>
#include <chrono>

#include "fuzz_openpgp_fixtures.hpp"
#include "trust/openpgp/openpgp.hpp"

namespace {

const vmd::openpgp::Keyring& keyring() {
    static const vmd::openpgp::Keyring keys = [] {
        vmd::openpgp::Keyring result;
        for (const char* name : {"public-key.gpg", "public-key-with-subkey.gpg", "pubring.gpg"}) {
            if (result.import_file(vmd::fuzz::openpgp_fixture(name)) == 0 && result.size() == 0) {
                vmd::fuzz::finding("fixture {} imports no key", name);
            }
        }
        return result;
    }();
    return keys;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto message = vmd::fuzz::as_text(data, size);
    vmd::fuzz::run(message, {vmd::Errc::SignatureInvalid}, [&] {
        auto verified = vmd::openpgp::verify(message, keyring(), std::chrono::system_clock::now());
        auto fingerprints = keyring().fingerprints();
        vmd::fuzz::check(std::find(fingerprints.begin(), fingerprints.end(),
                                   verified.signer_fingerprint) != fingerprints.end(),
                         "the signer is a trusted primary key");
        vmd::fuzz::check(verified.literal_data.size() <= vmd::openpgp::kMaxDecompressedBytes,
                         "literal data within its bound");
        vmd::fuzz::check(verified.signing_key_fingerprint.size() == 40,
                         "the signing key's fingerprint is 40 hex");
    });
    return 0;
}
