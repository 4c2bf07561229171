#include "client/ctl/args.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <utility>

namespace vmd::ctl {
namespace {

enum class Opt { Help, Json, Address, Target, Readonly, Nodev, Nosuid, Signature, Verity };

constexpr std::uint8_t bit(Command command) {
    return static_cast<std::uint8_t>(1U << static_cast<unsigned>(command));
}
constexpr std::uint8_t kAll = 0xf;
constexpr std::uint8_t kMount = bit(Command::Mount);
constexpr std::uint8_t kChecks = bit(Command::Mount) | bit(Command::Verify);

struct OptionSpec {
    std::string_view name;  // without the leading "--"
    Opt opt;
    bool takes_value;
    std::uint8_t commands;  // bit(Command) of each command that accepts it
};

constexpr std::array<OptionSpec, 9> kOptions = {{
    {"help", Opt::Help, false, kAll},
    {"json", Opt::Json, false, kAll},
    {"address", Opt::Address, true, kAll},
    {"target", Opt::Target, true, kMount},
    {"readonly", Opt::Readonly, false, kMount},
    {"nodev", Opt::Nodev, false, kMount},
    {"nosuid", Opt::Nosuid, false, kMount},
    {"signature", Opt::Signature, true, kChecks},
    {"verity", Opt::Verity, true, kChecks},
}};

constexpr std::array<std::pair<std::string_view, Command>, 4> kCommands = {{
    {"mount", Command::Mount},
    {"verify", Command::Verify},
    {"status", Command::Status},
    {"digest", Command::Digest},
}};

const OptionSpec* find_option(std::string_view name) {
    for (const auto& spec : kOptions) {
        if (spec.name == name) {
            return &spec;
        }
    }
    return nullptr;
}

std::optional<Command> find_command(std::string_view name) {
    for (const auto& [text, command] : kCommands) {
        if (text == name) {
            return command;
        }
    }
    return std::nullopt;
}

struct Given {
    const OptionSpec* spec;
    std::string value;
};

// The command line split into options and positionals, before the command is known.
struct Scan {
    std::vector<Given> options;
    std::vector<std::string> positionals;
    bool help = false;
    std::optional<std::string> error;  // the first malformed token

