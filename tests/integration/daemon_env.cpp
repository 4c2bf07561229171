#include "daemon_env.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "common/json.hpp"

namespace vmd::testing {

DaemonEnv::DaemonEnv(const StoreSpec& spec,
                     const std::vector<std::pair<std::string, std::string>>& config) {
    store_.emplace(build_store(spec, dir_.path() / "fixture"));
    std::map<std::string, std::string> entries = {
        {"storage_root", json::quote(store_->paths.store.string())},
        {"policy_path", json::quote(store_->paths.policy.string())},
        {"signature", "\"require\""},
        {"verity", "\"digest\""},
        {"allowed_uids", "[0]"},
        {"idle_exit_seconds", "0"},
    };
    for (const auto& [key, value] : config) {
        entries[key] = value;
    }
    std::string text = "{";
    for (const auto& [key, value] : entries) {
        text += (text.size() > 1 ? ", " : "") + json::quote(key) + ": " + value;
    }
    write_file(store_->paths.config, text + "}\n");
    daemon_.emplace(bus_.address(), store_->paths.config);
}

RunResult DaemonEnv::ctl(std::vector<std::string> args, std::vector<std::string> prefix) {
    std::vector<std::string> argv = std::move(prefix);
    argv.push_back(built("client/verity-mountctl").string());
    argv.insert(argv.end(), args.begin(), args.end());
    return run(argv, {"DBUS_SYSTEM_BUS_ADDRESS=" + bus_.address()});
}

RunResult DaemonEnv::busctl_call(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {"busctl",
                                     "--address=" + bus_.address(),
                                     "call",
                                     "io.containers.VerityMount1",
                                     "/io/containers/VerityMount1",
                                     "io.containers.VerityMount1"};
    argv.insert(argv.end(), args.begin(), args.end());
    return run(argv);
}

void age_past_settle_time(std::initializer_list<std::filesystem::path> files) {
    auto until = std::chrono::system_clock::now();
    for (const auto& file : files) {
        struct stat st {};
        if (::stat(file.c_str(), &st) != 0) {
            continue;
        }
        const auto& latest = st.st_ctim.tv_sec > st.st_mtim.tv_sec ? st.st_ctim : st.st_mtim;
        until = std::max(
            until, std::chrono::system_clock::time_point(std::chrono::seconds(latest.tv_sec + 1)));
    }
    std::this_thread::sleep_until(until + std::chrono::milliseconds(100));
}

void expect_refused(const RunResult& result, std::string_view error_name,
                    std::string_view message_part) {
    EXPECT_EQ(result.exit_code, 1) << result.out << result.err;
    std::string expected = std::string(kErrorPrefix) + std::string(error_name) + ": ";
    EXPECT_EQ(result.err.rfind(expected, 0), 0u) << "stderr: " << result.err;
    if (!message_part.empty()) {
        EXPECT_NE(result.err.find(message_part), std::string::npos) << "stderr: " << result.err;
    }
}

}  // namespace vmd::testing
