#include "podman_env.hpp"

#include <sched.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <regex>
#include <stdexcept>
#include <thread>

#include "common/json.hpp"
#include "fixtures/json_records.hpp"
#include "fixtures/sample_images.hpp"
#include "fixtures/skopeo_import.hpp"
#include "fixtures/store_files.hpp"

namespace vmd::testing {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view kEtcContainers = "/etc/containers";

// One private mount namespace for the whole test process, entered before any child starts:
// podman's mounts, the bind over /etc/containers and everything the containers mount stay in it
// and vanish with its last process.
void enter_private_mount_namespace() {
    static const bool entered = [] {
        if (::unshare(CLONE_NEWNS) != 0) {
            throw std::runtime_error(std::string("unshare(CLONE_NEWNS): ") + std::strerror(errno));
        }
        if (::mount("none", "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
            throw std::runtime_error(std::string("making / private: ") + std::strerror(errno));
        }
        return true;
    }();
    (void)entered;
}

// podman's own configuration: the machine facts of DESIGN §10 (runc, cgroupfs, no network, the
// ulimits a container without CAP_SYS_RESOURCE can have) and the overlay driver with composefs.
std::string containers_conf() {
    return "[containers]\n"
           "default_ulimits = [\"nofile=20000:20000\", \"nproc=32768:32768\"]\n"
           "netns = \"none\"\n"
           "[engine]\n"
           "cgroup_manager = \"cgroupfs\"\n"
           "events_logger = \"file\"\n"
           "runtime = \"runc\"\n";
}

std::string storage_conf(const fs::path& store, const fs::path& run_root) {
    return "[storage]\ndriver = \"overlay\"\ngraphroot = " + json::quote(store.string()) +
           "\nrunroot = " + json::quote(run_root.string()) +
           "\n[storage.options.overlay]\nuse_composefs = \"true\"\n";
}

}  // namespace

fs::path patched_podman() {
    if (const char* path = std::getenv("VMD_PODMAN"); path != nullptr && *path != '\0') {
        return path;
    }
    return source_dir() / ".cache" / "podman" / "bin" / "podman";
}

fs::path stock_podman() {
    return "/usr/bin/podman";
}

std::string patched_podman_unavailable_reason() {
    if (::geteuid() != 0) {
        return "podman end-to-end tests run as root (they mount and run containers)";
    }
    auto podman = patched_podman();
    if (::access(podman.c_str(), X_OK) != 0) {
        return podman.string() +
               " is not built: run contrib/podman/build.sh (it needs the podman 5.6.2 source: "
               "set PODMAN_SRC to its tarball or tree, or give build.sh a network)";
    }
    return {};
}

std::string missing_podman_runtime() {
    for (const char* program : {"runc", "conmon"}) {
        if (!have_program(program)) {
            return missing_program(program, program);
        }
    }
    if (!fs::exists("/usr/lib/podman/netavark")) {
        return "/usr/lib/podman/netavark is missing: install the Debian package netavark "
               "(scripts/install-deps.sh does); podman 5.6 needs it even with --network none";
    }
    if (!fs::exists("/usr/libexec/podman/catatonit") && !have_program("catatonit")) {
        return "catatonit is missing: install the Debian package catatonit "
               "(scripts/install-deps.sh does); a pod's infra container runs it";
    }
    if (::access(stock_podman().c_str(), X_OK) != 0) {
        return missing_program("podman", "podman");
    }
    if (!fs::is_directory(kEtcContainers)) {
        return "/etc/containers is missing (the Debian package podman makes it)";
    }
    return {};
}

PodmanEnv::PodmanEnv(const std::vector<ContainerSpec>& containers,
                     const std::vector<std::pair<std::string, std::string>>& daemon_config) {
    enter_private_mount_namespace();
    auto spec = sample_store();
    add_busybox(spec.images[0]);
    spec.containers = containers;
    // The daemon's minimum levels are off: what podman asks for is exactly what gets checked.
    std::vector<std::pair<std::string, std::string>> config = {{"signature", "\"off\""},
                                                               {"verity", "\"off\""}};
    config.insert(config.end(), daemon_config.begin(), daemon_config.end());
    env_.emplace(spec, config);
    run_root_ = env_->dir() / "run";

    const auto& etc = conf_dir_.path();
    // As readable as the real /etc/containers: rootless podman reads it too.
    fs::permissions(etc, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                             fs::perms::others_read | fs::perms::others_exec);
    write_file(etc / "containers.conf", containers_conf());
    write_file(etc / "storage.conf", storage_conf(store().paths.store, run_root_));
    write_file(etc / "policy.json", R"({"default":[{"type":"insecureAcceptAnything"}]})");
    fs::create_directories(etc / "containers.conf.d");
    if (::mount(etc.c_str(), kEtcContainers.data(), nullptr, MS_BIND, nullptr) != 0) {
        throw std::runtime_error(std::string("bind-mounting a private /etc/containers: ") +
                                 std::strerror(errno));
    }
    conf_mounted_ = true;
}

PodmanEnv::~PodmanEnv() {
    try {
        if (::access(patched_podman().c_str(), X_OK) == 0) {
            podman({"rm", "--all", "--force", "--time", "0"});
        }
        for (const auto& dir : {run_root_, store().paths.store}) {
            detach_mounts_below(dir);
        }
    } catch (const std::exception& e) {
        ADD_FAILURE() << "cleaning up podman: " << e.what();
    }
    if (conf_mounted_) {
        ::umount2(kEtcContainers.data(), MNT_DETACH);
    }
}

RunResult PodmanEnv::podman(const std::vector<std::string>& args,
                            const std::vector<std::string>& env) {
    return podman_binary(patched_podman(), args, env);
}

RunResult PodmanEnv::podman_binary(const fs::path& binary, const std::vector<std::string>& args,
                                   const std::vector<std::string>& env) {
    // `env` sets the variables (later ones win), where run()'s would come after inherited ones.
    std::vector<std::string> argv = {"env", "DBUS_SYSTEM_BUS_ADDRESS=" + env_->address(),
                                     "PODMAN_IGNORE_CGROUPSV1_WARNING=1"};
    argv.insert(argv.end(), env.begin(), env.end());
    argv.insert(argv.end(), {binary.string(), "--root", store().paths.store.string(), "--runroot",
                             run_root_.string()});
    argv.insert(argv.end(), args.begin(), args.end());
    return run(argv);
}

std::uint64_t PodmanEnv::counter(std::string_view name) {
    auto status = env_->ctl({"status", "--json"});
    std::smatch match;
    const std::regex pattern("\"" + std::string(name) + R"re("\s*:\s*(\d+))re");
    if (status.exit_code != 0 || !std::regex_search(status.out, match, pattern)) {
        throw std::runtime_error("verity-mountctl status --json: exit " +
                                 std::to_string(status.exit_code) + ": " + status.out + status.err);
    }
    return std::stoull(match[1].str());
}

void PodmanEnv::write_dropin(std::string_view text) {
    write_file(fs::path(kEtcContainers) / "containers.conf.d" / "50-verity.conf", text);
}

std::string PodmanEnv::image() const {
    return std::string(kDemoName);
}

std::vector<fs::path> PodmanEnv::mounts_at_or_below(const fs::path& dir) {
    return mounts_below(dir);
}

bool PodmanEnv::eventually(const std::function<bool()>& condition, int seconds) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
    while (!condition()) {
        if (std::chrono::steady_clock::now() >= deadline) {
            return false;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return true;
}

std::vector<fs::path> PodmanEnv::wait_for_no_mounts_below(const fs::path& dir, int seconds) {
    eventually([&] { return mounts_below(dir).empty(); }, seconds);
    return mounts_below(dir);
}

std::string PodmanEnv::container_layer(const std::string& container) {
    auto id = podman({"inspect", "--format", "{{.Id}}", container});
    if (id.exit_code != 0) {
        throw std::runtime_error("podman inspect " + container + ": " + id.err);
    }
    auto full_id = id.out.substr(0, id.out.find('\n'));
    auto records = load_records(containers_json(store().paths.store));
    return find_record(records, full_id, "container").string("layer");
}

}  // namespace vmd::testing
