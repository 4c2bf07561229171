// verity-mountctl's command line (DESIGN §9) as data: argv in, a parsed invocation or a usage
// error out. No I/O here.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "client/verity_mount_client.hpp"

namespace vmd::ctl {

/// The commands of verity-mountctl.
enum class Command { Mount, Verify, Status, Digest };

/// The command's name as typed ("mount").
std::string_view command_name(Command command);

/// A well-formed command line.
struct Invocation {
    /// nullopt only for `verity-mountctl --help` without a command.
    std::optional<Command> command;
    /// --help / -h: print the usage of `command` and do nothing else.
    bool help = false;
    /// --json: machine-readable output.
    bool json = false;
    /// --address ADDR (as for `busctl --address`); nullopt = the system bus.
    std::optional<std::string> address;
    /// mount/verify: the image ID, ID prefix or name.
    std::string image;
    /// mount: the container ID or name, "" for the image alone.
    std::string container;
    /// mount: the directory to attach the mount on.
    std::string target;
    /// mount/verify: what to ask for; verify never sets the mount flags.
    client::MountOptions options;
    /// digest: the files, in the order given.
    std::vector<std::string> files;

    bool operator==(const Invocation&) const = default;
};

/// A malformed command line: exit status 2.
struct UsageError {
    /// One line saying what is wrong, e.g. "mount: missing --target DIR".
    std::string message;
    /// The command the line was for, when known, to point at its --help.
    std::optional<Command> command;
};

/// Parses the arguments after argv[0]. Options may come before or after the positionals, as
/// "--name value" or "--name=value"; "--" ends the options.
std::variant<Invocation, UsageError> parse_args(std::span<const std::string_view> args);

/// The --help text of `command`, or of the whole program for nullopt.
std::string usage_text(std::optional<Command> command);

}  // namespace vmd::ctl
