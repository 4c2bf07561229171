// One audit record per request (DESIGN §8a): who asked for what, and what came of it.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/error.hpp"
#include "common/levels.hpp"
#include "service/service.hpp"

namespace vmd::service {

struct AuditRecord {
    Caller caller;
    std::string_view method;
    std::string_view image;
    std::string_view container;
    SignatureLevel signature = SignatureLevel::Require;
    VerityLevel verity = VerityLevel::Enforce;
    const Report* report = nullptr;  // set on success
    const Error* error = nullptr;    // set on refusal
    std::uint64_t elapsed_us = 0;
};

/// Arguments longer than this are cut in the record (their size is kept), so that a hostile
/// caller cannot make one record megabytes long.
inline constexpr std::size_t kMaxAuditedArgumentBytes = 512;

/// The record as journal-style fields (VMD_CALLER_UID=…, VMD_RESULT=…), MESSAGE first.
std::vector<std::pair<std::string, std::string>> audit_fields(const AuditRecord& record);

/// Where records go; the default writes one line through spdlog.
using AuditSink = std::function<void(const AuditRecord&)>;
/// Replaces the sink (nullptr: back to the default).
void set_audit_sink(AuditSink sink);
/// Hands `record` to the sink. A sink that throws loses the record (logged), never the request.
void write_audit(const AuditRecord& record) noexcept;

}  // namespace vmd::service
