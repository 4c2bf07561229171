#include "bench/raw_mount.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <unistd.h>

#include <stdexcept>

#include "fixtures/store_files.hpp"
#include "mount/composefs.hpp"

namespace vmd::bench {
namespace {

UniqueFd open_or_throw(const std::filesystem::path& path, int flags) {
    UniqueFd fd(::open(path.c_str(), flags | O_CLOEXEC));
    if (!fd) {
        throw std::runtime_error("cannot open " + path.string());
    }
    return fd;
}

// The digest level's copy without its digest: memfd, sendfile (copy_file_range refuses a
// memfd from another filesystem), seals.
UniqueFd sealed_memfd_copy(int source) {
    UniqueFd memfd(::memfd_create("bench-blob", MFD_CLOEXEC | MFD_ALLOW_SEALING));
    if (!memfd) {
        throw std::runtime_error("memfd_create failed");
    }
    off_t offset = 0;
    for (;;) {
        ssize_t n = ::sendfile(memfd.get(), source, &offset, 1 << 20);
        if (n < 0) {
            throw std::runtime_error("sendfile into a memfd failed");
        }
        if (n == 0) {
            break;
        }
    }
    if (::fcntl(memfd.get(), F_ADD_SEALS,
                F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) != 0) {
        throw std::runtime_error("sealing a memfd failed");
    }
    return memfd;
}

}  // namespace

RawImage::RawImage(const std::filesystem::path& store, const std::vector<std::string>& layer_ids)
    : kernel_(mount::probe_kernel_features(store)) {
    for (const auto& id : layer_ids) {
        blobs_.push_back(open_or_throw(testing::blob_path(store, id), O_RDONLY));
        diffs_.push_back(
            open_or_throw(testing::layer_dir(store, id) / "diff", O_PATH | O_DIRECTORY));
    }
}

void RawImage::mount_once(RawKind kind) const {
    std::vector<UniqueFd> erofs;  // top first
    mount::OverlaySpec overlay;
    for (std::size_t i = blobs_.size(); i-- > 0;) {
        if (kind == RawKind::MemfdCopy) {
            auto copy = sealed_memfd_copy(blobs_[i].get());
            erofs.push_back(
                mount::mount_erofs(copy.get(), mount::ErofsSourceKind::Loop, false, kernel_));
        } else {
            erofs.push_back(
                mount::mount_erofs(blobs_[i].get(), mount::ErofsSourceKind::File, false, kernel_));
        }
        overlay.metadata_layers.push_back(erofs.back().get());
        overlay.data_layers.push_back(diffs_[i].get());
    }
    overlay.verity_require = kind == RawKind::FileVerity;
    mount::mount_overlay(overlay, kernel_).reset();
}

}  // namespace vmd::bench
