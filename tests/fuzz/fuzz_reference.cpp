// libFuzzer target: docker references (trust::parse_docker_reference), as they come from
// requests, images.json names and signed payload identities.
#include "fuzz_support.hpp"
#include "trust/policy/policy_data.hpp"
#include "trust/policy/reference.hpp"

namespace {

using vmd::Errc;
using vmd::fuzz::check;
namespace trust = vmd::trust;

void check_parsed(const trust::DockerReference& ref, bool default_tag) {
    check(!ref.domain.empty() && !ref.path.empty(), "domain and path are non-empty");
    check(!default_tag || !ref.name_only(), "a default tag is added to a name-only reference");
    // The normalised form is a fixed point: the policy look-up and the identity check compare
    // strings built from it.
    auto again = trust::parse_docker_reference(ref.string(), default_tag);
    check(again == ref, "parse(ref.string()) == ref");
    // Every scope candidate is a scope a policy.json could name.
    for (const auto& scope : trust::docker_scope_candidates(ref)) {
        check(trust::valid_docker_scope(scope), "each docker_scope_candidate is a valid scope");
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto text = vmd::fuzz::as_text(data, size);
    for (bool default_tag : {true, false}) {
        vmd::fuzz::run(text, {Errc::InvalidArgument}, [&] {
            check_parsed(trust::parse_docker_reference(text, default_tag), default_tag);
        });
    }
    return 0;
}
