// libFuzzer target: the sigstore simple-signing payload (trust::parse_sigstore_payload) and
// the identity check its docker-reference goes through next.
#include <array>

#include "fuzz_support.hpp"
#include "trust/policy/identity.hpp"
#include "trust/sigstore/format.hpp"

namespace {

using vmd::Errc;
namespace trust = vmd::trust;
using Kind = trust::SignedIdentity::Kind;

std::array<trust::SignedIdentity, 6> identities() {
    auto ref = trust::parse_docker_reference("quay.io/ns/repo:1.0");
    return {{
        {Kind::MatchRepoDigestOrExact, {}, "", ""},
        {Kind::MatchExact, {}, "", ""},
        {Kind::MatchRepository, {}, "", ""},
        {Kind::ExactReference, ref, "", ""},
        {Kind::ExactRepository, ref, "", ""},
        {Kind::RemapIdentity, {}, "docker.io/library", "quay.io/ns"},
    }};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const auto kIdentities = identities();
    static const auto kIntended = trust::parse_docker_reference("busybox");
    auto text = vmd::fuzz::as_text(data, size);
    vmd::fuzz::run(text, {Errc::SignatureInvalid}, [&] {
        auto payload = trust::parse_sigstore_payload(text);
        for (const auto& identity : kIdentities) {
            auto reason = trust::identity_mismatch(identity, kIntended, payload.docker_reference);
            // The reason becomes part of a SignatureInvalid message.
            vmd::fuzz::check(vmd::fuzz::is_utf8(reason) && !vmd::fuzz::has_control(reason),
                             "identity_mismatch reason is UTF-8 without raw control characters");
        }
    });
    return 0;
}
