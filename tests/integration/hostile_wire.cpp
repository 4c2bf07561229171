#include "hostile_wire.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include <fmt/format.h>

namespace vmd::testing::wire {
namespace {

constexpr int kTimeoutMs = 30000;
constexpr std::uint8_t kMethodCall = 1;
constexpr std::uint8_t kNoReplyExpected = 1;

/// Waits until `fd` is readable; throws after kTimeoutMs.
void wait_readable(int fd) {
    pollfd pfd{fd, POLLIN, 0};
    int rc = 0;
    while ((rc = ::poll(&pfd, 1, kTimeoutMs)) < 0 && errno == EINTR) {
    }
    if (rc <= 0) {
        throw std::runtime_error("raw peer: nothing to read within 30 s");
    }
}

void write_all(int fd, std::string_view bytes) {
    while (!bytes.empty()) {
        const ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            throw std::runtime_error(std::string("raw peer: send: ") + std::strerror(errno));
        }
        bytes.remove_prefix(static_cast<std::size_t>(n));
    }
}

/// One header field: code, then a variant of `type` holding `value`.
void field(Writer& header, std::uint8_t code, char type, std::string_view value) {
    if (value.empty()) {
        return;
    }
    header.align(8);
    header.byte(code);
    header.signature(std::string(1, type));
    if (type == 'g') {
        header.signature(value);
    } else {
        header.string(value);
    }
}

std::string marshal(const Call& call, std::uint32_t serial) {
    Writer header;
    header.byte('l');
    header.byte(kMethodCall);
    header.byte(call.expect_reply ? 0 : kNoReplyExpected);
    header.byte(1);
    header.u32(static_cast<std::uint32_t>(call.body.size()));
    header.u32(serial);
    const auto fields = header.begin_array(8);
    field(header, 1, 'o', call.path);
    field(header, 2, 's', call.interface);
    field(header, 3, 's', call.member);
    field(header, 6, 's', call.destination);
    field(header, 8, 'g', call.signature);
    header.end_array(fields);
    header.align(8);
    return header.bytes() + call.body;
}

/// Reads little-endian values from a received message.
class Reader {
  public:
    explicit Reader(std::string_view bytes) : bytes_(bytes) {}
    void align(std::size_t n) { at_ = (at_ + n - 1) / n * n; }
    std::uint8_t byte() { return static_cast<std::uint8_t>(take(1)[0]); }
    std::uint32_t u32() {
        align(4);
        const auto raw = take(4);
        std::uint32_t value = 0;
        for (int i = 3; i >= 0; --i) {
            value = value << 8 | static_cast<std::uint8_t>(raw[static_cast<std::size_t>(i)]);
        }
        return value;
    }
    std::string string() {
        const auto size = u32();
        std::string value(take(size));
        take(1);
        return value;
    }
    std::string signature() {
        const auto size = byte();
        std::string value(take(size));
        take(1);
        return value;
    }
    std::size_t at() const { return at_; }

  private:
    std::string_view take(std::size_t size) {
        if (at_ + size > bytes_.size()) {
            throw std::runtime_error("raw peer: truncated message");
        }
        const auto out = bytes_.substr(at_, size);
        at_ += size;
        return out;
    }
    std::string_view bytes_;
    std::size_t at_ = 0;
};

}  // namespace

void Writer::u32(std::uint32_t value) {
    align(4);
    for (int i = 0; i < 4; ++i) {
        bytes_.push_back(static_cast<char>(value >> (8 * i) & 0xff));
    }
}

void Writer::string(std::string_view value) {
    u32(static_cast<std::uint32_t>(value.size()));
    bytes_.append(value);
    bytes_.push_back('\0');
}

void Writer::signature(std::string_view value) {
    byte(static_cast<std::uint8_t>(value.size()));
    bytes_.append(value);
    bytes_.push_back('\0');
}

void Writer::empty_array(std::size_t element_alignment) {
    end_array(begin_array(element_alignment));
}

Writer::ArrayStart Writer::begin_array(std::size_t element_alignment) {
    align(4);
    const std::size_t length_at = bytes_.size();
    u32(0);
    align(element_alignment);
    return {length_at, bytes_.size()};
}

void Writer::end_array(ArrayStart start) {
    // The length counts from the first element, not the padding before it.
    const auto length = static_cast<std::uint32_t>(bytes_.size() - start.first);
    for (std::size_t i = 0; i < 4; ++i) {
        bytes_[start.length_at + i] = static_cast<char>(length >> (8 * i) & 0xff);
    }
}

std::string Reply::first_string() const {
    if (signature.empty() || signature[0] != 's') {
        return "";
    }
    Reader reader(body);
    return reader.string();
}

