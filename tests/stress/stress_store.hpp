// The store the stress tests run against: two good images to mount, and one image for each
// refusal a store or a policy can cause, each with exactly one thing wrong. Every layer carries a
// nonce of the run, so that no layer is shared with another image (a defect stays in its image)
// or with another test on this machine (a loop device serving one of these blobs is ours).
#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <string_view>

#include "fixtures/store_builder.hpp"
#include "stress/stress_bus.hpp"

namespace vmd::testing::stress {

/// The images of the store, in store order.
enum class Role {
    Good,          // two layers, signed: mounts
    Other,         // three layers, signed: mounts
    Unsigned,      // SignatureRequired
    WrongKey,      // SignatureInvalid (signed by a key the policy does not hold)
    NoAnnotation,  // VerityMissing (a layer without its composefs digest)
    BlobFlipped,   // VerityMismatch (one byte of a blob changed)
    NotErofs,      // verifies, but MountFailed: the signed digest is that of a broken EROFS image
    Incomplete,    // StorageCorrupt (a layer flagged incomplete)
    Rejected,      // PolicyRejected (its scope says reject)
    BadKey,        // PolicyInvalid (its scope's key file holds no key)
};
inline constexpr std::array kRoles = {
    Role::Good,        Role::Other,    Role::Unsigned,   Role::WrongKey, Role::NoAnnotation,
    Role::BlobFlipped, Role::NotErofs, Role::Incomplete, Role::Rejected, Role::BadKey};

/// The image's index in the store.
inline std::size_t index_of(Role role) {
    return static_cast<std::size_t>(role);
}
/// Its name, e.g. "quay.io/stress/good:v1".
std::string image_name(Role role);
/// The content of /etc/stress-id in its rootfs.
std::string stress_id(std::string_view nonce, Role role);
/// The container of `role` (Good or Other) that client `client` owns.
std::string container_name(Role role, std::size_t client);
/// The full D-Bus error name a Mount (or Verify) of the image of `role` at verity=digest gets;
/// "" for success.
std::string expected_error(Role role, bool mount);
/// The policy scope that decides for the image of `role`.
std::string policy_scope(Role role);

/// The images of the first `roles` entries of kRoles (all by default) with the run's nonce, and
/// containers of Good and Other for `clients` clients. Signature level require, verity off
/// (requests raise it).
StoreSpec stress_store_spec(std::string_view nonce, std::size_t clients,
                            std::size_t roles = kRoles.size());
/// Gives each refusal image its defect and writes the policy; call once, on a built store of
/// every role.
void damage_store(BuiltStore& store);

/// "" when `report` is what a successful call for `image` (asked for by `requested`, an image
/// name or ID) at `verity` must report; otherwise what differs.
std::string report_mismatch(const ReportInfo& report, const BuiltImage& image,
                            std::string_view requested, std::string_view verity);

/// Full error name from the short one ("Busy" -> "io.containers.VerityMount1.Error.Busy").
std::string error_name(std::string_view short_name);

/// Bound loop devices that serve a blob of `store` (backing file in the store, or a memfd with
/// the same bytes as one of its blobs), described for a failure message.
std::vector<std::string> loops_serving(const BuiltStore& store);

}  // namespace vmd::testing::stress
