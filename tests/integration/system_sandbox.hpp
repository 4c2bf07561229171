// A stand-in for verity-mountd.service's sandbox where systemd is not PID 1 (as on CI machines):
// the unit's own settings, read from the generated unit, applied with the tools systemd uses the
// kernel features of: a mount namespace (ProtectSystem=strict over the store with the unit's
// ReadWritePaths=, ProtectProc=/ProcSubset= as a new /proc), the capability bounding set and
// no_new_privs (setpriv), the device ACL (a cgroup v1 devices cgroup, where the host has the
// controller), and an strace log checked against the unit's SystemCallFilter=.
#pragma once

#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <algorithm>
#include <cctype>
#include <functional>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "system_support.hpp"

namespace vmd::testing::sys {

/// The unit paths that stand for the store: /var/lib/containers/storage is the default root.
inline constexpr std::string_view kUnitStoreRoot = "/var/lib/containers/storage";

/// What the service unit asks of systemd's sandbox.
struct UnitSandbox {
    std::vector<std::string> capabilities;  // CapabilityBoundingSet=, e.g. CAP_SYS_ADMIN
    bool no_new_privileges = false;
    bool protect_system_strict = false;
    std::vector<std::string> read_write_paths;  // ReadWritePaths= ("-…": may be missing)
    std::string protect_proc;                   // ProtectProc=
    bool proc_subset_pid = false;               // ProcSubset=pid
    std::vector<std::string> device_allow;      // DeviceAllow= ("SPEC ACCESS")
    std::vector<std::string> syscall_filter;    // SystemCallFilter= lines, in order
};

inline std::vector<std::string> split_words(std::string_view text) {
    std::istringstream in{std::string(text)};
    std::vector<std::string> words;
    for (std::string word; in >> word;) {
        words.push_back(word);
    }
    return words;
}

/// Reads the sandbox settings of a service unit's text.
inline UnitSandbox parse_sandbox(std::string_view unit) {
    UnitSandbox box;
    for (const auto& line : unit_values(unit, "CapabilityBoundingSet")) {
        for (auto& cap : split_words(line)) {
            box.capabilities.push_back(cap);
        }
    }
    box.no_new_privileges = unit_values(unit, "NoNewPrivileges") == std::vector<std::string>{"yes"};
    box.protect_system_strict =
        unit_values(unit, "ProtectSystem") == std::vector<std::string>{"strict"};
    for (const auto& line : unit_values(unit, "ReadWritePaths")) {
        for (auto& path : split_words(line)) {
            box.read_write_paths.push_back(path);
        }
    }
    auto protect_proc = unit_values(unit, "ProtectProc");
    box.protect_proc = protect_proc.empty() ? "" : protect_proc.back();
    box.proc_subset_pid = unit_values(unit, "ProcSubset") == std::vector<std::string>{"pid"};
    box.device_allow = unit_values(unit, "DeviceAllow");
    box.syscall_filter = unit_values(unit, "SystemCallFilter");
    return box;
}

/// One device ACL entry: type 'c'/'b', major, minor (nullopt: any), access letters (r, w, m).
struct DeviceRule {
    char type = 'c';
    unsigned major = 0;
    std::optional<unsigned> minor;
    std::string access;

    /// The cgroup v1 devices.allow line.
    std::string line() const {
        return std::string(1, type) + " " + std::to_string(major) + ":" +
               (minor ? std::to_string(*minor) : "*") + " " + access;
    }
};

/// The major number /proc/devices gives driver `name` in the "Character" or "Block" section.
inline std::optional<unsigned> driver_major(std::string_view section, std::string_view name) {
    std::istringstream in(read_file("/proc/devices"));
    bool in_section = false;
    for (std::string line; std::getline(in, line);) {
        if (line.ends_with("devices:")) {
            in_section = line.starts_with(section);
            continue;
        }
        auto words = split_words(line);
        if (in_section && words.size() == 2 && words[1] == name) {
            return static_cast<unsigned>(std::stoul(words[0]));
        }
    }
    return std::nullopt;
}

/// The rule for a device spec as DeviceAllow= writes it: a /dev path, char-NAME or block-NAME.
inline DeviceRule device_rule(std::string_view spec, std::string access) {
    DeviceRule rule;
    rule.access = std::move(access);
    if (spec.starts_with("char-") || spec.starts_with("block-")) {
        bool is_char = spec.starts_with("char-");
        rule.type = is_char ? 'c' : 'b';
        auto major = driver_major(is_char ? "Character" : "Block", spec.substr(spec.find('-') + 1));
        if (!major) {
            throw std::runtime_error("no driver for DeviceAllow " + std::string(spec));
        }
        rule.major = *major;
        return rule;
    }
    struct stat st {};
    if (::stat(std::string(spec).c_str(), &st) != 0 ||
        !(S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode))) {
        throw std::runtime_error("DeviceAllow " + std::string(spec) + ": not a device node");
    }
    rule.type = S_ISCHR(st.st_mode) ? 'c' : 'b';
    rule.major = ::major(st.st_rdev);
    rule.minor = ::minor(st.st_rdev);
    return rule;
}

