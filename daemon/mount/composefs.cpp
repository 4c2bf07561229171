// The main mount path for current kernels; the fallbacks live in mount_compat.
#include "mount/composefs.hpp"

#include <sys/mount.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <optional>

#include "common/error.hpp"
#include "mount/fs_context.hpp"
#include "mount/loop_device.hpp"
#include "mount/mount_compat.hpp"

namespace vmd::mount {
namespace {

// libcomposefs' header at offset 0 of its EROFS images: magic, version, flags (little-endian).
constexpr std::uint32_t kComposefsMagic = 0xd078629a;
constexpr std::uint32_t kComposefsFlagHasAcl = 1U << 0;
constexpr std::size_t kComposefsHeaderSize = 12;

std::uint32_t le32(const std::array<std::uint8_t, kComposefsHeaderSize>& bytes,
                   std::size_t offset) {
    return static_cast<std::uint32_t>(bytes[offset]) |
           static_cast<std::uint32_t>(bytes[offset + 1]) << 8 |
           static_cast<std::uint32_t>(bytes[offset + 2]) << 16 |
           static_cast<std::uint32_t>(bytes[offset + 3]) << 24;
}

// Hands one overlay layer to the kernel in the best way it understands.
class LayerAdder {
  public:
    LayerAdder(FsContext& ctx, const KernelFeatures& kernel) : ctx_(ctx), kernel_(kernel) {}

    void add(std::string_view key, int fd) {
        if (!kernel_.layers_by_fd) {
            ctx_.set_string(key, proc_fd_path(fd));
            return;
        }
        if (!kernel_.layers_by_opath_fd) {
            if (auto reopened = reopen_if_opath(fd)) {
                fd = reopened.get();
                reopened_.push_back(std::move(reopened));
            }
        }
        ctx_.set_fd(key, fd);
    }

  private:
    FsContext& ctx_;
    const KernelFeatures& kernel_;
    std::vector<UniqueFd> reopened_;  // must outlive the fsconfig calls only
};

void check_spec(const OverlaySpec& spec, const KernelFeatures& kernel) {
    if (spec.metadata_layers.empty()) {
        fail(Errc::Internal, "overlay: expected at least one metadata layer, found none");
    }
    if ((spec.upper_dir < 0) != (spec.work_dir < 0)) {
        fail(Errc::Internal, "overlay: expected upper and work dir together, found only the {}",
             spec.upper_dir >= 0 ? "upper" : "work");
    }
    std::size_t lowers = spec.metadata_layers.size() + spec.data_layers.size();
    if (spec.upper_dir < 0 && lowers < 2) {
        // The kernel says so only in its log; say it here.
        fail(Errc::MountFailed,
             "overlay: expected at least 2 lower layers for a mount without upper dir, found {}",
             lowers);
    }
    if (spec.verity_require && !kernel.overlay_verity) {
        fail(Errc::KernelUnsupported,
             "overlay verity=require: expected a kernel whose overlay supports verity= (Linux "
             "6.6), found {} without it",
             kernel.release);
    }
}

}  // namespace

bool composefs_blob_has_acl(int blob_fd) {
    std::array<std::uint8_t, kComposefsHeaderSize> header{};
    std::size_t got = 0;
    while (got < header.size()) {
        ssize_t n =
            ::pread(blob_fd, header.data() + got, header.size() - got, static_cast<off_t>(got));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            fail_errno(Errc::StorageCorrupt, errno, "read the composefs header");
        }
        if (n == 0) {
            return true;  // too short for a header: not a composefs image, mount as it is
        }
        got += static_cast<std::size_t>(n);
    }
    if (le32(header, 0) != kComposefsMagic) {
        return true;
    }
    return (le32(header, 8) & kComposefsFlagHasAcl) != 0;
}

UniqueFd mount_erofs(int blob_fd, ErofsSourceKind kind, bool noacl, const KernelFeatures& kernel) {
    // EROFS reads a regular file itself only from 6.12, and never a memfd (ENOTBLK): those go
    // through a loop device, which clears itself once the mount is gone.
    std::optional<LoopDevice> loop;
    int source_fd = blob_fd;
    if (kind == ErofsSourceKind::Loop || !kernel.erofs_file_backed) {
        loop.emplace(LoopDevice::attach(blob_fd));
        source_fd = loop->fd();
    }
    FsContext ctx("erofs");
    ctx.set_string("source", proc_fd_path(source_fd));
    ctx.set_flag("ro");
    if (noacl) {
        ctx.set_flag("noacl");
    }
    ctx.create();
    return ctx.mount(MOUNT_ATTR_RDONLY);
}

UniqueFd mount_overlay(const OverlaySpec& spec, const KernelFeatures& kernel) {
    check_spec(spec, kernel);
    FsContext ctx("overlay");
    ctx.set_string("source", "verity-mountd");

    std::optional<StagedLayers> staged;
    std::vector<int> metadata = spec.metadata_layers;
    if (!kernel.detached_layers) {
        staged.emplace(spec.metadata_layers, spec.staging_root);
        metadata = staged->fds();
    }

    LayerAdder layers(ctx, kernel);
    if (kernel.overlay_lowerdir_plus) {
        for (int fd : metadata) {
            layers.add("lowerdir+", fd);
        }
        for (int fd : spec.data_layers) {
            layers.add("datadir+", fd);
        }
    } else {
        std::vector<std::string> metadata_paths;
        std::vector<std::string> data_paths;
        metadata_paths.reserve(metadata.size());
        data_paths.reserve(spec.data_layers.size());
        for (int fd : metadata) {
            metadata_paths.push_back(proc_fd_path(fd));
        }
        for (int fd : spec.data_layers) {
            data_paths.push_back(proc_fd_path(fd));
        }
        ctx.set_string("lowerdir", legacy_lowerdir(metadata_paths, data_paths));
    }

    bool writable = spec.upper_dir >= 0;
    if (writable) {
        if (kernel.overlay_lowerdir_plus) {
            layers.add("upperdir", spec.upper_dir);
            layers.add("workdir", spec.work_dir);
        } else {
            ctx.set_string("upperdir", proc_fd_path(spec.upper_dir));
            ctx.set_string("workdir", proc_fd_path(spec.work_dir));
        }
        // Only index=on makes the kernel refuse (EBUSY) an upper/work dir already in use by
        // another overlay; with index=off it merely warns in its log.
        ctx.set_string("index", "on");
    } else {
        ctx.set_flag("ro");
    }
    ctx.set_string("metacopy", "on");
    ctx.set_string("redirect_dir", "on");
    if (spec.verity_require) {
        ctx.set_string("verity", "require");
    }
    if (int err = ctx.try_create()) {
        if (err == EBUSY) {
            ctx.fail_with_messages(Errc::Busy, err,
                                   "create (the upper and work dirs are in use by another mount)");
        }
        if (err == ESTALE && writable) {
            ctx.fail_with_messages(Errc::MountFailed, err,
                                   "create (index=on: the upper dir was last mounted over other "
                                   "lower layers)");
        }
        ctx.fail_with_messages(Errc::MountFailed, err, "create");
    }

    unsigned int attrs = 0;
    if (spec.readonly || !writable) {
        attrs |= MOUNT_ATTR_RDONLY;
    }
    if (spec.nodev) {
        attrs |= MOUNT_ATTR_NODEV;
    }
    if (spec.nosuid) {
        attrs |= MOUNT_ATTR_NOSUID;
    }
    return ctx.mount(attrs);
}

}  // namespace vmd::mount
