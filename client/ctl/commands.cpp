#include "client/ctl/commands.hpp"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include <fmt/format.h>
#include <simdjson.h>
#include <cerrno>
#include <system_error>

#include "client/ctl/digest.hpp"
#include "client/ctl/format.hpp"
#include "client/verity_mount_client.hpp"

namespace vmd::ctl {
namespace {

constexpr std::string_view kProgram = "verity-mountctl";

std::string errno_text(int err) {
    return std::error_code(err, std::generic_category()).message();
}

int run_digest(const Invocation& inv, std::FILE* out, std::FILE* err) {
    auto files = digest_files(inv.files);
    if (inv.json) {
        for (auto& file : files) {
            if (file.error.empty() && !simdjson::validate_utf8(file.path)) {
                file.error = "expected a UTF-8 path (JSON cannot carry others), found other bytes";
                file.digest.clear();
            }
        }
    }
    int status = kExitOk;
    for (const auto& file : files) {
        if (!file.error.empty()) {
            fmt::print(err, "{}: {}: {}\n", kProgram, file.path, file.error);
            status = kExitRefused;
        }
    }
    fmt::print(out, "{}", inv.json ? digests_json(files) : digests_text(files));
    return status;
}

int run_status(const Invocation& inv, std::FILE* out) {
    auto status = client::Client::connect(inv.address).status();
    fmt::print(out, "{}", inv.json ? status_json(status) : status_text(status));
    return kExitOk;
}

int run_verify(const Invocation& inv, std::FILE* out) {
    auto report = client::Client::connect(inv.address).verify(inv.image, inv.options);
    fmt::print(out, "{}", inv.json ? report_json(report) : report_text(report));
    return kExitOk;
}

int run_mount(const Invocation& inv, std::FILE* out, std::FILE* err) {
    // Checked before asking, so that a typo does not cost the daemon a verification and a mount.
    struct stat st {};
    if (::stat(inv.target.c_str(), &st) != 0) {
        fmt::print(err, "{}: --target {}: {}\n", kProgram, inv.target, errno_text(errno));
        return kExitRefused;
    }
    if (!S_ISDIR(st.st_mode)) {
        fmt::print(err, "{}: --target {}: expected a directory, found another kind of file\n",
                   kProgram, inv.target);
        return kExitRefused;
    }
    auto [rootfs, info] =
        client::Client::connect(inv.address).mount(inv.image, inv.container, inv.options);
    if (::move_mount(rootfs.get(), "", AT_FDCWD, inv.target.c_str(), MOVE_MOUNT_F_EMPTY_PATH) !=
        0) {
        // Closing `rootfs` on return drops the detached mount: nothing is left behind.
        fmt::print(err, "{}: attaching the verified mount on {}: {}\n", kProgram, inv.target,
                   errno_text(errno));
        return kExitRefused;
    }
    fmt::print(out, "{}", inv.json ? report_json(info) : report_text(info, inv.target));
    return kExitOk;
}

}  // namespace

int run_command(const Invocation& inv, std::FILE* out, std::FILE* err) {
    try {
        switch (inv.command.value()) {
            case Command::Digest:
                return run_digest(inv, out, err);
            case Command::Status:
                return run_status(inv, out);
            case Command::Verify:
                return run_verify(inv, out);
            case Command::Mount:
                return run_mount(inv, out, err);
        }
    } catch (const client::ClientError& error) {
        switch (error.kind()) {
            case client::ErrorKind::Refused:
                fmt::print(err, "{}: {}\n", error.name(), error.message());
                return kExitRefused;
            case client::ErrorKind::Unreachable:
                fmt::print(err, "{}: cannot reach verity-mountd: {}: {}\n", kProgram, error.name(),
                           error.message());
                return kExitUnreachable;
            case client::ErrorKind::BadReply:
                fmt::print(err, "{}: unexpected reply from verity-mountd: {}: {}\n", kProgram,
                           error.name(), error.message());
                return kExitRefused;
        }
    } catch (const std::exception& error) {
        fmt::print(err, "{}: {}\n", kProgram, error.what());
    }
    return kExitRefused;
}

}  // namespace vmd::ctl
