// Shared by the OpenPGP tests: one generated case set per test binary (key generation is slow),
// the containers/image fixtures, and a verdict of our verifier that never throws.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <optional>
#include <span>
#include <string>

#include "common/error.hpp"
#include "fixtures/gpg_cases.hpp"
#include "fixtures/test_env.hpp"
#include "trust/openpgp/openpgp.hpp"

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

/// containers/image's GPG fixtures, copied into the repository.
inline std::filesystem::path fixture(const std::string& name) {
    return source_dir() / "tests" / "data" / "containers-image-gpg" / name;
}

/// A keyring with each file imported on its own (a missing file fails the test by throwing).
inline openpgp::Keyring keyring_of(std::span<const std::filesystem::path> files) {
    openpgp::Keyring keyring;
    for (const auto& file : files) {
        keyring.import_file(read_file(file));
    }
    return keyring;
}

/// Our verifier's answer: the verified message, or the refusal's text in `why`.
struct Outcome {
    std::optional<openpgp::VerifiedMessage> verified;
    std::string why;
};

/// Runs verify() at `now`; any exception other than Error(SignatureInvalid) fails the test.
inline Outcome verify_outcome(
    std::string_view message, const openpgp::Keyring& keyring,
    std::chrono::system_clock::time_point now = std::chrono::system_clock::now()) {
    Outcome outcome;
    try {
        outcome.verified = openpgp::verify(message, keyring, now);
    } catch (const Error& error) {
        EXPECT_EQ(error.code(), Errc::SignatureInvalid) << error.message();
        EXPECT_FALSE(error.message().empty());
        outcome.why = error.message();
    }
    return outcome;
}

/// Runs `body`, which must refuse with Error(SignatureInvalid) saying `reason`.
inline void expect_refused(const std::function<void()>& body, std::string_view reason) {
    try {
        body();
        ADD_FAILURE() << "accepted; expected a refusal saying " << reason;
    } catch (const Error& error) {
        EXPECT_EQ(error.code(), Errc::SignatureInvalid);
        EXPECT_NE(error.message().find(reason), std::string::npos) << error.message();
    }
}

}  // namespace vmd::testing::openpgp_test
