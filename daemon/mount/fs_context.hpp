// One owner for a filesystem context of the new mount API (fsopen → fsconfig → fsmount).
#pragma once

#include <string>
#include <string_view>

#include "common/error.hpp"
#include "common/unique_fd.hpp"

namespace vmd::mount {

/// "/proc/self/fd/<fd>": how the kernel is handed a path to something we hold open.
std::string proc_fd_path(int fd);

/// Owns an fsopen() fd. Every throwing call that the kernel refuses raises an Error whose text
/// names the step, the errno and the kernel's own messages read back from the context fd
/// ("e ...", "w ...", "i ..." lines), so a refusal always carries the kernel's words.
class FsContext {
  public:
    /// fsopen(fs_type, FSOPEN_CLOEXEC). A filesystem the kernel does not know:
    /// Error(KernelUnsupported); another failure: Error(MountFailed).
    explicit FsContext(std::string_view fs_type);

    /// FSCONFIG_SET_FLAG key.
    void set_flag(std::string_view key);
    /// FSCONFIG_SET_STRING key=value. Values over the kernel's 255-byte limit are refused first.
    void set_string(std::string_view key, std::string_view value);
    /// FSCONFIG_SET_FD key=fd (the fd stays owned by the caller).
    void set_fd(std::string_view key, int fd);
    /// FSCONFIG_CMD_CREATE: builds the superblock. Refusal: Error(MountFailed).
    void create();
    /// fsmount(FSMOUNT_CLOEXEC, attr_flags): the detached mount's fd.
    UniqueFd mount(unsigned int attr_flags);

    /// The same steps without throwing: 0 on success, else the errno. The kernel's messages stay
    /// queued for take_messages() or fail_with_messages().
    int try_set_flag(std::string_view key);
    int try_set_string(std::string_view key, std::string_view value);
    int try_set_fd(std::string_view key, int fd);
    int try_create();

    /// Drains the kernel's queued messages, joined with "; " (empty when there are none).
    std::string take_messages();
    /// Throws Error(code) for `step` refused with `err`, with the queued kernel messages.
    [[noreturn]] void fail_with_messages(Errc code, int err, std::string_view step);

    const std::string& fs_type() const { return fs_type_; }

  private:
    int configure(unsigned int command, std::string_view key, const char* value, int aux);

    std::string fs_type_;
    UniqueFd fd_;
};

}  // namespace vmd::mount
