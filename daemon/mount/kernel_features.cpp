// probe_kernel_features: each flag comes from a real, bounded system call, never from the
// version number alone (distribution kernels backport features).
#include "mount/kernel_features.hpp"

#include <fcntl.h>
#include <linux/fsverity.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "common/error.hpp"
#include "common/unique_fd.hpp"
#include "mount/fs_context.hpp"

namespace vmd::mount {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t kErofsBlock = 4096;
using ErofsImage = std::array<std::uint8_t, kErofsBlock>;

void put_le(ErofsImage& image, std::size_t offset, std::uint64_t value, std::size_t bytes) {
    for (std::size_t i = 0; i < bytes; ++i) {
        image[offset + i] = static_cast<std::uint8_t>(value >> (8 * i));
    }
}

// The smallest valid EROFS image: one 4096-byte block holding the superblock (at 1024) and an
// empty root directory (compact inode, entries "." and ".." inline). Mounting it only reads the
// superblock and the root inode.
ErofsImage minimal_erofs_image() {
    constexpr std::size_t sb = 1024;
    constexpr std::uint64_t root_nid = 36;  // inode slot 36 of 32 bytes = offset 1152
    constexpr std::size_t inode = root_nid * 32;
    constexpr std::size_t dirents = inode + 32;
    ErofsImage image{};
    put_le(image, sb + 0, 0xE0F5E1E2, 4);      // magic
    put_le(image, sb + 12, 12, 1);             // log2 of the block size
    put_le(image, sb + 14, root_nid, 2);       // root inode number
    put_le(image, sb + 16, 1, 8);              // inode count
    put_le(image, sb + 36, 1, 4);              // block count
    put_le(image, inode + 0, 2 << 1, 2);       // compact inode, data inline (FLAT_INLINE)
    put_le(image, inode + 4, 040755, 2);       // mode: directory
    put_le(image, inode + 6, 2, 2);            // links
    put_le(image, inode + 8, 27, 4);           // size: two 12-byte entries + ".", ".."
    put_le(image, inode + 16, 0xFFFFFFFF, 4);  // no separate data block
    for (std::size_t i = 0; i < 2; ++i) {
        std::size_t entry = dirents + 12 * i;
        put_le(image, entry + 0, root_nid, 8);  // both entries point at the root
        put_le(image, entry + 8, 24 + i, 2);    // name offset within the block
        put_le(image, entry + 10, 2, 1);        // file type: directory
    }
    image[dirents + 24] = '.';
    image[dirents + 25] = '.';
    image[dirents + 26] = '.';
    return image;
}

std::string kernel_release() {
    struct utsname name {};
    if (::uname(&name) != 0) {
        return "unknown";
    }
    return name.release;
}

// An unnamed temporary file in `dir` (O_TMPFILE, else a random name unlinked at once).
UniqueFd temp_file(const fs::path& dir) {
    UniqueFd fd(::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600));
    if (fd) {
        return fd;
    }
    std::string tmpl = (dir / ".verity-mountd-probe-XXXXXX").string();
    fd.reset(::mkostemp(tmpl.data(), O_CLOEXEC));
    if (fd) {
        ::unlink(tmpl.c_str());
    }
    return fd;
}

bool probe_fs_verity(const fs::path& dir) {
    // Measuring the directory itself writes nothing (the store root is read-only to us): a
    // non-verity inode answers ENODATA only where the kernel and this filesystem implement
    // fs-verity; ENOTTY or EOPNOTSUPP mean one of them lacks it.
    UniqueFd file(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!file) {
        return false;
    }
    std::array<std::uint8_t, sizeof(fsverity_digest) + 64> buffer{};
    auto* digest = reinterpret_cast<fsverity_digest*>(buffer.data());
    digest->digest_size = 64;
    return ::ioctl(file.get(), FS_IOC_MEASURE_VERITY, digest) != 0 && errno == ENODATA;
}

bool probe_erofs_file_backed(const fs::path& dir) {
    UniqueFd file = temp_file(dir);
    if (!file) {
        return false;
    }
    auto image = minimal_erofs_image();
    if (::pwrite(file.get(), image.data(), image.size(), 0) != static_cast<ssize_t>(image.size())) {
        return false;
    }
    try {
        FsContext ctx("erofs");
        // Before 6.12 EROFS wants a block device here and refuses with ENOTBLK. The superblock
        // made by create goes away with the context: nothing is mounted.
        return ctx.try_set_string("source", proc_fd_path(file.get())) == 0 &&
               ctx.try_set_flag("ro") == 0 && ctx.try_create() == 0;
    } catch (const Error&) {
        return false;
    }
}

UniqueFd detached_tmpfs() {
    FsContext ctx("tmpfs");
    ctx.create();
    return ctx.mount(0);
}

void probe_overlay(KernelFeatures& features) {
    try {
        FsContext options("overlay");
        // Before 6.5 overlay takes options through the legacy shim, which accepts any key until
        // create: nothing can be probed that way, and none of the features exists there anyway.
        if (options.try_set_string("verity-mountd-probe", "x") == 0) {
            return;
        }
        features.overlay_verity = options.try_set_string("verity", "require") == 0;
        features.overlay_lowerdir_plus = options.try_set_string("lowerdir+", "/") == 0;
        if (!features.overlay_lowerdir_plus) {
            return;
        }
        UniqueFd dir(::open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        UniqueFd path_dir(::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
        features.layers_by_fd = dir && options.try_set_fd("lowerdir+", dir.get()) == 0;
        features.layers_by_opath_fd = features.layers_by_fd && path_dir &&
                                      options.try_set_fd("lowerdir+", path_dir.get()) == 0;

        // Detached mounts as layers: only create tells (it clones each layer's mount). Two
        // detached tmpfs mounts, because a read-only overlay needs two lowers. Closing the
        // context and the mount fds frees all of it; nothing is ever attached.
        UniqueFd lower1 = detached_tmpfs();
        UniqueFd lower2 = detached_tmpfs();
        FsContext detached("overlay");
        features.detached_layers =
            detached.try_set_string("lowerdir+", proc_fd_path(lower1.get())) == 0 &&
            detached.try_set_string("lowerdir+", proc_fd_path(lower2.get())) == 0 &&
            detached.try_create() == 0;
    } catch (const Error&) {
        // No overlay (or no tmpfs) at all: the flags not yet set stay false.
    }
}

}  // namespace

KernelFeatures probe_kernel_features(const fs::path& store_root) {
    KernelFeatures features;
    features.release = kernel_release();
    features.fs_verity = probe_fs_verity(store_root);
    // Before 6.18 tmpfs files cannot back EROFS ("Block device required"); the store's own
    // filesystem is asked too where we may create a temporary file there.
    features.erofs_file_backed =
        probe_erofs_file_backed("/tmp") || probe_erofs_file_backed(store_root);
    probe_overlay(features);
    return features;
}

}  // namespace vmd::mount
