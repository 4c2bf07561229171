#include "client/verity_mount_client.hpp"

#include <sdbus-c++/sdbus-c++.h>
#include <map>
#include <utility>

#include "client/reply_decode.hpp"
#include "verity_mount1_proxy.h"  // generated from dbus/io.containers.VerityMount1.xml

namespace vmd::client {
namespace {

using VariantMap = std::map<std::string, sdbus::Variant>;

// The generated proxy, bound to a connection the Client owns. No event loop runs on that
// connection: calls are synchronous, so sdbus-c++ waits for each reply with sd_bus_call.
class Proxy final : public sdbus::ProxyInterfaces<io::containers::VerityMount1_proxy> {
  public:
    explicit Proxy(sdbus::IConnection& connection)
        : ProxyInterfaces(connection, kBusName, kObjectPath) {
        registerProxy();
    }
    ~Proxy() { unregisterProxy(); }
    Proxy(const Proxy&) = delete;
    Proxy& operator=(const Proxy&) = delete;

    /// Calls `method` with `args` and returns the reply unread. The generated methods would
    /// hand the reply's a{sv} over as sdbus::Variants, one message each: reply_decode.hpp
    /// reads it in one pass instead.
    template <typename... Args>
    sdbus::MethodReply call_raw(const char* method, const Args&... args) {
        auto call = getProxy().createMethodCall(INTERFACE_NAME, method);
        if constexpr (sizeof...(Args) > 0) {
            (call << ... << args);
        }
        return getProxy().callMethod(call);
    }
};

VariantMap encode(const CheckOptions& options) {
    VariantMap out;
    if (options.signature) {
        out.emplace("signature", std::string(to_string(*options.signature)));
    }
    if (options.verity) {
        out.emplace("verity", std::string(to_string(*options.verity)));
    }
    return out;
}

VariantMap encode(const MountOptions& options) {
    VariantMap out = encode(static_cast<const CheckOptions&>(options));
    for (const auto& [key, flag] :
         {std::pair{"readonly", options.readonly}, std::pair{"nodev", options.nodev},
          std::pair{"nosuid", options.nosuid}}) {
        if (flag) {
            out.emplace(key, *flag);
        }
    }
    return out;
}

// Runs one call, turning sdbus-c++'s errors into ClientError with the name kept as received.
template <typename Call>
auto call(Call&& body) -> decltype(body()) {
    try {
        return body();
    } catch (const sdbus::Error& error) {
        throw ClientError(classify_error_name(error.getName()), error.getName(),
                          error.getMessage());
    }
}

// Any failure while connecting means the daemon cannot be reached, whatever sd-bus names it.
ClientError unreachable(const sdbus::Error& error) {
    return ClientError(ErrorKind::Unreachable, error.getName(), error.getMessage());
}

}  // namespace

struct Client::Impl {
    // Declared before the proxy, which refers to it: destroyed after it.
    std::unique_ptr<sdbus::IConnection> connection;
    Proxy proxy;

    explicit Impl(std::unique_ptr<sdbus::IConnection> conn)
        : connection(std::move(conn)), proxy(*connection) {}
};

Client::Client(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Client::Client(Client&&) noexcept = default;
Client& Client::operator=(Client&&) noexcept = default;
Client::~Client() = default;

Client Client::system_bus() {
    try {
        return Client(std::make_unique<Impl>(sdbus::createSystemBusConnection()));
    } catch (const sdbus::Error& error) {
        throw unreachable(error);
    }
}

Client Client::at_address(const std::string& address) {
    try {
        return Client(
            std::make_unique<Impl>(sdbus::createSessionBusConnectionWithAddress(address)));
    } catch (const sdbus::Error& error) {
        throw unreachable(error);
    }
}

Client Client::connect(const std::optional<std::string>& address) {
    return address ? at_address(*address) : system_bus();
}

void Client::set_timeout(std::chrono::microseconds timeout) {
    impl_->connection->setMethodCallTimeout(static_cast<std::uint64_t>(timeout.count()));
}

MountResult Client::mount(const std::string& image, const std::string& container,
                          const MountOptions& options) {
    return call([&] {
        auto reply = impl_->proxy.call_raw("Mount", image, container, encode(options));
        UniqueFd rootfs = read_rootfs(reply);
        return MountResult{std::move(rootfs), read_report(reply)};
    });
}

Report Client::verify(const std::string& image, const CheckOptions& options) {
    return call([&] {
        auto reply = impl_->proxy.call_raw("Verify", image, encode(options));
        return read_report(reply);
    });
}

Status Client::status() {
    return call([&] {
        auto reply = impl_->proxy.call_raw("GetStatus");
        return read_status(reply);
    });
}

}  // namespace vmd::client
