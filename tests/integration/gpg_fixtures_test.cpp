// containers/image's GPG simple-signing fixtures over the bus: a store whose image carries each
// fixture's manifest and signatures, the real daemon on a private dbus-daemon deciding. Each
// gives the outcome tests/data/containers-image-gpg/README.md states.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "daemon_env.hpp"
#include "fixtures/sample_images.hpp"
#include "fixtures/store_files.hpp"

namespace vmd::testing {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kName = "testing/manifest:latest";
constexpr std::string_view kMatchRepository = R"({"type":"matchRepository"})";

fs::path gpg_fixture(std::string_view name) {
    return test_data_dir() / "containers-image-gpg" / name;
}

struct BusCase {
    std::string image;     // a dir-img-* directory, or a *.signature file over image.manifest.json
    std::string key;       // keyPath
    std::string identity;  // signedIdentity JSON; "" = default
    std::optional<std::string> error;  // nullopt: accepted
    std::string says;
};

// Puts the fixture's manifest (none for dir-img-no-manifest) and signatures in the store.
void store_fixture(const BuiltStore& store, const std::string& image) {
    std::string manifest;
    std::vector<std::string> signatures;
    if (image.starts_with("dir-img-")) {
        auto dir = gpg_fixture(image);
        if (fs::exists(dir / "manifest.json")) {
            manifest = read_file(dir / "manifest.json");
        }
        for (int i = 1; fs::exists(dir / ("signature-" + std::to_string(i))); ++i) {
            signatures.push_back(read_file(dir / ("signature-" + std::to_string(i))));
        }
    } else {
        manifest = read_file(gpg_fixture("image.manifest.json"));
        signatures.push_back(read_file(gpg_fixture(image)));
    }
    const auto& id = store.image().id;
    replace_manifest(store.paths.store, id, manifest.empty() ? "{}" : manifest);
    if (manifest.empty()) {
        remove_big_data(store.paths.store, id, "manifest");
    }
    set_signatures(store.paths.store, id, signatures);
}

void write_policy(const BuiltStore& store, const std::string& key, const std::string& identity) {
    write_file(store.paths.policy,
               R"({"default":[{"type":"reject"}],"transports":{"docker":{"docker.io/testing":[)"
               R"({"type":"signedBy","keyType":"GPGKeys","keyPath":")" +
                   gpg_fixture(key).string() + "\"" +
                   (identity.empty() ? "" : R"(,"signedIdentity":)" + identity) + "}]}}}");
}

TEST(GpgFixturesOverTheBus, GiveTheDocumentedOutcome) {
    StoreSpec spec = sample_store();
    spec.images = {sample_image("docker.io/testing/manifest:latest")};
    // The fixtures' manifests carry no composefs annotations: verity off, so that Verify decides
    // on the signatures alone (Mount needs an annotated OCI manifest at every level).
    DaemonEnv env(spec, {{"signature", "\"check\""}, {"verity", "\"off\""}});
    const std::string repository(kMatchRepository);
    const std::vector<BusCase> cases = {
        {"image.signature", "public-key.gpg", repository, std::nullopt, ""},
        {"image.signature", "public-key.gpg", "", "SignatureInvalid",
         R"(identity "testing/manifest" does not match "docker.io/testing/manifest:latest")"},
        {"no-optional-fields.signature", "public-key.gpg", repository, std::nullopt, ""},
        {"dir-img-valid", "public-key.gpg", "", std::nullopt, ""},
        {"dir-img-valid", "pubring.gpg", "", std::nullopt, ""},
        {"subkey.signature", "public-key-with-subkey.gpg", "", std::nullopt, ""},
        {"subkey.signature-v3", "public-key-with-subkey.gpg", "", std::nullopt, ""},
        {"dir-img-valid-subkey", "public-key-with-subkey.gpg", "", std::nullopt, ""},
        {"expired.signature", "public-key.gpg", repository, "SignatureInvalid", "expired"},
        {"corrupt.signature", "public-key.gpg", repository, "SignatureInvalid", "signature 1: "},
        {"corrupt.signature-v3", "public-key.gpg", repository, "SignatureInvalid", "signature 1: "},
        {"unknown-key.signature", "public-key.gpg", repository, "SignatureInvalid",
         "signature 1: "},
        {"unknown-key.signature-v3", "public-key.gpg", repository, "SignatureInvalid",
         "signature 1: "},
        {"unsigned-literal.signature", "public-key.gpg", repository, "SignatureInvalid",
         "expected exactly one signature"},
        {"unsigned-encrypted.signature", "public-key.gpg", repository, "StorageCorrupt",
         "found first byte 0x84"},
        {"invalid-cleartext.signature", "public-key.gpg", repository, "StorageCorrupt",
         "found first byte 0x2d"},
        {"invalid-blob.signature", "public-key.gpg", repository, "SignatureInvalid",
         "simple-signing payload: expected valid JSON"},
        {"invalid-blob.signature-v3", "public-key.gpg", repository, "SignatureInvalid",
         "simple-signing payload: expected valid JSON"},
        {"invalid-reference.signature", "public-key.gpg", repository, "SignatureInvalid",
         "UPPERCASEISINVALID"},
        {"dir-img-modified-manifest", "public-key.gpg", "", "SignatureInvalid",
         "signed manifest digest"},
        {"dir-img-manifest-digest-error", "public-key.gpg", "", "SignatureInvalid",
         "signed manifest digest"},
        {"dir-img-unsigned", "public-key.gpg", "", "SignatureRequired",
         "expected at least one GPG simple-signing signature"},
        {"dir-img-no-manifest", "public-key.gpg", "", "StorageCorrupt", "manifest"},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.image + " with " + c.key + (c.identity.empty() ? "" : " " + c.identity));
        store_fixture(env.store(), c.image);
        write_policy(env.store(), c.key, c.identity);
        for (const auto* level : {"check", "require"}) {
            auto result = env.ctl({"verify", std::string(kName), "--signature", level});
            if (c.error) {
                expect_refused(result, *c.error, c.says);
            } else {
                EXPECT_EQ(result.exit_code, 0) << result.err;
                EXPECT_NE(result.out.find("docker.io/testing/manifest:latest"), std::string::npos)
                    << result.out;
            }
        }
    }
}

}  // namespace
}  // namespace vmd::testing