    void fail(std::string message) {
        if (!error) {
            error = std::move(message);
        }
    }
};

Scan scan(std::span<const std::string_view> args) {
    Scan out;
    bool options_ended = false;
    for (std::size_t i = 0; i < args.size(); ++i) {
        std::string_view arg = args[i];
        if (options_ended || arg == "-" || !arg.starts_with('-')) {
            out.positionals.emplace_back(arg);
        } else if (arg == "--") {
            options_ended = true;
        } else if (arg == "-h") {
            out.help = true;
        } else if (!arg.starts_with("--")) {
            out.fail(fmt::format("unknown option {}", arg));
        } else {
            std::string_view name = arg.substr(2);
            std::optional<std::string_view> value;
            if (auto eq = name.find('='); eq != std::string_view::npos) {
                value = name.substr(eq + 1);
                name = name.substr(0, eq);
            }
            const OptionSpec* spec = find_option(name);
            if (spec == nullptr) {
                out.fail(fmt::format("unknown option --{}", name));
                continue;
            }
            if (!spec->takes_value && value) {
                out.fail(fmt::format("--{} takes no value", name));
                continue;
            }
            if (spec->takes_value && !value) {
                // A following option is a forgotten value, not a value that looks like one.
                if (i + 1 == args.size() || args[i + 1].starts_with("--")) {
                    out.fail(fmt::format("--{} needs a value", name));
                    continue;
                }
                value = args[++i];
            }
            if (spec->opt == Opt::Help) {
                out.help = true;
            }
            out.options.push_back({spec, std::string(value.value_or(""))});
        }
    }
    return out;
}

UsageError usage(Command command, std::string message) {
    return UsageError{fmt::format("{}: {}", command_name(command), message), command};
}

// Applies one option to the invocation; returns an error message when its value is bad.
std::optional<std::string> apply(Invocation& inv, const Given& given) {
    const std::string& value = given.value;
    switch (given.spec->opt) {
        case Opt::Help:
            break;
        case Opt::Json:
            inv.json = true;
            break;
        case Opt::Address:
            if (value.empty()) {
                return "--address: expected an address such as unix:path=/run/x, found \"\"";
            }
            inv.address = value;
            break;
        case Opt::Target:
            if (value.empty()) {
                return "--target: expected a directory, found \"\"";
            }
            inv.target = value;
            break;
        case Opt::Readonly:
            inv.options.readonly = true;
            break;
        case Opt::Nodev:
            inv.options.nodev = true;
            break;
        case Opt::Nosuid:
            inv.options.nosuid = true;
            break;
        case Opt::Signature:
            if (value == "off" || value == "check" || value == "require") {
                inv.options.signature = parse_signature_level(value);
                break;
            }
            return fmt::format("--signature: expected off, check or require, found \"{}\"", value);
        case Opt::Verity:
            if (value == "off" || value == "digest" || value == "enforce") {
                inv.options.verity = parse_verity_level(value);
                break;
            }
            return fmt::format("--verity: expected off, digest or enforce, found \"{}\"", value);
    }
    return std::nullopt;
}

// Checks the number of positionals (after the command's name) and stores them.
std::optional<std::string> take_positionals(Invocation& inv, std::span<const std::string> rest) {
    switch (*inv.command) {
        case Command::Mount:
            if (rest.empty() || rest.size() > 2) {
                return fmt::format("expected IMAGE [CONTAINER], found {} arguments", rest.size());
            }
            inv.image = rest[0];
            inv.container = rest.size() == 2 ? rest[1] : "";
            if (inv.target.empty()) {
                return "missing --target DIR";
            }
            break;
        case Command::Verify:
            if (rest.size() != 1) {
                return fmt::format("expected IMAGE, found {} arguments", rest.size());
            }
            inv.image = rest[0];
            break;
        case Command::Status:
            if (!rest.empty()) {
                return fmt::format("expected no arguments, found {}", rest.size());
            }
            break;
        case Command::Digest:
            if (rest.empty()) {
                return "expected FILE..., found no file";
            }
            inv.files.assign(rest.begin(), rest.end());
            break;
    }
    if (inv.command == Command::Mount || inv.command == Command::Verify) {
        if (inv.image.empty()) {
            return "IMAGE: expected an image ID, ID prefix or name, found \"\"";
        }
    }
    return std::nullopt;
}

}  // namespace

std::string_view command_name(Command command) {
    for (const auto& [text, value] : kCommands) {
        if (value == command) {
            return text;
        }
    }
    return "?";
}

std::variant<Invocation, UsageError> parse_args(std::span<const std::string_view> args) {
    Scan scanned = scan(args);
    Invocation inv;
    inv.help = scanned.help;
    if (scanned.positionals.empty()) {
        if (scanned.help) {
            return inv;
        }
        return UsageError{scanned.error.value_or("missing COMMAND (mount, verify, status, digest)"),
                          std::nullopt};
    }
    inv.command = find_command(scanned.positionals.front());
    if (!inv.command) {
        return UsageError{fmt::format("unknown command \"{}\": expected mount, verify, status or "
                                      "digest",
                                      scanned.positionals.front()),
                          std::nullopt};
    }
    const Command command = *inv.command;
    if (scanned.help) {
        return inv;
    }
    if (scanned.error) {
        return usage(command, *scanned.error);
    }

    std::vector<Opt> seen;
    for (const auto& given : scanned.options) {
        if ((given.spec->commands & bit(command)) == 0) {
            return usage(command,
                         fmt::format("--{} does not apply to this command", given.spec->name));
        }
        if (given.spec->takes_value) {
            if (std::find(seen.begin(), seen.end(), given.spec->opt) != seen.end()) {
                return usage(command, fmt::format("--{} given twice", given.spec->name));
            }
            seen.push_back(given.spec->opt);
        }
        if (auto error = apply(inv, given)) {
            return usage(command, *std::move(error));
        }
    }
    std::span<const std::string> rest(scanned.positionals);
    if (auto error = take_positionals(inv, rest.subspan(1))) {
        return usage(command, *std::move(error));
    }
    return inv;
}

}  // namespace vmd::ctl
