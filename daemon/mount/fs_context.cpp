#include "mount/fs_context.hpp"

#include <sys/mount.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

namespace vmd::mount {
namespace {

// fsconfig() copies string values with strndup_user(value, 256).
constexpr std::size_t kMaxStringValue = 255;
// The context's message log holds at most 8 entries; bound the drain loop anyway.
constexpr int kMaxMessages = 16;

std::string_view trim_newline(std::string_view text) {
    while (!text.empty() && (text.back() == '\n' || text.back() == '\0')) {
        text.remove_suffix(1);
    }
    return text;
}

}  // namespace

std::string proc_fd_path(int fd) {
    return fmt::format("/proc/self/fd/{}", fd);
}

FsContext::FsContext(std::string_view fs_type) : fs_type_(fs_type) {
    fd_.reset(::fsopen(fs_type_.c_str(), FSOPEN_CLOEXEC));
    if (!fd_) {
        int err = errno;
        if (err == ENODEV) {
            vmd::fail(Errc::KernelUnsupported,
                      "fsopen({}): expected the kernel to know filesystem type {}, found {}",
                      fs_type_, fs_type_, std::strerror(err));
        }
        vmd::fail(Errc::MountFailed, "fsopen({}): expected a filesystem context, found {}",
                  fs_type_, std::strerror(err));
    }
}

int FsContext::configure(unsigned int command, std::string_view key, const char* value, int aux) {
    std::string key_z(key);
    int rc = ::fsconfig(fd_.get(), command, key_z.empty() ? nullptr : key_z.c_str(), value, aux);
    return rc == 0 ? 0 : errno;
}

int FsContext::try_set_flag(std::string_view key) {
    return configure(FSCONFIG_SET_FLAG, key, nullptr, 0);
}

int FsContext::try_set_string(std::string_view key, std::string_view value) {
    if (value.size() > kMaxStringValue) {
        return EINVAL;
    }
    std::string value_z(value);
    return configure(FSCONFIG_SET_STRING, key, value_z.c_str(), 0);
}

int FsContext::try_set_fd(std::string_view key, int fd) {
    return configure(FSCONFIG_SET_FD, key, nullptr, fd);
}

int FsContext::try_create() {
    return configure(FSCONFIG_CMD_CREATE, {}, nullptr, 0);
}

void FsContext::set_flag(std::string_view key) {
    if (int err = configure(FSCONFIG_SET_FLAG, key, nullptr, 0)) {
        fail_with_messages(Errc::MountFailed, err, fmt::format("option {}", key));
    }
}

void FsContext::set_string(std::string_view key, std::string_view value) {
    if (value.size() > kMaxStringValue) {
        vmd::fail(Errc::MountFailed,
                  "{} option {}: expected a value of at most {} bytes (fsconfig's limit), found {} "
                  "bytes",
                  fs_type_, key, kMaxStringValue, value.size());
    }
    std::string value_z(value);
    if (int err = configure(FSCONFIG_SET_STRING, key, value_z.c_str(), 0)) {
        fail_with_messages(Errc::MountFailed, err, fmt::format("option {}={}", key, value));
    }
}

void FsContext::set_fd(std::string_view key, int fd) {
    if (int err = configure(FSCONFIG_SET_FD, key, nullptr, fd)) {
        fail_with_messages(Errc::MountFailed, err,
                           fmt::format("option {} given as fd {}", key, fd));
    }
}

void FsContext::create() {
    if (int err = try_create()) {
        fail_with_messages(Errc::MountFailed, err, "create");
    }
}

UniqueFd FsContext::mount(unsigned int attr_flags) {
    UniqueFd mnt(::fsmount(fd_.get(), FSMOUNT_CLOEXEC, attr_flags));
    if (!mnt) {
        fail_with_messages(Errc::MountFailed, errno, "fsmount");
    }
    return mnt;
}

std::string FsContext::take_messages() {
    std::string joined;
    std::array<char, 4096> buffer{};
    for (int i = 0; i < kMaxMessages; ++i) {
        ssize_t n = ::read(fd_.get(), buffer.data(), buffer.size());
        if (n <= 0) {
            break;  // ENODATA: the log is empty
        }
        auto message = trim_newline({buffer.data(), static_cast<std::size_t>(n)});
        if (!joined.empty()) {
            joined += "; ";
        }
        joined += message;
    }
    return joined;
}

void FsContext::fail_with_messages(Errc code, int err, std::string_view step) {
    std::string messages = take_messages();
    if (messages.empty()) {
        messages = "no message in the mount context (the kernel log may say more)";
    }
    vmd::fail(code, "{} {}: expected the kernel to accept it, found {} (kernel: {})", fs_type_,
              step, std::strerror(err), messages);
}

}  // namespace vmd::mount
