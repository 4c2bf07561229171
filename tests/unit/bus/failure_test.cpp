// Exception safety of the bus layer: a failure anywhere between reading a call and replying (a
// worker thread that cannot start, an allocation, a reply that cannot be built, an fd that cannot
// be put into it, a reply that cannot be sent) is injected through the FaultInjector seam, on a
// real private dbus-daemon with real mounts of the sample image. Afterwards the call was
// answered with a typed error (or, for a failed send, nothing), and nothing of it is left: no
// request slot, no fd (rootfs, EROFS layers, loop devices, memfds are all fds of the daemon), no
// pending call — the next Mount works and idle exit still fires.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cerrno>
#include <mutex>
#include <new>
#include <string>

#include "bus/faults.hpp"
#include "bus/worker_pool.hpp"
#include "bus_fixture.hpp"
#include "fixtures/sample_images.hpp"
#include "mount/kernel_features.hpp"

namespace vmd::bus {
namespace {

using ::testing::HasSubstr;
using testing::bus_fixture::AuditCapture;
using testing::bus_fixture::call;
using testing::bus_fixture::CallResult;
using testing::bus_fixture::connect;
using testing::bus_fixture::open_fds;
using testing::bus_fixture::PrivateBus;
using testing::bus_fixture::read_beneath;
using testing::bus_fixture::ServerThread;

const std::string kInternal = "io.containers.VerityMount1.Error.Internal";

/// The injector a test arms: fails one FaultPoint a number of times.
class Faults {
  public:
    /// Fails `point` the next `times` times: by returning `error` (a negative errno), or by
    /// throwing std::bad_alloc when `error` is 0.
    void arm(FaultPoint point, int error, int times = 1) {
        std::lock_guard lock(mutex_);
        point_ = point;
        error_ = error;
        remaining_ = times;
    }
    /// The FaultInjector.
    int at(FaultPoint point) {
        std::lock_guard lock(mutex_);
        if (point != point_ || remaining_ == 0) {
            return 0;
        }
        --remaining_;
        if (error_ == 0) {
            throw std::bad_alloc();
        }
        return error_;
    }
    /// Whether every armed failure happened.
    bool spent() {
        std::lock_guard lock(mutex_);
        return remaining_ == 0;
    }

  private:
    std::mutex mutex_;
    FaultPoint point_ = FaultPoint::Decode;
    int error_ = 0;
    int remaining_ = 0;
};

/// The sample image in a store, the server on a private bus with a Faults injector.
class CallFailure : public ::testing::Test {
  protected:
    void SetUp() override {
        built_.emplace(testing::build_store(testing::sample_store(), dir_.path() / "fixture"));
        config_ = config::load_config(built_->paths.config, false);
        config_.idle_exit_seconds = 0;
    }

    void start() {
        service_.emplace(config_, mount::probe_kernel_features());
        RunOptions options;
        options.bus_address = bus_.address();
        options.inject_fault = [this](FaultPoint point) { return faults_.at(point); };
        server_.emplace(*service_, options);
        ASSERT_TRUE(server_->ready());
        client_ = connect(bus_.address());
    }

    /// Starts the server and mounts once straight through the service (opening whatever is
    /// opened once per process, and starting no worker thread), so that baseline_ is the fd
    /// count of a server with nothing in flight. Skips the test when this kernel cannot mount
    /// the sample image.
    void start_and_warm_up() {
        start();
        try {
            service::Request request;
            request.caller = {0, ::getpid()};
            request.method = "Mount";
            request.image = testing::kDemoName;
            auto mounted = service_->mount(request);
            EXPECT_EQ(read_beneath(mounted.rootfs.get(), "etc/os-release"), testing::kOsRelease);
        } catch (const Error& error) {
            // A kernel without a needed feature is a reason to skip; a refused mount is a bug.
            if (error.code() == Errc::KernelUnsupported) {
                GTEST_SKIP() << "this kernel lacks a feature the sample mount needs: "
                             << error.message();
            }
            throw;
        }
        round_trip();
        baseline_ = open_fds();
    }

    CallResult mount() {
        return call(client_.get(), "Mount", [](sd_bus_message* m) {
            check(
                sd_bus_message_append(m, "ssa{sv}", std::string(testing::kDemoName).c_str(), "", 0),
                "append");
        });
    }

    /// /etc/os-release read through the rootfs a successful Mount returned.
    static std::string received_os_release(const CallResult& result) {
        if (!result.error_name.empty()) {
            return result.error_name + ": " + result.error_message;
        }
        int received = -1;
        if (sd_bus_message_read_basic(result.reply.get(), 'h', &received) <= 0) {
            return "(no rootfs fd in the reply)";
        }
        return read_beneath(received, "etc/os-release");
    }

    /// A GetStatus round trip: the server has finished with every earlier reply by then.
    void round_trip() { ASSERT_EQ(call(client_.get(), "GetStatus").error_name, ""); }

    /// Nothing of any earlier call is left in the server.
    void expect_nothing_left() {
        round_trip();
        EXPECT_EQ(service_->in_flight(), 0u) << "a request slot was not released";
        // A Mount's layer mounts are closed on the worker after its reply went out.
        service_->wait_layer_mounts_closed();
        EXPECT_EQ(open_fds(), baseline_) << "the server kept fds (rootfs, layers, loop devices)";
    }

