// Running a parsed verity-mountctl command: the only part of the program that does I/O.
#pragma once

#include <cstdio>

#include "client/ctl/args.hpp"

namespace vmd::ctl {

/// verity-mountctl's exit statuses (DESIGN §9).
enum ExitStatus : int {
    kExitOk = 0,
    /// The daemon refused, or a local step (reading a file, attaching the mount) failed.
    kExitRefused = 1,
    kExitUsage = 2,
    kExitUnreachable = 3,
};

/// Runs `invocation` (not a --help one), printing results to `out` and diagnostics to `err`.
/// Returns the exit status.
int run_command(const Invocation& invocation, std::FILE* out, std::FILE* err);

}  // namespace vmd::ctl
