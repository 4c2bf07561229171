// The policy code against skopeo 1.9 (containers/image over gpgme), case for case: every
// generated GPG case (tests/fixtures/gpg_cases.hpp) and a set of payloads signed by one key is
// put in a dir: image and decided by `skopeo --policy P copy dir:IMG dir:OUT` — the image has a
// manifest and signature-1 but no layer blobs, so an error about reading a blob means the policy
// accepted — and by trust::evaluate with the same keys. Any disagreement fails, except the
// subkey case (containers/image since 2025 and the daemon accept a signing subkey's signature,
// skopeo 1.9 refuses it) and the cases the generator documents as refused on purpose by the
// verifier though gpg accepts them (GpgCase::stricter).
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <future>
#include <iostream>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "common/json.hpp"
#include "fixtures/gpg_cases.hpp"
#include "fixtures/gpg_home.hpp"
#include "fixtures/test_env.hpp"
#include "trust/evaluate.hpp"
#include "trust_test_util.hpp"

namespace vmd::trust {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kIdentity = "quay.io/ns/app:1";
// Cases run side by side: most of skopeo's time is spent waiting on gpg.
constexpr std::size_t kParallel = 3;

const std::string& manifest() {
    static const std::string bytes = testing::read_file(
        testing::test_data_dir() / "containers-image-gpg" / "image.manifest.json");
    return bytes;
}

std::string payload(std::string_view critical_image = "",
                    std::string_view optional = R"({"creator":"c","timestamp":1})") {
    std::string image(critical_image);
    if (image.empty()) {
        image =
            R"({"docker-manifest-digest":)" + json::quote(testing::sha256_digest(manifest())) + "}";
    }
    return R"({"critical":{"identity":{"docker-reference":)" + json::quote(kIdentity) +
           R"(},"image":)" + image + R"(,"type":"atomic container signature"},"optional":)" +
           std::string(optional) + "}";
}

struct Case {
    std::string name;
    std::vector<fs::path> key_files;
    std::string message;
    std::string allowed_difference;  // non-empty: skopeo may refuse what the daemon accepts, or
                                     // the reverse, for this documented reason
};

// The requirement both deciders evaluate; exactReference, since a dir: image has no name.
std::string requirement(const std::vector<fs::path>& key_files) {
    std::string paths;
    for (const auto& file : key_files) {
        paths += (paths.empty() ? "" : ",") + json::quote(file.string());
    }
    return R"([{"type":"signedBy","keyType":"GPGKeys","keyPaths":[)" + paths +
           R"(],"signedIdentity":{"type":"exactReference","dockerReference":)" +
           json::quote(kIdentity) + "}}]";
}

struct Verdict {
    bool accepted = false;
    std::string why;
};

Verdict skopeo_verdict(const Case& c, const fs::path& dir) {
    fs::create_directories(dir / "img");
    testing::write_file(dir / "img" / "manifest.json", manifest());
    testing::write_file(dir / "img" / "signature-1", c.message);
    testing::write_file(dir / "policy.json",
                        R"({"default":[{"type":"reject"}],"transports":{"dir":{"":)" +
                            requirement(c.key_files) + "}}}");
    auto result = testing::run({"skopeo", "--policy", (dir / "policy.json").string(), "copy",
                                "dir:" + (dir / "img").string(), "dir:" + (dir / "out").string()});
    // The manifest names layer blobs the image does not have: copying starts only on acceptance.
    return {result.err.find("reading blob") != std::string::npos, result.err};
}

Verdict daemon_verdict(const Case& c) {
    auto policy = Policy::parse(test::docker_policy(R"("quay.io/ns":)" + requirement(c.key_files)));
    std::vector<std::string> signatures = {c.message};
    try {
        evaluate(policy, parse_docker_reference(kIdentity), manifest(), signatures,
                 SignatureLevel::Check);
        return {true, ""};
    } catch (const Error& e) {
        return {false, std::string(errc_name(e.code())) + ": " + e.message()};
    }
}

// Decides every case both ways and reports each disagreement not allowed.
void expect_agreement(const std::vector<Case>& cases) {
    ASSERT_TRUE(testing::have_program("skopeo")) << testing::missing_program("skopeo", "skopeo");
    testing::TempDir dir;
    std::vector<Verdict> skopeo(cases.size());
    for (std::size_t start = 0; start < cases.size(); start += kParallel) {
        std::vector<std::future<Verdict>> running;
        for (std::size_t i = start; i < std::min(cases.size(), start + kParallel); ++i) {
            running.push_back(std::async(std::launch::async, [&, i] {
                return skopeo_verdict(cases[i], dir.path() / std::to_string(i));
            }));
        }
        for (std::size_t i = start; i < start + running.size(); ++i) {
            skopeo[i] = running[i - start].get();
        }
    }
    std::size_t agreed = 0;
    for (std::size_t i = 0; i < cases.size(); ++i) {
        const auto& c = cases[i];
        auto ours = daemon_verdict(c);
        if (ours.accepted == skopeo[i].accepted) {
            ++agreed;
            continue;
        }
        if (!c.allowed_difference.empty()) {
            std::cout << "[ allowed  ] " << c.name << ": daemon "
                      << (ours.accepted ? "accepts" : "refuses") << ", skopeo "
                      << (skopeo[i].accepted ? "accepts" : "refuses") << " — "
                      << c.allowed_difference << "\n";
            continue;
        }
        ADD_FAILURE() << c.name << ": daemon " << (ours.accepted ? "accepts" : "refuses")
                      << ", skopeo " << (skopeo[i].accepted ? "accepts" : "refuses")
                      << "\n  daemon: " << ours.why << "\n  skopeo: " << skopeo[i].why;
    }
    std::cout << "[ skopeo   ] " << agreed << " of " << cases.size() << " cases decided alike\n";
}

TEST(SkopeoDifferential, GeneratedGpgCases) {
    testing::GpgCases generated(payload());
    std::vector<Case> cases;
    for (const auto& c : generated.cases()) {
        std::string allowed = c.stricter;
        if (c.name == "subkey") {
            allowed =
                "a signing subkey's signature counts as its primary key's in containers/image "
                "(2025) and here; skopeo 1.9 refuses it";
        }
        cases.push_back({c.name, c.key_files, c.message, allowed});
        // The same message behind the "\0simple-signing\n" prefix is read the same way.
        if (c.name == "rsa3072") {
            cases.push_back({"rsa3072-prefixed", c.key_files,
                             std::string("\0simple-signing\n", 16) + c.message, ""});
        }
    }
    expect_agreement(cases);
}

TEST(SkopeoDifferential, PayloadStrictness) {
    testing::GpgHome home;
    auto key = home.generate_key("payloads <p@example.com>", "ed25519", "sign", "never");
    testing::TempDir dir;
    auto key_file = dir.path() / "key.gpg";
    testing::write_file(key_file, home.export_keys({key}, false));
    auto digest = testing::sha256_digest(manifest());
    auto image = [](std::string_view digest_value) {
        return R"({"docker-manifest-digest":)" + json::quote(digest_value) + "}";
    };
    const std::string critical = R"("critical":{"identity":{"docker-reference":")" +
                                 std::string(kIdentity) +
                                 R"("},"image":{"docker-manifest-digest":")" + digest +
                                 R"("},"type":"atomic container signature"})";
    const std::vector<std::pair<std::string, std::string>> payloads = {
        {"baseline", payload()},
        {"optional-empty", payload("", "{}")},
        {"optional-missing", "{" + critical + "}"},
        {"optional-null", payload("", "null")},
        {"optional-array", payload("", "[]")},
        {"creator-null", payload("", R"({"creator":null})")},
        {"creator-number", payload("", R"({"creator":1})")},
        {"timestamp-null", payload("", R"({"timestamp":null})")},
        {"timestamp-fraction", payload("", R"({"timestamp":1.5})")},
        {"timestamp-whole-float", payload("", R"({"timestamp":1.0})")},
        {"timestamp-exponent", payload("", R"({"timestamp":1e3})")},
        {"timestamp-string", payload("", R"({"timestamp":"1"})")},
        {"timestamp-2^63", payload("", R"({"timestamp":9223372036854775807})")},
        {"timestamp-negative", payload("", R"({"timestamp":-1})")},
        {"optional-duplicate-key", payload("", R"({"creator":"a","creator":"b"})")},
        {"optional-other-keys", payload("", R"({"x":[1,{"y":null}],"z":"w"})")},
        {"optional-nested-duplicate", payload("", R"({"x":{"d":1,"d":2}})")},
        {"top-extra-key", "{" + critical + R"(,"optional":{},"extra":1})"},
        {"top-duplicate-key", "{" + critical + "," + critical + R"(,"optional":{}})"},
        {"critical-extra-key",
         R"({"critical":{"identity":{"docker-reference":")" + std::string(kIdentity) +
             R"("},"image":{"docker-manifest-digest":")" + digest +
             R"("},"type":"atomic container signature","x":1},"optional":{}})"},
        {"critical-missing-type",
         R"({"critical":{"identity":{"docker-reference":")" + std::string(kIdentity) +
             R"("},"image":{"docker-manifest-digest":")" + digest + R"("}},"optional":{}})"},
        {"type-cosign", R"({"critical":{"identity":{"docker-reference":")" +
                            std::string(kIdentity) + R"("},"image":{"docker-manifest-digest":")" +
                            digest +
                            R"("},"type":"cosign container image signature"},"optional":{}})"},
        {"image-extra-key", payload(R"({"docker-manifest-digest":")" + digest + R"(","x":1})")},
        {"digest-sha512", payload(image([] {
             std::array<unsigned char, 64> hash{};
             unsigned int size = 0;
             EVP_Digest(manifest().data(), manifest().size(), hash.data(), &size, EVP_sha512(),
                        nullptr);
             return "sha512:" + fmt::format("{:02x}", fmt::join(hash, ""));
         }()))},
        {"digest-uppercase", payload(image("sha256:" +
                                           [&] {
                                               auto hex = digest.substr(7);
                                               for (auto& ch : hex) {
                                                   ch = static_cast<char>(std::toupper(ch));
                                               }
                                               return hex;
                                           }()))},
        {"digest-other-manifest", payload(image(testing::sha256_digest("other")))},
        {"identity-other-tag",
         R"({"critical":{"identity":{"docker-reference":"quay.io/ns/app:2"},"image":{"docker-manifest-digest":")" +
             digest + R"("},"type":"atomic container signature"},"optional":{}})"},
        {"trailing-garbage", payload() + " x"},
        {"not-json", "This is not JSON"},
    };
    std::vector<Case> cases;
    for (const auto& [name, text] : payloads) {
        cases.push_back({name, {key_file}, home.sign(text, {key}, {}), ""});
    }
    expect_agreement(cases);
}

}  // namespace
}  // namespace vmd::trust