    testing::TempDir dir_;
    std::optional<testing::BuiltStore> built_;
    config::Config config_;
    PrivateBus bus_;
    Faults faults_;
    std::optional<service::Service> service_;
    std::optional<ServerThread> server_;
    BusPtr client_;
    std::size_t baseline_ = 0;
};

struct Scenario {
    const char* name;
    FaultPoint point;
    int error;  // a negative errno, or 0 for std::bad_alloc
    const char* message;
};

class InjectedFailure : public CallFailure, public ::testing::WithParamInterface<Scenario> {};

TEST_P(InjectedFailure, IsAnInternalErrorAndLeavesNothingBehind) {
    start_and_warm_up();
    if (IsSkipped() || HasFatalFailure()) {
        return;
    }
    const Scenario& scenario = GetParam();
    AuditCapture audit;
    faults_.arm(scenario.point, scenario.error);
    auto refused = mount();
    EXPECT_TRUE(faults_.spent());
    EXPECT_EQ(refused.error_name, kInternal) << refused.error_message;
    EXPECT_THAT(refused.error_message, HasSubstr(scenario.message));
    refused.reply.reset();
    expect_nothing_left();
    // Audited once, as refused, and counted.
    EXPECT_EQ(audit.lines(), (std::vector<std::string>{"Mount " + std::string(testing::kDemoName) +
                                                       " " + kInternal}));
    EXPECT_EQ(service_->counters().refusals, 1u);
    EXPECT_EQ(service_->counters().mounts, 0u);

    // And the next Mount is served as usual.
    auto mounted = mount();
    EXPECT_EQ(received_os_release(mounted), testing::kOsRelease);
    mounted.reply.reset();
    expect_nothing_left();
}

INSTANTIATE_TEST_SUITE_P(
    EveryStep, InjectedFailure,
    ::testing::Values(Scenario{"DecodeOutOfMemory", FaultPoint::Decode, 0, "out of memory"},
                      Scenario{"ThreadCannotStart", FaultPoint::StartThread, -EAGAIN,
                               "start a worker thread: Resource temporarily unavailable"},
                      Scenario{"QueueOutOfMemory", FaultPoint::Queue, 0, "out of memory"},
                      Scenario{"WorkerOutOfMemory", FaultPoint::Run, 0, "out of memory"},
                      Scenario{"ReplyOutOfMemory", FaultPoint::Reply, 0, "out of memory"},
                      Scenario{"ReplyCannotBeMade", FaultPoint::Reply, -ENOMEM, "build the reply"},
                      Scenario{"FdCannotBeAdded", FaultPoint::AppendFd, -EMFILE,
                               "rootfs: Too many open files"}),
    [](const ::testing::TestParamInfo<Scenario>& param) { return std::string(param.param.name); });

// The known bug: a worker thread that could not start left the call pending and its task queued,
// so busy() stayed true and the daemon never exited when idle.
TEST_F(CallFailure, IdleExitStillFiresAfterAThreadFailedToStart) {
    config_.idle_exit_seconds = 1;
    start();
    faults_.arm(FaultPoint::StartThread, -EAGAIN);
    auto refused = mount();
    EXPECT_EQ(refused.error_name, kInternal) << refused.error_message;
    refused.reply.reset();
    EXPECT_EQ(service_->in_flight(), 0u);
    const auto code = server_->wait_for(std::chrono::seconds(60));
    ASSERT_TRUE(code.has_value()) << "the server did not exit when idle";
    EXPECT_EQ(*code, 0);
}

// A reply that cannot be sent (the caller left): no error can reach anyone, the mount made for it
// is closed, and the request is audited once with the elapsed_us it would have carried.
TEST_F(CallFailure, ReplyThatCannotBeSentLeavesNothingBehind) {
    start_and_warm_up();
    if (IsSkipped() || HasFatalFailure()) {
        return;
    }
    AuditCapture audit;
    faults_.arm(FaultPoint::Send, -ENOTCONN);
    sd_bus_message* raw = nullptr;
    ASSERT_GE(sd_bus_message_new_method_call(client_.get(), &raw, "io.containers.VerityMount1",
                                             "/io/containers/VerityMount1",
                                             "io.containers.VerityMount1", "Mount"),
              0);
    MessagePtr unanswered(raw);
    ASSERT_GE(sd_bus_message_append(raw, "ssa{sv}", std::string(testing::kDemoName).c_str(), "", 0),
              0);
    std::uint64_t cookie = 0;  // with a cookie, the call expects a reply
    ASSERT_GE(sd_bus_send(client_.get(), raw, &cookie), 0);
    const auto records = audit.wait_for(1);  // written just before the send that fails
    EXPECT_EQ(records[0].line(), "Mount " + std::string(testing::kDemoName) + " ok");
    EXPECT_GT(records[0].elapsed_us, 0u);
    expect_nothing_left();
    EXPECT_TRUE(faults_.spent());

    auto mounted = mount();
    EXPECT_EQ(received_os_release(mounted), testing::kOsRelease);
    mounted.reply.reset();
    expect_nothing_left();
}

// The pool on its own: a task whose thread could not start is refused and never runs later.
TEST(WorkerPoolFailure, TaskRefusedForWantOfAThreadNeverRuns) {
    Faults faults;
    std::atomic<int> runs{0};
    {
        WorkerPool pool(2, [&](FaultPoint point) { return faults.at(point); });
        faults.arm(FaultPoint::StartThread, -EAGAIN);
        EXPECT_THROW(pool.submit([&] { ++runs; }), std::system_error);
        EXPECT_EQ(pool.threads(), 0u);
        faults.arm(FaultPoint::Queue, 0);
        EXPECT_THROW(pool.submit([&] { ++runs; }), std::bad_alloc);
        pool.submit([&] { ++runs; });
        pool.shutdown();
    }
    EXPECT_EQ(runs.load(), 1);
}

}  // namespace
}  // namespace vmd::bus
