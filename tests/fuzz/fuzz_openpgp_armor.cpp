// libFuzzer target: ASCII armor (openpgp::detail::dearmor, looks_armored) of trusted key files.
#include "fuzz_support.hpp"
#include "trust/openpgp/armor.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    namespace detail = vmd::openpgp::detail;
    auto text = vmd::fuzz::as_text(data, size);
    vmd::fuzz::run(text, {vmd::Errc::SignatureInvalid}, [&] {
        bool armored = detail::looks_armored(text);
        auto binary = detail::dearmor(text, "PUBLIC KEY BLOCK");
        vmd::fuzz::check(binary.size() <= text.size(), "base64 never grows");
        vmd::fuzz::check(text.find("-----BEGIN PGP PUBLIC KEY BLOCK-----") != std::string::npos,
                         "only text with a BEGIN line decodes");
        (void)armored;
    });
    return 0;
}
