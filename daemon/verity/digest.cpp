#include "verity/digest.hpp"

#include <openssl/evp.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "common/error.hpp"

namespace vmd::verity {
namespace {

const EVP_MD* sha256_md() {
    static const EVP_MD* md = EVP_sha256();
    return md;
}

struct MdCtxDeleter {
    void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};
using MdCtx = std::unique_ptr<EVP_MD_CTX, MdCtxDeleter>;

void sha256(EVP_MD_CTX* ctx, std::span<const std::uint8_t> data, std::uint8_t* out) {
    unsigned int len = 0;
    if (EVP_DigestInit_ex2(ctx, sha256_md(), nullptr) != 1 ||
        EVP_DigestUpdate(ctx, data.data(), data.size()) != 1 ||
        EVP_DigestFinal_ex(ctx, out, &len) != 1) {
        throw Error(Errc::Internal, "SHA-256 failed in OpenSSL");
    }
}

void put_le64(std::uint8_t* out, std::uint64_t value) {
    for (int i = 0; i < 8; ++i) {
        out[i] = static_cast<std::uint8_t>(value >> (8 * i));
    }
}

}  // namespace

// levels[0] collects hashes of data blocks; when a level's block fills, its hash moves up.
struct FsVerityHasher::State {
    MdCtx ctx{EVP_MD_CTX_new()};
    std::vector<std::uint8_t> data_block;
    std::vector<std::vector<std::uint8_t>> levels;
    std::uint64_t size = 0;

    void push_hash(std::size_t level, const std::uint8_t* hash) {
        if (levels.size() <= level) {
            levels.resize(level + 1);
        }
        auto& block = levels[level];
        block.insert(block.end(), hash, hash + kHashSize);
        if (block.size() == kBlockSize) {
            std::uint8_t up[kHashSize];
            sha256(ctx.get(), block, up);
            block.clear();
            push_hash(level + 1, up);
        }
    }

    void hash_data_block() {
        data_block.resize(kBlockSize, 0);
        std::uint8_t hash[kHashSize];
        sha256(ctx.get(), data_block, hash);
        data_block.clear();
        push_hash(0, hash);
    }
};

FsVerityHasher::FsVerityHasher() : state_(std::make_unique<State>()) {
    if (!state_->ctx) {
        throw Error(Errc::Internal, "EVP_MD_CTX_new failed");
    }
    state_->data_block.reserve(kBlockSize);
}
FsVerityHasher::~FsVerityHasher() = default;
FsVerityHasher::FsVerityHasher(FsVerityHasher&&) noexcept = default;
FsVerityHasher& FsVerityHasher::operator=(FsVerityHasher&&) noexcept = default;

void FsVerityHasher::update(std::span<const std::byte> data) {
    auto& s = *state_;
    s.size += data.size();
    const auto* bytes = reinterpret_cast<const std::uint8_t*>(data.data());
    std::size_t remaining = data.size();
    // Whole blocks straight from the caller's buffer when nothing is pending.
    while (s.data_block.empty() && remaining >= kBlockSize) {
        std::uint8_t hash[kHashSize];
        sha256(s.ctx.get(), {bytes, kBlockSize}, hash);
        s.push_hash(0, hash);
        bytes += kBlockSize;
        remaining -= kBlockSize;
    }
    while (remaining > 0) {
        std::size_t take = std::min(remaining, kBlockSize - s.data_block.size());
        s.data_block.insert(s.data_block.end(), bytes, bytes + take);
        bytes += take;
        remaining -= take;
        if (s.data_block.size() == kBlockSize) {
            s.hash_data_block();
        }
    }
}

Sha256 FsVerityHasher::finish() {
    auto& s = *state_;
    std::uint8_t root[64] = {};
    if (s.size > 0) {
        if (!s.data_block.empty()) {
            s.hash_data_block();
        }
        // Close each level bottom-up: a level holding exactly one hash with nothing above it is
        // the root; otherwise its zero-padded partial block is hashed into the next level.
        for (std::size_t level = 0; level < s.levels.size(); ++level) {
            auto& block = s.levels[level];
            bool top = level + 1 == s.levels.size();
            if (top && block.size() == kHashSize) {
                std::memcpy(root, block.data(), kHashSize);
                break;
            }
            if (!block.empty()) {
                block.resize(kBlockSize, 0);
                std::uint8_t up[kHashSize];
                sha256(s.ctx.get(), block, up);
                block.clear();
                s.push_hash(level + 1, up);
            }
        }
    }
    std::uint8_t descriptor[256] = {};
    descriptor[0] = 1;   // version
    descriptor[1] = 1;   // FS_VERITY_HASH_ALG_SHA256
    descriptor[2] = 12;  // log2(block size)
    descriptor[3] = 0;   // salt size
    put_le64(descriptor + 8, s.size);
    std::memcpy(descriptor + 16, root, sizeof root);
    Sha256 digest{};
    sha256(s.ctx.get(), {descriptor, sizeof descriptor}, digest.data());
    return digest;
}

Sha256 digest_bytes(std::span<const std::byte> data) {
    FsVerityHasher hasher;
    hasher.update(data);
    return hasher.finish();
}

Sha256 digest_fd(int fd, std::uint64_t max_bytes) {
    FsVerityHasher hasher;
    // Not zero-filled, and small enough to be reused from the heap rather than mapped anew.
    constexpr std::size_t kBufferSize = std::size_t{64} << 10;
    const auto buffer = std::make_unique_for_overwrite<std::byte[]>(kBufferSize);
    off_t offset = 0;
    for (;;) {
        // One byte past the bound is enough to know the file is too long.
        const std::uint64_t room = max_bytes - static_cast<std::uint64_t>(offset);
        const auto want = static_cast<std::size_t>(
            std::min<std::uint64_t>(kBufferSize, room == UINT64_MAX ? room : room + 1));
        ssize_t n = ::pread(fd, buffer.get(), want, offset);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            fail_errno(Errc::StorageCorrupt, errno,
                       "reading a file to compute its fs-verity digest");
        }
        if (n == 0) {
            break;
        }
        offset += n;
        if (static_cast<std::uint64_t>(offset) > max_bytes) {
            fail(Errc::StorageCorrupt,
                 "fs-verity digest: expected a file of at most {} bytes, found at least {}",
                 max_bytes, offset);
        }
        hasher.update({buffer.get(), static_cast<std::size_t>(n)});
    }
    return hasher.finish();
}

std::string to_hex(std::span<const std::uint8_t> bytes) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size() * 2);
    for (auto b : bytes) {
        out.push_back(digits[b >> 4]);
        out.push_back(digits[b & 0xf]);
    }
    return out;
}

std::string to_string(const Sha256& digest) {
    return "sha256:" + to_hex(digest);
}

}  // namespace vmd::verity