RawPeer::RawPeer(const std::filesystem::path& socket, bool hello, bool unix_fds) {
    fd_.reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strncpy(address.sun_path, socket.c_str(), sizeof address.sun_path - 1);
    if (!fd_ || ::connect(fd_.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
        throw std::runtime_error("raw peer: cannot connect to " + socket.string());
    }
    std::string uid_hex;
    for (char c : std::to_string(::getuid())) {
        uid_hex += fmt::format("{:02x}", static_cast<unsigned>(c));
    }
    const auto exchange = [&](const std::string& line, std::string_view expected) {
        write_all(fd_.get(), line);
        std::string answer;
        while (answer.size() < 2 || answer.substr(answer.size() - 2) != "\r\n") {
            std::string byte;
            if (!read_exactly(byte, 1)) {
                throw std::runtime_error("raw peer: connection closed during authentication");
            }
            answer += byte;
        }
        if (!answer.starts_with(expected)) {
            throw std::runtime_error("raw peer: expected " + std::string(expected) + ", found " +
                                     answer);
        }
    };
    exchange(std::string(1, '\0') + "AUTH EXTERNAL " + uid_hex + "\r\n", "OK ");
    if (unix_fds) {
        exchange("NEGOTIATE_UNIX_FD\r\n", "AGREE_UNIX_FD");
    }
    write_all(fd_.get(), "BEGIN\r\n");
    if (hello) {
        Call call;
        call.path = "/org/freedesktop/DBus";
        call.interface = "org.freedesktop.DBus";
        call.member = "Hello";
        call.destination = "org.freedesktop.DBus";
        const auto reply = reply_to(send(call));
        if (!reply || reply->type != 2) {
            throw std::runtime_error("raw peer: Hello was not answered");
        }
    }
}

std::uint32_t RawPeer::send(const Call& call) {
    const std::uint32_t serial = next_serial_++;
    write_all(fd_.get(), marshal(call, serial));
    return serial;
}

bool RawPeer::try_send(const Call& call) {
    const std::string bytes = marshal(call, next_serial_++);
    std::string_view rest = bytes;
    while (!rest.empty()) {
        const ssize_t n = ::send(fd_.get(), rest.data(), rest.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return false;
        }
        rest.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

void RawPeer::send_bytes(std::string_view bytes) {
    write_all(fd_.get(), bytes);
}

std::optional<Reply> RawPeer::reply_to(std::uint32_t serial) {
    for (;;) {
        auto message = next_message();
        if (!message ||
            ((message->type == 2 || message->type == 3) && message->reply_serial == serial)) {
            return message;
        }
    }
}

bool RawPeer::closed_by_peer() {
    char buffer[65536];
    for (;;) {
        wait_readable(fd_.get());
        const ssize_t n = ::recv(fd_.get(), buffer, sizeof buffer, 0);
        if (n == 0 || (n < 0 && errno == ECONNRESET)) {
            return true;
        }
        if (n < 0 && errno != EINTR) {
            throw std::runtime_error(std::string("raw peer: recv: ") + std::strerror(errno));
        }
    }
}

bool RawPeer::read_exactly(std::string& out, std::size_t size) {
    out.resize(size);
    std::size_t done = 0;
    while (done < size) {
        wait_readable(fd_.get());
        const ssize_t n = ::recv(fd_.get(), out.data() + done, size - done, 0);
        if (n == 0 || (n < 0 && errno == ECONNRESET)) {
            return false;
        }
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            throw std::runtime_error(std::string("raw peer: recv: ") + std::strerror(errno));
        }
        done += static_cast<std::size_t>(n);
    }
    return true;
}

std::optional<Reply> RawPeer::next_message() {
    std::string fixed;
    if (!read_exactly(fixed, 16)) {
        return std::nullopt;
    }
    if (fixed[0] != 'l') {
        throw std::runtime_error("raw peer: a big-endian message");
    }
    Reader head(fixed);
    Reply reply;
    head.byte();
    reply.type = head.byte();
    head.byte();
    head.byte();
    const std::uint32_t body_size = head.u32();
    head.u32();
    const std::uint32_t fields_size = head.u32();
    const std::size_t header_size = (16 + fields_size + 7) / 8 * 8;
    std::string rest;
    if (!read_exactly(rest, header_size - 16 + body_size)) {
        return std::nullopt;
    }
    const std::string message = fixed + rest;
    Reader fields(message);
    for (int i = 0; i < 16; ++i) {
        fields.byte();
    }
    while (fields.at() < 16 + fields_size) {
        fields.align(8);
        const std::uint8_t code = fields.byte();
        const std::string type = fields.signature();
        if (type == "s" || type == "o") {
            const std::string value = fields.string();
            if (code == 4) {
                reply.error_name = value;
            }
        } else if (type == "g") {
            const std::string value = fields.signature();
            if (code == 8) {
                reply.signature = value;
            }
        } else if (type == "u") {
            const std::uint32_t value = fields.u32();
            if (code == 5) {
                reply.reply_serial = value;
            }
        } else {
            throw std::runtime_error("raw peer: header field of type " + type);
        }
    }
    reply.body = message.substr(header_size);
    return reply;
}

std::filesystem::path socket_of(std::string_view address) {
    constexpr std::string_view kPrefix = "unix:path=";
    if (!address.starts_with(kPrefix)) {
        throw std::runtime_error("not a unix:path= address: " + std::string(address));
    }
    address.remove_prefix(kPrefix.size());
    return std::filesystem::path(address.substr(0, address.find(',')));
}

}  // namespace vmd::testing::wire
