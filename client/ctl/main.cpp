// verity-mountctl: the command-line client of verity-mountd (DESIGN §9).
#include <fmt/format.h>
#include <cstdio>
#include <string_view>
#include <vector>

#include "client/ctl/args.hpp"
#include "client/ctl/commands.hpp"

// sdbus-c++ 1.2.0 does not free its sd_bus when connecting to an address fails. The process exits
// right after, but sanitizer builds would report it; the suppression is read only by LeakSanitizer.
extern "C" const char* __lsan_default_suppressions() {  // NOLINT(bugprone-reserved-identifier)
    return "leak:libsystemd.so.0\n";
}

int main(int argc, char** argv) {
    using namespace vmd::ctl;
    std::vector<std::string_view> args(argv + (argc > 0 ? 1 : 0), argv + argc);
    auto parsed = parse_args(args);
    if (const auto* error = std::get_if<UsageError>(&parsed)) {
        fmt::print(stderr, "verity-mountctl: {}\nTry 'verity-mountctl {}--help'.\n", error->message,
                   error->command ? fmt::format("{} ", command_name(*error->command)) : "");
        return kExitUsage;
    }
    const auto& invocation = std::get<Invocation>(parsed);
    if (invocation.help) {
        fmt::print(stdout, "{}", usage_text(invocation.command));
        return kExitOk;
    }
    return run_command(invocation, stdout, stderr);
}