/// The device ACL of DevicePolicy=closed: the pseudo devices systemd always adds, then the
/// unit's DeviceAllow= entries.
inline std::vector<DeviceRule> device_rules(const UnitSandbox& box) {
    std::vector<DeviceRule> rules;
    for (auto path : {"/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom",
                      "/dev/tty", "/dev/ptmx"}) {
        rules.push_back(device_rule(path, "rwm"));
    }
    rules.push_back(device_rule("char-pts", "rw"));
    for (const auto& entry : box.device_allow) {
        auto words = split_words(entry);
        rules.push_back(device_rule(words.at(0), words.size() > 1 ? words[1] : "rwm"));
    }
    return rules;
}

/// True when `rules` let a process open device `path` with `access` ("r", "w" or "rw").
inline bool device_allowed(const std::vector<DeviceRule>& rules, const fs::path& path,
                           std::string_view access) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0 || !(S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode))) {
        return true;  // not a device (a directory, a vanished loop node): no ACL applies
    }
    const char type = S_ISCHR(st.st_mode) ? 'c' : 'b';
    for (const auto& rule : rules) {
        if (rule.type == type && rule.major == ::major(st.st_rdev) &&
            (!rule.minor || *rule.minor == ::minor(st.st_rdev)) &&
            std::all_of(access.begin(), access.end(),
                        [&](char c) { return rule.access.find(c) != std::string::npos; })) {
            return true;
        }
    }
    return false;
}

/// A cgroup in the host's cgroup v1 devices hierarchy holding `rules` (default deny): what
/// systemd applies for DevicePolicy=closed on such a host. Removed on destruction, which must
/// come after every process in it has exited.
class DeviceCgroup {
  public:
    /// The devices controller's root, when the host mounts one (hybrid / legacy cgroups).
    static std::optional<fs::path> controller() {
        fs::path root = "/sys/fs/cgroup/devices";
        return fs::exists(root / "devices.allow") ? std::optional(root) : std::nullopt;
    }
    explicit DeviceCgroup(const std::vector<DeviceRule>& rules) {
        path_ = controller().value() /
                ("vmd-test-" + std::to_string(::getpid()) + "-" + std::to_string(++counter()));
        fs::create_directory(path_);
        write_file(path_ / "devices.deny", "a");
        for (const auto& rule : rules) {
            write_file(path_ / "devices.allow", rule.line());
        }
    }
    ~DeviceCgroup() { ::rmdir(path_.c_str()); }
    DeviceCgroup(const DeviceCgroup&) = delete;
    DeviceCgroup& operator=(const DeviceCgroup&) = delete;
    /// The file a process writes its pid to, to enter.
    fs::path procs() const { return path_ / "cgroup.procs"; }

  private:
    static unsigned& counter() {
        static unsigned value = 0;
        return value;
    }
    fs::path path_;
};

