#include <gtest/gtest.h>

#include <string>

#include "common/error.hpp"
#include "trust/policy/reference.hpp"

namespace vmd::trust {
namespace {

const std::string kHex(64, 'a');

struct ValidCase {
    std::string input;
    bool default_tag;
    std::string domain, path, tag, digest;
};

class ValidReference : public ::testing::TestWithParam<ValidCase> {};

TEST_P(ValidReference, NormalisesLikeContainersImage) {
    const auto& c = GetParam();
    auto ref = parse_docker_reference(c.input, c.default_tag);
    EXPECT_EQ(ref.domain, c.domain);
    EXPECT_EQ(ref.path, c.path);
    EXPECT_EQ(ref.tag, c.tag);
    EXPECT_EQ(ref.digest, c.digest);
    // The normalised form parses to itself.
    EXPECT_EQ(parse_docker_reference(ref.string(), c.default_tag), ref);
}

INSTANTIATE_TEST_SUITE_P(
    Table, ValidReference,
    ::testing::Values(
        ValidCase{"busybox", true, "docker.io", "library/busybox", "latest", ""},
        ValidCase{"busybox", false, "docker.io", "library/busybox", "", ""},
        ValidCase{"library/busybox:1.36", true, "docker.io", "library/busybox", "1.36", ""},
        ValidCase{"docker.io/busybox", true, "docker.io", "library/busybox", "latest", ""},
        ValidCase{"index.docker.io/busybox", true, "docker.io", "library/busybox", "latest", ""},
        ValidCase{"index.docker.io/user/app:v1", true, "docker.io", "user/app", "v1", ""},
        ValidCase{"user/app", true, "docker.io", "user/app", "latest", ""},
        ValidCase{"quay.io/ns/repo:tag", true, "quay.io", "ns/repo", "tag", ""},
        ValidCase{"quay.io/a/b/c/d", false, "quay.io", "a/b/c/d", "", ""},
        ValidCase{"localhost/app", true, "localhost", "app", "latest", ""},
        ValidCase{"localhost:5000/app:dev", true, "localhost:5000", "app", "dev", ""},
        ValidCase{"localhost:5000", true, "docker.io", "library/localhost", "5000", ""},
        ValidCase{"192.168.64.2:5000/cosign-signed-single-sample", false, "192.168.64.2:5000",
                  "cosign-signed-single-sample", "", ""},
        ValidCase{"[::1]:5000/app", true, "[::1]:5000", "app", "latest", ""},
        ValidCase{"Registry.Example.com/app", true, "Registry.Example.com", "app", "latest", ""},
        ValidCase{"example.com/a.b_c__d-e---f", true, "example.com", "a.b_c__d-e---f", "latest",
                  ""},
        ValidCase{"example.com/app@sha256:" + kHex, true, "example.com", "app", "",
                  "sha256:" + kHex},
        ValidCase{"example.com/app:v1@sha256:" + kHex, true, "example.com", "app", "v1",
                  "sha256:" + kHex},
        ValidCase{"busybox@sha512:" + std::string(128, '0'), true, "docker.io", "library/busybox",
                  "", "sha512:" + std::string(128, '0')},
        ValidCase{"example.com/app:" + std::string(128, 'T'), true, "example.com", "app",
                  std::string(128, 'T'), ""},
        ValidCase{"example.com/app:_x.Y-1", true, "example.com", "app", "_x.Y-1", ""}));

struct InvalidCase {
    std::string input;
    std::string names;  // a fragment the message must contain
};

class InvalidReference : public ::testing::TestWithParam<InvalidCase> {};

TEST_P(InvalidReference, IsInvalidArgumentNamingThePart) {
    const auto& c = GetParam();
    try {
        parse_docker_reference(c.input);
        FAIL() << "accepted " << c.input;
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), Errc::InvalidArgument);
        EXPECT_NE(e.message().find(c.names), std::string::npos) << e.message();
    }
}

INSTANTIATE_TEST_SUITE_P(
    Table, InvalidReference,
    ::testing::Values(
        InvalidCase{"", "empty"}, InvalidCase{kHex, "image ID"},
        InvalidCase{"Busybox", "lowercase"}, InvalidCase{"quay.io/NS/repo", "\"NS/repo\""},
        InvalidCase{"example.com/app:", "tag"}, InvalidCase{"example.com/app:.x", "\".x\""},
        InvalidCase{"example.com/app:-x", "\"-x\""},
        InvalidCase{"example.com/app:" + std::string(129, 'a'), "tag"},
        InvalidCase{"example.com/app@sha256:abc", "digest"},
        InvalidCase{"example.com/app@sha256:" + std::string(64, 'A'), "digest"},
        InvalidCase{"example.com/app@md5:" + std::string(32, 'a'), "md5"},
        InvalidCase{"example.com/app@", "digest"}, InvalidCase{"example.com/", "path components"},
        InvalidCase{"example.com//app", "path components"},
        InvalidCase{"example.com/-app", "\"-app\""}, InvalidCase{"example.com/app_", "\"app_\""},
        InvalidCase{"example.com/a___b", "\"a___b\""}, InvalidCase{"example.com/a..b", "\"a..b\""},
        InvalidCase{"example.com/a b", "\"a b\""}, InvalidCase{"-bad.com/app", "registry host"},
        InvalidCase{"bad.com:port/app", "registry host"},
        InvalidCase{"exa_mple.com/app", "registry host"},
        InvalidCase{"example.com/" + std::string(244, 'a'), "at most 255"},
        InvalidCase{std::string(246, 'a'), "at most 255"}));

TEST(DockerReference, NameLengthLimitCountsTheNormalisedName) {
    // "docker.io/library/" + 237 = 255: the longest accepted short name.
    EXPECT_NO_THROW(parse_docker_reference(std::string(237, 'a')));
    EXPECT_THROW(parse_docker_reference(std::string(238, 'a')), Error);
}

TEST(DockerReference, StringAndRepository) {
    auto ref = parse_docker_reference("quay.io/ns/repo:v2@sha256:" + kHex);
    EXPECT_EQ(ref.repository(), "quay.io/ns/repo");
    EXPECT_EQ(ref.string(), "quay.io/ns/repo:v2@sha256:" + kHex);
    EXPECT_FALSE(ref.name_only());
    EXPECT_TRUE(parse_docker_reference("quay.io/ns/repo", false).name_only());
}

}  // namespace
}  // namespace vmd::trust
