// verity-mountctl as a program: exit statuses, local digests, output that parses.
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "common/json.hpp"
#include "common/unique_fd.hpp"
#include "ctl_path.hpp"
#include "fixtures/test_env.hpp"

namespace vmd::ctl {
namespace {

using vmd::testing::have_program;
using vmd::testing::missing_program;
using vmd::testing::run;
using vmd::testing::RunResult;
using vmd::testing::TempDir;

std::string ctl() {
    return vmd::testing::ctl_path().string();
}

RunResult run_ctl(std::vector<std::string> args) {
    args.insert(args.begin(), ctl());
    return run(args);
}

std::string random_bytes(std::size_t size, unsigned seed) {
    std::mt19937 gen(seed);
    std::string out(size, '\0');
    for (auto& c : out) {
        c = static_cast<char>(gen());
    }
    return out;
}

// Files around the Merkle tree's edges: empty, one block, one hash block full (128 blocks) and one
// more byte, two tree levels.
std::vector<std::string> make_files(const TempDir& dir) {
    const std::vector<std::size_t> sizes = {
        0, 1, 4096, 4097, 128 * 4096, 128 * 4096 + 1, 3 * 1024 * 1024 + 5};
    std::vector<std::string> paths;
    for (std::size_t i = 0; i < sizes.size(); ++i) {
        auto path = dir.path() / ("file " + std::to_string(i));
        vmd::testing::write_file(path, random_bytes(sizes[i], static_cast<unsigned>(i)));
        paths.push_back(path.string());
    }
    return paths;
}

TEST(CtlDigest, MatchesFsverityDigestCompactForEveryFile) {
    ASSERT_TRUE(have_program("fsverity")) << missing_program("fsverity", "fsverity");
    TempDir dir;
    auto paths = make_files(dir);
    std::vector<std::string> args = {"digest"};
    args.insert(args.end(), paths.begin(), paths.end());
    auto result = run_ctl(args);
    ASSERT_EQ(result.exit_code, 0) << result.err;
    EXPECT_EQ(result.err, "");

    std::string expected;
    for (const auto& path : paths) {
        auto reference = run({"fsverity", "digest", "--compact", path});
        ASSERT_EQ(reference.exit_code, 0) << reference.err;
        expected += "sha256:" + reference.out.substr(0, 64) + "  " + path + "\n";
    }
    EXPECT_EQ(result.out, expected);
}

TEST(CtlDigest, JsonOutputParsesAndKeepsTheOrderGiven) {
    TempDir dir;
    auto paths = make_files(dir);
    std::vector<std::string> args = {"digest", "--json"};
    args.insert(args.end(), paths.rbegin(), paths.rend());
    auto result = run_ctl(args);
    ASSERT_EQ(result.exit_code, 0) << result.err;

    auto doc = json::Document::parse(result.out, Errc::Internal, "digest --json output");
    const json::Context ctx{Errc::Internal, "digest --json output"};
    auto array = json::expect_array(doc.root(), ctx);
    ASSERT_EQ(array.size(), paths.size());
    std::size_t i = paths.size();
    for (auto element : array) {
        auto object = json::expect_object(element, ctx, {{"path", "digest"}});
        EXPECT_EQ(json::expect_string(json::require(object, "path", ctx), ctx), paths[--i]);
        auto digest = json::expect_string(json::require(object, "digest", ctx), ctx);
        EXPECT_TRUE(digest.starts_with("sha256:")) << digest;
        EXPECT_EQ(digest.size(), 7U + 64U);
    }
    // The empty file's digest is a constant of the format.
    EXPECT_NE(
        result.out.find("sha256:3d248ca542a24fc62d1c43b916eae5016878e2533c88238480b26128a1f1af95"),
        std::string::npos);
}

TEST(CtlDigest, UnreadableFilesFailButTheOthersArePrinted) {
    TempDir dir;
    auto good = dir.path() / "good";
    vmd::testing::write_file(good, "data");
    auto fifo = dir.path() / "fifo";
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0) << std::strerror(errno);
    auto result = run_ctl({"digest", (dir.path() / "missing").string(), good.string(),
                           dir.path().string(), fifo.string()});
    EXPECT_EQ(result.exit_code, 1);
    EXPECT_NE(result.out.find("  " + good.string() + "\n"), std::string::npos) << result.out;
    EXPECT_NE(result.err.find("missing: No such file or directory"), std::string::npos)
        << result.err;
    EXPECT_NE(result.err.find(dir.path().string() + ": expected a regular file"), std::string::npos)
        << result.err;
    EXPECT_NE(result.err.find("fifo: expected a regular file"), std::string::npos) << result.err;
}

TEST(CtlDigest, JsonRefusesPathsThatAreNotUtf8) {
    TempDir dir;
    auto bad = dir.path() / "bad\xff";
    vmd::testing::write_file(bad, "data");
    auto result = run_ctl({"digest", "--json", bad.string()});
    EXPECT_EQ(result.exit_code, 1);
    EXPECT_EQ(result.out, "[]\n");
    EXPECT_NE(result.err.find("expected a UTF-8 path"), std::string::npos) << result.err;
}

// A unix socket file that nobody listens on: connecting to it is refused.
class DeadSocket : public ::testing::Test {
  protected:
    void SetUp() override {
        path_ = dir_.path() / "dead.socket";
        UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
        ASSERT_TRUE(fd) << std::strerror(errno);
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::strncpy(addr.sun_path, path_.c_str(), sizeof addr.sun_path - 1);
        ASSERT_EQ(::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0)
            << std::strerror(errno);
        // Closed without listen(): the file stays, connect() gets ECONNREFUSED.
    }

