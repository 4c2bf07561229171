// Audit records reach the journal as structured fields. The daemon runs as under systemd (stderr
// is "the journal": JOURNAL_STREAM names it) in a private mount namespace whose /run is a
// directory of the test, so that sd-journal's /run/systemd/journal/socket is the test's own
// datagram socket; the test parses the native protocol it receives.
#include <sys/stat.h>

#include <map>
#include <set>

#include "daemon_env.hpp"
#include "fixtures/sample_images.hpp"
#include "system_support.hpp"

namespace vmd::testing::sys {
namespace {

using Fields = std::multimap<std::string, std::string>;

/// The key under which parse_entry() lists the fields that came in the binary form.
constexpr std::string_view kBinaryFields = " binary";

/// Parses a native journal datagram: "KEY=VALUE\n", or for values that may hold newlines
/// "KEY\n" + 64-bit little-endian size + the bytes + "\n" (each such KEY is also listed under
/// kBinaryFields).
Fields parse_entry(std::string_view data) {
    Fields fields;
    while (!data.empty()) {
        auto newline = data.find('\n');
        auto line = data.substr(0, newline);
        if (auto eq = line.find('='); eq != std::string_view::npos) {
            fields.emplace(line.substr(0, eq), line.substr(eq + 1));
            data.remove_prefix(newline == std::string_view::npos ? data.size() : newline + 1);
            continue;
        }
        if (newline == std::string_view::npos || data.size() < newline + 1 + 8) {
            throw std::runtime_error("truncated journal field " + std::string(line));
        }
        std::uint64_t size = 0;
        for (int i = 7; i >= 0; --i) {
            size = size << 8 | static_cast<unsigned char>(data[newline + 1 + i]);
        }
        auto value_at = newline + 1 + 8;
        if (data.size() < value_at + size + 1 || data[value_at + size] != '\n') {
            throw std::runtime_error("bad binary journal field " + std::string(line));
        }
        fields.emplace(line, data.substr(value_at, size));
        fields.emplace(kBinaryFields, line);
        data.remove_prefix(value_at + size + 1);
    }
    return fields;
}

/// journald's socket, as far as a client can tell.
class JournalSocket {
  public:
    explicit JournalSocket(const fs::path& path) {
        fd_.reset(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
        if (!fd_ || ::bind(fd_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
            throw std::runtime_error("cannot bind " + path.string());
        }
    }
    /// The next entry that has `field` (others, e.g. log lines, are skipped).
    Fields next_with(const std::string& field) {
        for (;;) {
            if (!wait_readable(fd_.get())) {
                throw std::runtime_error("no journal entry with " + field);
            }
            auto fields = parse_entry(receive());
            if (fields.contains(field)) {
                return fields;
            }
        }
    }

  private:
    // A datagram, or the sealed memfd sd-journal passes instead when an entry is too big for one.
    std::string receive() {
        std::string buffer(1 << 20, '\0');
        alignas(cmsghdr) std::array<char, CMSG_SPACE(sizeof(int))> control{};
        msghdr msg{};
        ssize_t n = receive_datagram(fd_.get(), buffer, control, msg);
        if (n < 0) {
            throw std::runtime_error(std::string("recvmsg: ") + std::strerror(errno));
        }
        if (auto* cmsg = CMSG_FIRSTHDR(&msg); cmsg != nullptr && cmsg->cmsg_type == SCM_RIGHTS) {
            int raw = -1;
            std::memcpy(&raw, CMSG_DATA(cmsg), sizeof raw);
            UniqueFd memfd(raw);
            return read_file("/proc/self/fd/" + std::to_string(memfd.get()));
        }
        buffer.resize(static_cast<std::size_t>(n));
        return buffer;
    }

    UniqueFd fd_;
};

std::string field(const Fields& fields, const std::string& key) {
    EXPECT_EQ(fields.count(key), 1u) << key;
    auto it = fields.find(key);
    return it == fields.end() ? "<missing>" : it->second;
}

class JournalAudit : public ::testing::Test {
  protected:
    JournalAudit() {
        store_.emplace(build_store(sample_store(), dir_.path() / "fixture"));
        write_config(*store_, dir_.path() / "config.json");
        fs::create_directories(dir_.path() / "run/systemd/journal");
        journal_.emplace(dir_.path() / "run/systemd/journal/socket");

        // The daemon's stderr is a file whose device and inode JOURNAL_STREAM names, as systemd
        // does for StandardError=journal.
        stderr_path_ = dir_.path() / "daemon.stderr";
        UniqueFd log(::open(stderr_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
        struct stat st {};
        if (!log || ::fstat(log.get(), &st) != 0) {
            throw std::runtime_error("cannot create " + stderr_path_.string());
        }
        NotifySocket notify(dir_.path() / "notify.socket");
        daemon_.emplace(
            std::vector<std::string>{"unshare", "--mount", "--propagation", "private", "sh", "-c",
                                     "mount --bind \"$0\" /run && exec \"$@\"",
                                     (dir_.path() / "run").string(),
                                     built("daemon/verity-mountd").string(), "--config",
                                     (dir_.path() / "config.json").string()},
            std::vector<std::string>{
                "DBUS_SYSTEM_BUS_ADDRESS=" + bus_.address(), notify.env(),
                "JOURNAL_STREAM=" + std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino)},
            log.get());
        notify.wait_ready();
    }

    /// Runs verity-mountctl on the bus; returns (its pid, its exit code).
    std::pair<pid_t, int> ctl(const std::vector<std::string>& args) {
        std::vector<std::string> argv = {built("client/verity-mountctl").string()};
        argv.insert(argv.end(), args.begin(), args.end());
        UniqueFd out(::open("/dev/null", O_WRONLY | O_CLOEXEC));
        ChildProcess caller(argv, {"DBUS_SYSTEM_BUS_ADDRESS=" + bus_.address()}, out.get());
        const pid_t pid = caller.pid();
        return {pid, caller.wait()};
    }

    TempDir dir_;
    std::optional<BuiltStore> store_;
    std::optional<JournalSocket> journal_;
    fs::path stderr_path_;
    PrivateBus bus_;
    std::optional<ChildProcess> daemon_;
};

TEST_F(JournalAudit, MountAndRefusalAreStructuredEntries) {
    MountPoint target(dir_.path() / "rootfs");
    auto [mount_pid, mount_rc] = ctl({"mount", std::string(kDemoName), "--target", target.str()});
    ASSERT_EQ(mount_rc, 0) << read_file(stderr_path_);
    const auto ok = journal_->next_with("VMD_RESULT");
    EXPECT_EQ(field(ok, "VMD_RESULT"), "ok");
    EXPECT_FALSE(ok.contains(std::string(kBinaryFields)));
    EXPECT_EQ(field(ok, "VMD_METHOD"), "Mount");
    EXPECT_EQ(field(ok, "VMD_CALLER_UID"), "0");
    EXPECT_EQ(field(ok, "VMD_CALLER_PID"), std::to_string(mount_pid));
    EXPECT_EQ(field(ok, "VMD_IMAGE"), kDemoName);
    EXPECT_EQ(field(ok, "VMD_IDENTITY"), "quay.io/example/demo:latest");
    EXPECT_EQ(field(ok, "VMD_MANIFEST_DIGEST"), store_->image().manifest_digest);
    EXPECT_EQ(field(ok, "VMD_SIGNATURE_LEVEL"), "require");
    EXPECT_EQ(field(ok, "VMD_VERITY_LEVEL"), "digest");
    EXPECT_EQ(field(ok, "VMD_ERROR"), "");
    EXPECT_GT(std::stoull(field(ok, "VMD_ELAPSED_US")), 0u);
    EXPECT_EQ(field(ok, "PRIORITY"), "6");
    EXPECT_EQ(field(ok, "SYSLOG_IDENTIFIER"), "verity-mountd");
    EXPECT_NE(field(ok, "MESSAGE").find("Mount image=quay.io/example/demo:latest"),
              std::string::npos);

    // A refusal, with a newline in the image argument: sd-journal sends that field in its binary
    // form, and the newline cannot forge a field of its own.
    const std::string image = "quay.io/example/missing:1\nVMD_RESULT=ok";
    auto [refused_pid, refused_rc] = ctl({"mount", image, "--target", target.str()});
    EXPECT_EQ(refused_rc, 1);
    const auto refused = journal_->next_with("VMD_RESULT");
    EXPECT_EQ(field(refused, "VMD_RESULT"), "refused");
    EXPECT_EQ(field(refused, "VMD_IMAGE"), image);
    std::set<std::string> binary;
    for (auto [it, end] = refused.equal_range(std::string(kBinaryFields)); it != end; ++it) {
        binary.insert(it->second);
    }
    EXPECT_EQ(binary, (std::set<std::string>{"MESSAGE", "VMD_IMAGE"}));
    EXPECT_TRUE(field(refused, "VMD_ERROR").starts_with("io.containers.VerityMount1.Error."));
    EXPECT_EQ(field(refused, "VMD_CALLER_UID"), "0");
    EXPECT_EQ(field(refused, "VMD_CALLER_PID"), std::to_string(refused_pid));
    EXPECT_EQ(field(refused, "VMD_IDENTITY"), "");
    EXPECT_EQ(field(refused, "VMD_MANIFEST_DIGEST"), "");
    EXPECT_EQ(field(refused, "VMD_SIGNATURE_LEVEL"), "require");
    EXPECT_EQ(field(refused, "VMD_VERITY_LEVEL"), "digest");
    EXPECT_EQ(field(refused, "PRIORITY"), "4");
    EXPECT_NE(field(refused, "MESSAGE").find(field(refused, "VMD_ERROR")), std::string::npos);

    // Nothing of either went to stderr as text.
    EXPECT_EQ(daemon_->stop(), 0);
    EXPECT_EQ(read_file(stderr_path_).find("result="), std::string::npos)
        << read_file(stderr_path_);
}

/// The number after `"key": ` in the JSON text `json` (fails the test when absent).
std::string json_number(const std::string& json, const std::string& key) {
    const auto at = json.find("\"" + key + "\": ");
    if (at == std::string::npos) {
        ADD_FAILURE() << "no " << key << " in " << json;
        return "<missing>";
    }
    const auto start = at + key.size() + 4;
    return json.substr(start, json.find_first_not_of("0123456789", start) - start);
}

// DESIGN §8a: elapsed_us spans from reading the request to sending the reply, and the audit
// record carries the very value the caller received.
TEST_F(JournalAudit, AuditRecordCarriesTheElapsedUsOfTheReply) {
    MountPoint target(dir_.path() / "rootfs");
    for (const std::vector<std::string>& args :
         {std::vector<std::string>{"verify", std::string(kDemoName), "--json"},
          std::vector<std::string>{"mount", std::string(kDemoName), "--target", target.str(),
                                   "--json"}}) {
        std::vector<std::string> argv = {built("client/verity-mountctl").string()};
        argv.insert(argv.end(), args.begin(), args.end());
        const auto result = run(argv, {"DBUS_SYSTEM_BUS_ADDRESS=" + bus_.address()});
        ASSERT_EQ(result.exit_code, 0) << result.err;
        const auto record = journal_->next_with("VMD_RESULT");
        EXPECT_EQ(field(record, "VMD_RESULT"), "ok");
        EXPECT_EQ(field(record, "VMD_METHOD"), args[0] == "mount" ? "Mount" : "Verify");
        const std::string replied = json_number(result.out, "elapsed_us");
        EXPECT_NE(replied, "0");
        EXPECT_EQ(field(record, "VMD_ELAPSED_US"), replied) << result.out;
    }
}

}  // namespace
}  // namespace vmd::testing::sys
