// Shared by the OpenPGP tests: one generated case set per test binary (key generation is slow).
#pragma once

#include <string>

#include "fixtures/gpg_cases.hpp"

namespace vmd::testing::openpgp_test {

/// A simple-signing payload like containers/image writes.
inline const std::string kPayload =
    R"({"critical":{"identity":{"docker-reference":"quay.io/example/demo:latest"},)"
    R"("image":{"docker-manifest-digest":"sha256:20bf21ed457b390829cdbeec8795a7bea1626991fda603e0)"
    R"(d01b4e7f60427e55"},"type":"atomic container signature"},"optional":{"creator":"gpg cases"}})";

/// The generated cases over kPayload, made on first use.
inline const GpgCases& generated_cases() {
    static const GpgCases cases(kPayload);
    return cases;
}

}  // namespace vmd::testing::openpgp_test