    std::string address() const { return "unix:path=" + path_.string(); }

    TempDir dir_;
    std::filesystem::path path_;
};

TEST_F(DeadSocket, EveryDaemonCommandExitsThree) {
    for (const auto& args : std::vector<std::vector<std::string>>{
             {"status", "--address", address()},
             {"--address=" + address(), "verify", "busybox"},
             {"--json", "verify", "busybox", "--address", address()},
             {"mount", "busybox", "--target", dir_.path().string(), "--address", address()}}) {
        auto result = run_ctl(args);
        EXPECT_EQ(result.exit_code, 3) << args[0] << ": " << result.err;
        EXPECT_NE(result.err.find("cannot reach verity-mountd"), std::string::npos) << result.err;
        EXPECT_EQ(result.out, "");
    }
}

TEST_F(DeadSocket, NoSuchSocketExitsThreeToo) {
    auto result = run_ctl({"status", "--address", "unix:path=" + (dir_.path() / "none").string()});
    EXPECT_EQ(result.exit_code, 3) << result.err;
    EXPECT_NE(result.err.find("org.freedesktop.DBus.Error.FileNotFound"), std::string::npos)
        << result.err;
}

TEST_F(DeadSocket, SystemBusAddressFromTheEnvironmentIsHonoured) {
    auto result = run({ctl(), "status"}, {"DBUS_SYSTEM_BUS_ADDRESS=" + address()});
    EXPECT_EQ(result.exit_code, 3) << result.err;
}

TEST(CtlMount, MissingTargetDirectoryFailsBeforeAskingTheDaemon) {
    TempDir dir;
    // The address is dead too: the target check must come first to give exit status 1.
    auto result = run_ctl({"mount", "busybox", "--target", (dir.path() / "nowhere").string(),
                           "--address", "unix:path=" + (dir.path() / "none").string()});
    EXPECT_EQ(result.exit_code, 1);
    EXPECT_NE(result.err.find("nowhere: No such file or directory"), std::string::npos)
        << result.err;
}

TEST(CtlUsage, ErrorsExitTwoWithTheReasonAndAHint) {
    struct Case {
        std::vector<std::string> args;
        std::string message;
    };
    for (const auto& [args, message] : std::vector<Case>{
             {{}, "missing COMMAND"},
             {{"status", "--frob"}, "status: unknown option --frob"},
             {{"mount", "img"}, "mount: missing --target DIR"},
             {{"verify", "img", "--signature"}, "--signature needs a value"},
             {{"verify", "img", "--signature", "none"}, "expected off, check or require"},
             {{"digest", "--verity=bad"}, "--verity does not apply"}}) {
        auto result = run_ctl(args);
        EXPECT_EQ(result.exit_code, 2) << message;
        EXPECT_TRUE(result.err.starts_with("verity-mountctl: ")) << result.err;
        EXPECT_NE(result.err.find(message), std::string::npos) << result.err;
        EXPECT_NE(result.err.find("--help"), std::string::npos) << result.err;
        EXPECT_EQ(result.out, "");
    }
}

TEST(CtlUsage, HelpGoesToStdoutAndExitsZero) {
    for (std::string command : {"mount", "verify", "status", "digest"}) {
        auto result = run_ctl({command, "--help"});
        EXPECT_EQ(result.exit_code, 0) << command;
        EXPECT_TRUE(result.out.starts_with("Usage: verity-mountctl " + command)) << result.out;
    }
    auto global = run_ctl({"-h"});
    EXPECT_EQ(global.exit_code, 0);
    EXPECT_NE(global.out.find("Exit status"), std::string::npos);
}

}  // namespace
}  // namespace vmd::ctl
