// A D-Bus peer that writes the wire format by hand, for callers no D-Bus library would let a
// test be: invalid UTF-8, bodies that lie about their signature, calls that are never read.
// Little-endian, version 1; only what the hostile tests send and read.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "common/unique_fd.hpp"

namespace vmd::testing::wire {

/// A message body (or header) being marshalled: every write aligns itself as D-Bus requires.
class Writer {
  public:
    void align(std::size_t n) {
        while (bytes_.size() % n != 0) {
            bytes_.push_back('\0');
        }
    }
    void byte(std::uint8_t value) { bytes_.push_back(static_cast<char>(value)); }
    void u32(std::uint32_t value);
    /// 's' or 'o': any bytes, unchecked (that is the point).
    void string(std::string_view value);
    /// 'g'.
    void signature(std::string_view value);
    /// Where an array began: its length's offset and its first element's.
    struct ArrayStart {
        std::size_t length_at;
        std::size_t first;
    };
    /// An empty array whose elements align to `element_alignment` ("a{sv}": 8).
    void empty_array(std::size_t element_alignment);
    /// Opens an array whose elements align to `element_alignment`; end_array() sets its length.
    ArrayStart begin_array(std::size_t element_alignment);
    void end_array(ArrayStart start);

    const std::string& bytes() const { return bytes_; }

  private:
    std::string bytes_;
};

/// A method call as it goes on the wire.
struct Call {
    std::string path = "/io/containers/VerityMount1";
    std::string interface = "io.containers.VerityMount1";
    std::string member;
    std::string destination = "io.containers.VerityMount1";
    std::string signature;  // of the body, as the header states it
    std::string body;       // marshalled by a Writer (or anything at all)
    bool expect_reply = true;
};

/// What came back for a call.
struct Reply {
    std::uint8_t type = 0;  // 2 method return, 3 error
    std::uint32_t reply_serial = 0;
    std::string error_name;
    std::string signature;
    std::string body;
    /// The first string of the body (an error's message), or "".
    std::string first_string() const;
};

/// One connection to a D-Bus socket, authenticated with EXTERNAL as this process's uid.
class RawPeer {
  public:
    /// Connects and authenticates; with `unix_fds`, negotiates fd passing; with `hello`, calls
    /// org.freedesktop.DBus.Hello first (a bus requires it). Throws std::runtime_error.
    RawPeer(const std::filesystem::path& socket, bool hello, bool unix_fds = true);

    /// Sends `call`; returns its serial.
    std::uint32_t send(const Call& call);
    /// Sends `call` unless the socket is full (false: then maybe a part of it went out, and the
    /// stream is no longer usable) or closed by the other side (false).
    bool try_send(const Call& call);
    /// Sends raw bytes as they are.
    void send_bytes(std::string_view bytes);
    /// The reply to `serial` (other messages are skipped), or nullopt when the connection ends
    /// first. Throws after 30 s without one.
    std::optional<Reply> reply_to(std::uint32_t serial);
    /// Whether the other side has closed the connection (reads and discards what is queued;
    /// throws after 30 s with the connection still open).
    bool closed_by_peer();

    int fd() const { return fd_.get(); }

  private:
    std::optional<Reply> next_message();
    bool read_exactly(std::string& out, std::size_t size);

    UniqueFd fd_;
    std::uint32_t next_serial_ = 1;
};

/// The socket path of a "unix:path=…[,guid=…]" address.
std::filesystem::path socket_of(std::string_view address);

}  // namespace vmd::testing::wire