/// A command-line prefix that runs the rest inside the stand-in sandbox, with `store` in place of
/// /var/lib/containers/storage: the store read-only but for the unit's ReadWritePaths= below it,
/// /proc as ProtectProc=/ProcSubset= make it, the device cgroup (if any), then setpriv with the
/// unit's bounding set and NoNewPrivileges=.
inline std::vector<std::string> sandbox_prefix(const UnitSandbox& box, const fs::path& store,
                                               const DeviceCgroup* cgroup) {
    auto quoted = [](const fs::path& path) { return "'" + path.string() + "'"; };
    std::string script = "set -e\n";
    if (box.protect_system_strict) {
        script += "mount --bind " + quoted(store) + " " + quoted(store) + "\n";
        script += "mount -o remount,bind,ro " + quoted(store) + "\n";
    }
    for (auto path : box.read_write_paths) {
        const bool optional = path.starts_with('-');
        if (optional) {
            path.erase(0, 1);
        }
        if (!path.starts_with(kUnitStoreRoot)) {
            continue;  // outside the store: nothing the test's daemon touches
        }
        auto mapped = quoted(store.string() + path.substr(kUnitStoreRoot.size()));
        script += (optional ? "if [ -e " + mapped + " ]; then " : std::string("{ ")) +
                  "mount --bind " + mapped + " " + mapped + "; mount -o remount,bind,rw " + mapped +
                  (optional ? "; fi\n" : "; }\n");
    }
    if (box.proc_subset_pid || !box.protect_proc.empty()) {
        std::string options = box.proc_subset_pid ? "subset=pid" : "";
        if (!box.protect_proc.empty() && box.protect_proc != "default") {
            options += (options.empty() ? "" : ",") + ("hidepid=" + box.protect_proc);
        }
        script += "mount -t proc -o " + options + " proc /proc\n";
    }
    if (cgroup != nullptr) {
        script += "echo $$ > " + quoted(cgroup->procs()) + "\n";
    }
    script += "exec \"$@\"\n";

    std::string bounding = "-all";
    for (const auto& cap : box.capabilities) {
        std::string name = cap.starts_with("CAP_") ? cap.substr(4) : cap;
        std::transform(name.begin(), name.end(), name.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        bounding += ",+" + name;
    }
    std::vector<std::string> prefix = {"unshare",
                                       "--mount",
                                       "--propagation",
                                       "private",
                                       "sh",
                                       "-c",
                                       script,
                                       "sh",
                                       "setpriv",
                                       "--bounding-set=" + bounding};
    if (box.no_new_privileges) {
        prefix.emplace_back("--no-new-privs");
    }
    return prefix;
}

/// Lines of an `strace -f` log from the daemon: those after it was exec'd as `daemon`.
inline std::vector<std::string> daemon_trace(std::string_view log, const fs::path& daemon) {
    std::vector<std::string> lines;
    std::istringstream in{std::string(log)};
    const std::string marker = "execve(\"" + daemon.string() + "\"";
    bool started = false;
    for (std::string line; std::getline(in, line);) {
        if (started) {
            lines.push_back(line);
        } else if (line.find(marker) != std::string::npos) {
            started = true;
        }
    }
    return lines;
}

/// The system call names in `strace -f` lines ("PID name(args) = result").
inline std::set<std::string> traced_syscalls(const std::vector<std::string>& lines) {
    static const std::regex call(R"(^\d+ +([a-z0-9_]+)\()");
    std::set<std::string> names;
    for (const auto& line : lines) {
        std::smatch match;
        if (std::regex_search(line, match, call)) {
            names.insert(match[1]);
        }
    }
    return names;
}

/// The device paths opened in `strace -f` lines, each with "r", "w" or "rw".
inline std::vector<std::pair<std::string, std::string>> traced_device_opens(
    const std::vector<std::string>& lines) {
    static const std::regex open(R"re(open(?:at)?\([^"]*"(/dev/[^"]*)", ([A-Z_|]+))re");
    std::vector<std::pair<std::string, std::string>> opens;
    for (const auto& line : lines) {
        std::smatch match;
        if (std::regex_search(line, match, open)) {
            std::string flags = match[2];
            std::string access = flags.find("O_RDWR") != std::string::npos     ? "rw"
                                 : flags.find("O_WRONLY") != std::string::npos ? "w"
                                                                               : "r";
            opens.emplace_back(match[1], access);
        }
    }
    return opens;
}

/// systemd's system call groups (`systemd-analyze syscall-filter`): group → entries, which are
/// system calls or further groups.
inline std::map<std::string, std::vector<std::string>> syscall_groups() {
    auto result = run({"systemd-analyze", "syscall-filter"});
    if (result.exit_code != 0) {
        throw std::runtime_error("systemd-analyze syscall-filter: " + result.err);
    }
    std::map<std::string, std::vector<std::string>> groups;
    std::istringstream in(result.out);
    std::string current;
    for (std::string line; std::getline(in, line);) {
        if (line.starts_with('@')) {
            current = line;
        } else if (auto words = split_words(line);
                   !current.empty() && !words.empty() && !words[0].starts_with('#')) {
            groups[current].push_back(words[0]);
        }
    }
    return groups;
}

/// The system calls an allow-list SystemCallFilter= (its lines in order) permits, as systemd
/// computes it: the first line starts from @default, later lines add, "~" lines remove.
inline std::set<std::string> allowed_syscalls(const std::vector<std::string>& filter) {
    const auto groups = syscall_groups();
    std::function<void(const std::string&, std::set<std::string>&)> expand =
        [&](const std::string& name, std::set<std::string>& out) {
            if (!name.starts_with('@')) {
                out.insert(name);
                return;
            }
            auto group = groups.find(name);
            if (group == groups.end()) {
                throw std::runtime_error("unknown system call group " + name);
            }
            for (const auto& entry : group->second) {
                expand(entry, out);
            }
        };
    std::set<std::string> allowed;
    for (std::size_t i = 0; i < filter.size(); ++i) {
        std::string_view line = filter[i];
        const bool remove = line.starts_with('~');
        if (i == 0 && remove) {
            throw std::runtime_error("expected an allow list first, found " + filter[i]);
        }
        if (i == 0) {
            expand("@default", allowed);
        }
        std::set<std::string> names;
        for (auto word : split_words(remove ? line.substr(1) : line)) {
            expand(word.substr(0, word.find(':')), names);  // "name:ERRNO"
        }
        for (const auto& name : names) {
            remove ? (void)allowed.erase(name) : (void)allowed.insert(name);
        }
    }
    return allowed;
}

}  // namespace vmd::testing::sys
