#include "logging/logging.hpp"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/sinks/systemd_sink.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <systemd/sd-journal.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "service/audit.hpp"

namespace vmd::logging {
namespace {

// Structured audit record straight to the journal, one field per iovec.
void journal_audit(const service::AuditRecord& record) {
    auto fields = service::audit_fields(record);
    fields.emplace_back("PRIORITY", record.error == nullptr ? "6" : "4");
    fields.emplace_back("SYSLOG_IDENTIFIER", "verity-mountd");
    std::vector<std::string> lines;
    lines.reserve(fields.size());
    for (const auto& [key, value] : fields) {
        lines.push_back(fmt::format("{}={}", key, value));
    }
    std::vector<iovec> iov;
    iov.reserve(lines.size());
    for (auto& line : lines) {
        iov.push_back({line.data(), line.size()});
    }
    sd_journal_sendv(iov.data(), static_cast<int>(iov.size()));
}

}  // namespace

bool stderr_is_journal() {
    const char* stream = std::getenv("JOURNAL_STREAM");
    if (stream == nullptr) {
        return false;
    }
    unsigned long long dev = 0;
    unsigned long long ino = 0;
    if (std::sscanf(stream, "%llu:%llu", &dev, &ino) != 2) {
        return false;
    }
    struct stat st {};
    return ::fstat(STDERR_FILENO, &st) == 0 && st.st_dev == dev && st.st_ino == ino;
}

std::optional<spdlog::level::level_enum> parse_level(std::string_view text) {
    if (text == "trace") {
        return spdlog::level::trace;
    }
    if (text == "debug") {
        return spdlog::level::debug;
    }
    if (text == "info") {
        return spdlog::level::info;
    }
    if (text == "warn") {
        return spdlog::level::warn;
    }
    if (text == "error") {
        return spdlog::level::err;
    }
    return std::nullopt;
}

void setup(spdlog::level::level_enum level, bool to_journal) {
    std::shared_ptr<spdlog::logger> logger;
    if (to_journal) {
        logger = std::make_shared<spdlog::logger>(
            "verity-mountd", std::make_shared<spdlog::sinks::systemd_sink_mt>("verity-mountd"));
        service::set_audit_sink(journal_audit);
    } else {
        logger = std::make_shared<spdlog::logger>(
            "verity-mountd", std::make_shared<spdlog::sinks::stderr_sink_mt>());
        logger->set_pattern("verity-mountd[%P]: %l: %v");
    }
    logger->set_level(level);
    spdlog::set_default_logger(logger);
}

}  // namespace vmd::logging
