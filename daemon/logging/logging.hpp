// Where the daemon's log lines and audit records go: the journal under systemd, else stderr.
#pragma once

#include <optional>
#include <string_view>

#include <spdlog/common.h>

namespace vmd::logging {

/// True when JOURNAL_STREAM names the device and inode of our stderr (systemd's rule).
bool stderr_is_journal();

/// Parses trace|debug|info|warn|error; nullopt for anything else.
std::optional<spdlog::level::level_enum> parse_level(std::string_view text);

/// Sets spdlog's default logger (journald sink or stderr) and, for the journal, an audit sink
/// that writes each record's fields as structured journal fields.
void setup(spdlog::level::level_enum level, bool to_journal);

}  // namespace vmd::logging
