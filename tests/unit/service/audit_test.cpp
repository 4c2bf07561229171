// The audit record: bounded whatever the caller sends, and never the reason a request fails.
#include "service/audit.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

namespace vmd::service {
namespace {

using ::testing::HasSubstr;

std::string field(const std::vector<std::pair<std::string, std::string>>& fields,
                  const std::string& key) {
    for (const auto& [name, value] : fields) {
        if (name == key) {
            return value;
        }
    }
    ADD_FAILURE() << "no field " << key;
    return {};
}

TEST(AuditFields, HugeArgumentsAreCutAndTheirSizeKept) {
    const std::string image(5'000'000, 'a');
    const std::string container(2000, 'c');
    const Error error(Errc::InvalidArgument, "image: expected at most 1024 bytes");
    AuditRecord record{{0, 1}, "Mount", image, container};
    record.error = &error;
    const auto fields = audit_fields(record);
    EXPECT_EQ(field(fields, "VMD_IMAGE"),
              std::string(kMaxAuditedArgumentBytes, 'a') + "...(5000000 bytes)");
    EXPECT_EQ(field(fields, "VMD_CONTAINER"),
              std::string(kMaxAuditedArgumentBytes, 'c') + "...(2000 bytes)");
    const std::string message = field(fields, "MESSAGE");
    EXPECT_LT(message.size(), 2 * kMaxAuditedArgumentBytes + 300);
    EXPECT_THAT(message, HasSubstr("...(5000000 bytes) container=ccc"));
}

TEST(AuditFields, ArgumentsUpToTheBoundAreWhole) {
    const std::string image(kMaxAuditedArgumentBytes, 'b');
    AuditRecord record{{0, 1}, "Verify", image, ""};
    const auto fields = audit_fields(record);
    EXPECT_EQ(field(fields, "VMD_IMAGE"), image);
    EXPECT_EQ(field(fields, "VMD_CONTAINER"), "");
    EXPECT_THAT(field(fields, "MESSAGE"), HasSubstr(" container=- "));
}

TEST(WriteAudit, ASinkThatThrowsLosesTheRecordNotTheRequest) {
    int calls = 0;
    set_audit_sink([&](const AuditRecord&) {
        ++calls;
        throw std::runtime_error("journal unreachable");
    });
    AuditRecord record{{0, 1}, "Verify", "busybox", ""};
    EXPECT_NO_THROW(write_audit(record));
    set_audit_sink(nullptr);
    EXPECT_EQ(calls, 1);
}

}  // namespace
}  // namespace vmd::service
