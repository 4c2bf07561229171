// The --help texts of verity-mountctl.
#include <fmt/format.h>

#include "client/ctl/args.hpp"

namespace vmd::ctl {
namespace {

constexpr std::string_view kCommon = R"(
Common options:
  --address ADDR   talk to the daemon at ADDR, as for busctl --address
                   (default: the system bus)
  --json           print the result as JSON
  -h, --help       print this help

Exit status: 0 ok, 1 refused by the daemon (or the local step failed),
2 usage error, 3 the daemon cannot be reached.
)";

constexpr std::string_view kLevels = R"(  --signature L    signature check: off, check or require
  --verity L       fs-verity check: off, digest or enforce
                   (a request can only make the configured checks stricter)
)";

}  // namespace

std::string usage_text(std::optional<Command> command) {
    if (!command) {
        return fmt::format(R"(Usage: verity-mountctl [--address ADDR] COMMAND [ARGS] [OPTIONS]

Asks verity-mountd to verify container images and hand out verified mounts.

Commands:
  mount IMAGE [CONTAINER] --target DIR   verify, mount and attach on DIR
  verify IMAGE                           verify without mounting
  status                                 the daemon's version, kernel and config
  digest FILE...                         fs-verity digests, computed locally

Run 'verity-mountctl COMMAND --help' for a command's options.
{})",
                           kCommon);
    }
    switch (*command) {
        case Command::Mount:
            return fmt::format(
                R"(Usage: verity-mountctl mount IMAGE [CONTAINER] --target DIR [OPTIONS]

Verifies IMAGE (an image ID, a unique ID prefix, or a name) and attaches the
verified overlay mount on DIR; with CONTAINER, its upper and work dirs are used.

  --target DIR     the directory to attach the mount on (required)
  --readonly       mount read-only
  --nodev          do not allow device nodes
  --nosuid         ignore set-user-ID and set-group-ID bits
{}{})",
                kLevels, kCommon);
        case Command::Verify:
            return fmt::format(R"(Usage: verity-mountctl verify IMAGE [OPTIONS]

Runs the checks of 'mount' on IMAGE without mounting anything.

{}{})",
                               kLevels, kCommon);
        case Command::Status:
            return fmt::format(R"(Usage: verity-mountctl status [OPTIONS]

Prints the daemon's version, the kernel features it probed, its effective
configuration and its request counters.
{})",
                               kCommon);
        case Command::Digest:
            return fmt::format(R"(Usage: verity-mountctl digest FILE... [OPTIONS]

Computes the fs-verity digest (SHA-256, 4096-byte blocks, no salt) of each
FILE locally, on every core, and prints "sha256:<hex>  FILE" lines.
--address is accepted and ignored: no daemon is involved.
{})",
                               kCommon);
    }
    return {};
}

}  // namespace vmd::ctl
