// verity-mountd [--config PATH] [--log-level trace|debug|info|warn|error] (DESIGN §9)
#include <malloc.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <cstring>
#include <exception>
#include <string>
#include <string_view>

#include "bus/server.hpp"
#include "common/error.hpp"
#include "config/config.hpp"
#include "logging/logging.hpp"
#include "mount/kernel_features.hpp"
#include "mount/mount_compat.hpp"
#include "service/service.hpp"

namespace {

constexpr std::string_view kUsage =
    "usage: verity-mountd [--config PATH] [--log-level trace|debug|info|warn|error]\n";

struct Arguments {
    std::string config_path{vmd::config::kDefaultConfigPath};
    bool config_given = false;
    spdlog::level::level_enum log_level = spdlog::level::info;
};

// Returns false (after printing why) on a usage error.
bool parse_arguments(int argc, char** argv, Arguments& args) {
    for (int i = 1; i < argc; ++i) {
        std::string_view arg = argv[i];
        std::string_view value;
        bool has_inline = false;
        if (auto eq = arg.find('='); arg.starts_with("--") && eq != std::string_view::npos) {
            value = arg.substr(eq + 1);
            arg = arg.substr(0, eq);
            has_inline = true;
        }
        if (arg == "--help" || arg == "-h") {
            std::fputs(kUsage.data(), stdout);
            std::exit(0);
        }
        if (arg != "--config" && arg != "--log-level") {
            std::fprintf(stderr, "verity-mountd: unknown argument \"%s\"\n%s", argv[i],
                         kUsage.data());
            return false;
        }
        if (!has_inline) {
            if (i + 1 >= argc) {
                std::fprintf(stderr, "verity-mountd: %s needs a value\n%s", argv[i], kUsage.data());
                return false;
            }
            value = argv[++i];
        }
        if (arg == "--config") {
            args.config_path = std::string(value);
            args.config_given = true;
        } else if (auto level = vmd::logging::parse_level(value)) {
            args.log_level = *level;
        } else {
            std::fprintf(stderr,
                         "verity-mountd: --log-level: expected one of trace, debug, "
                         "info, warn, error, found \"%.*s\"\n",
                         static_cast<int>(value.size()), value.data());
            return false;
        }
    }
    return true;
}

}  // namespace

int main(int argc, char** argv) {
    // Worker threads would each get a malloc arena of their own (8 per core) and keep what
    // their requests freed; two arenas bound the daemon's memory at little contention.
    ::mallopt(M_ARENA_MAX, 2);
    Arguments args;
    if (!parse_arguments(argc, argv, args)) {
        return 2;
    }
    vmd::logging::setup(args.log_level, vmd::logging::stderr_is_journal());
    try {
        auto config = vmd::config::load_config(args.config_path, !args.config_given);
        auto kernel = vmd::mount::probe_kernel_features(config.storage_root);
        spdlog::info(
            "kernel {}: fs_verity={} overlay_verity={} lowerdir+={} erofs_file={} "
            "detached_layers={}",
            kernel.release, kernel.fs_verity, kernel.overlay_verity, kernel.overlay_lowerdir_plus,
            kernel.erofs_file_backed, kernel.detached_layers);
        if (!kernel.detached_layers) {
            // Before any thread exists: unshare(CLONE_NEWNS) wants a single-threaded caller.
            if (const int err = vmd::mount::enter_private_mount_namespace()) {
                spdlog::info(
                    "kernel {} attaches overlay layers in the daemon's mount namespace while it "
                    "builds an overlay; no namespace of its own ({}): run it with PrivateMounts= "
                    "as the unit does, so that a crash leaves none mounted",
                    kernel.release, std::strerror(err));
            }
        }
        if (config.verity == vmd::VerityLevel::Enforce && !kernel.fs_verity) {
            spdlog::warn(
                "verity=enforce is configured but kernel {} has no fs-verity: every "
                "request will be refused with KernelUnsupported",
                kernel.release);
        }
        vmd::service::Service service(std::move(config), std::move(kernel));
        vmd::bus::RunOptions options;
        options.listen_fd = vmd::bus::listen_fd_from_systemd();
        return vmd::bus::run(service, options);
    } catch (const vmd::Error& error) {
        std::fprintf(stderr, "verity-mountd: %s\n", error.message().c_str());
        return 1;
    } catch (const std::exception& error) {
        std::fprintf(stderr, "verity-mountd: internal error: %s\n", error.what());
        return 1;
    }
}
