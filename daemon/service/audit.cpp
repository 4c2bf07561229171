#include "service/audit.hpp"

#include <spdlog/spdlog.h>

#include <mutex>

namespace vmd::service {
namespace {

std::mutex sink_mutex;
AuditSink current_sink;

/// `argument`, or its first kMaxAuditedArgumentBytes and its size when it is longer.
std::string bounded(std::string_view argument) {
    if (argument.size() <= kMaxAuditedArgumentBytes) {
        return std::string(argument);
    }
    return fmt::format("{}...({} bytes)", argument.substr(0, kMaxAuditedArgumentBytes),
                       argument.size());
}

void write(const AuditRecord& record) {
    {
        std::lock_guard lock(sink_mutex);
        if (current_sink) {
            current_sink(record);
            return;
        }
    }
    const auto fields = audit_fields(record);
    if (record.error == nullptr) {
        spdlog::info("{}", fields.front().second);
    } else {
        spdlog::warn("{}", fields.front().second);
    }
}

}  // namespace

std::vector<std::pair<std::string, std::string>> audit_fields(const AuditRecord& record) {
    const bool ok = record.error == nullptr;
    std::string result = ok ? "ok" : "refused";
    std::string error_name = ok ? "" : record.error->dbus_name();
    std::string identity = record.report ? record.report->identity : "";
    std::string digest = record.report ? record.report->manifest_digest : "";
    const std::string image = bounded(record.image);
    const std::string container = bounded(record.container);
    std::string message = fmt::format(
        "{} image={} container={} uid={} pid={} signature={} verity={} result={}{}{} "
        "elapsed_us={}",
        record.method, image, container.empty() ? "-" : container, record.caller.uid,
        record.caller.pid, to_string(record.signature), to_string(record.verity), result,
        ok ? "" : " error=", ok ? "" : error_name, record.elapsed_us);
    if (!ok) {
        message += ": " + record.error->message();
    }
    return {
        {"MESSAGE", message},
        {"VMD_METHOD", std::string(record.method)},
        {"VMD_CALLER_UID", std::to_string(record.caller.uid)},
        {"VMD_CALLER_PID", std::to_string(record.caller.pid)},
        {"VMD_IMAGE", image},
        {"VMD_CONTAINER", container},
        {"VMD_IDENTITY", identity},
        {"VMD_MANIFEST_DIGEST", digest},
        {"VMD_SIGNATURE_LEVEL", std::string(to_string(record.signature))},
        {"VMD_VERITY_LEVEL", std::string(to_string(record.verity))},
        {"VMD_RESULT", result},
        {"VMD_ERROR", error_name},
        {"VMD_ELAPSED_US", std::to_string(record.elapsed_us)},
    };
}

void set_audit_sink(AuditSink sink) {
    std::lock_guard lock(sink_mutex);
    current_sink = std::move(sink);
}

void write_audit(const AuditRecord& record) noexcept {
    try {
        write(record);
    } catch (const std::exception& error) {
        try {
            spdlog::error("audit record of {} lost: {}", record.method, error.what());
        } catch (...) {  // nothing is left to tell it to
        }
    } catch (...) {  // sinks throw std::exception only
    }
}

}  // namespace vmd::service
