// A real Mount through the server: the rootfs fd travels as 'h', the info matches the store, and
// the daemon keeps no copy of the fd once the reply is queued.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <string>

#include "bus_fixture.hpp"
#include "fixtures/sample_images.hpp"
#include "mount/kernel_features.hpp"

namespace vmd::bus {
namespace {

using testing::bus_fixture::AuditCapture;
using testing::bus_fixture::call;
using testing::bus_fixture::connect;
using testing::bus_fixture::Dict;
using testing::bus_fixture::open_fds;
using testing::bus_fixture::PrivateBus;
using testing::bus_fixture::read_beneath;
using testing::bus_fixture::read_dict;
using testing::bus_fixture::ServerThread;

/// How many fds of this process are on the filesystem `fd` is on (its device).
std::size_t fds_on_filesystem_of(int fd) {
    struct stat target {};
    if (::fstat(fd, &target) != 0) {
        return 0;
    }
    std::size_t count = 0;
    for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
        struct stat st {};
        if (::stat(entry.path().c_str(), &st) == 0 && st.st_dev == target.st_dev) {
            ++count;
        }
    }
    return count;
}

TEST(MountReply, RootfsFdAndInfoReachTheCaller) {
    testing::TempDir dir;
    const auto built = testing::build_store(testing::sample_store(), dir.path() / "fixture");
    auto config = config::load_config(built.paths.config, false);
    config.idle_exit_seconds = 0;
    AuditCapture audit;
    service::Service service(config, mount::probe_kernel_features());
    PrivateBus bus;
    RunOptions options;
    options.bus_address = bus.address();
    ServerThread server(service, options);
    ASSERT_TRUE(server.ready());
    auto client = connect(bus.address());
    const std::size_t baseline = open_fds();

    auto result = call(client.get(), "Mount", [](sd_bus_message* m) {
        check(sd_bus_message_append(m, "ssa{sv}", std::string(testing::kDemoName).c_str(), "", 0),
              "append");
    });
    if (result.error_name == "io.containers.VerityMount1.Error.KernelUnsupported") {
        GTEST_SKIP() << "this kernel lacks a feature the sample mount needs: "
                     << result.error_message;
    }
    ASSERT_EQ(result.error_name, "") << result.error_message;
    int received = -1;
    ASSERT_GE(sd_bus_message_read_basic(result.reply.get(), 'h', &received), 0);
    UniqueFd rootfs(::fcntl(received, F_DUPFD_CLOEXEC, 3));  // the message owns `received`
    ASSERT_TRUE(rootfs.valid());
    Dict info = read_dict(result.reply.get());
    result.reply.reset();

    EXPECT_EQ(read_beneath(rootfs.get(), "etc/os-release"), testing::kOsRelease);
    EXPECT_EQ(read_beneath(rootfs.get(), "etc/motd"), testing::kTopMotd);
    EXPECT_EQ(info["image_id"].text, built.image().id);
    EXPECT_EQ(info["manifest_digest"].text, built.image().manifest_digest);
    EXPECT_EQ(info["verity"].text, "digest");
    ASSERT_EQ(info["layers"].dicts.size(), built.image().layers.size());
    for (std::size_t i = 0; i < built.image().layers.size(); ++i) {
        EXPECT_EQ(info["layers"].dicts[i].at("layer_id").text, built.image().layers[i].id);
        EXPECT_EQ(info["layers"].dicts[i].at("blob_digest").text,
                  built.image().layers[i].blob_digest);
    }
    EXPECT_NE(info["elapsed_us"].text, "0");
    // DESIGN §8a: one elapsed_us per request, the same in the reply and in the audit record.
    const auto records = audit.wait_for(1);
    EXPECT_EQ(records[0].line(), "Mount " + std::string(testing::kDemoName) + " ok");
    EXPECT_EQ(std::to_string(records[0].elapsed_us), info["elapsed_us"].text);
    EXPECT_EQ(service.counters().mounts, 1u);

    // One more round trip: the server has finished with the Mount reply by then, and only the
    // caller's copy of the rootfs is left open.
    ASSERT_EQ(call(client.get(), "GetStatus").error_name, "");
    EXPECT_EQ(fds_on_filesystem_of(rootfs.get()), 1u);
    // Its layer mounts are closed on the worker, after the reply.
    service.wait_layer_mounts_closed();
    EXPECT_EQ(open_fds(), baseline + 1);
    rootfs.reset();
    EXPECT_EQ(open_fds(), baseline);
    EXPECT_EQ(server.stop(), 0);
}

}  // namespace
}  // namespace vmd::bus
