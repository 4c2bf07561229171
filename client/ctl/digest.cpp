#include "client/ctl/digest.hpp"

#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <exception>
#include <system_error>
#include <thread>

#include "common/error.hpp"
#include "common/unique_fd.hpp"
#include "verity/digest.hpp"

namespace vmd::ctl {
namespace {

// strerror() is not thread-safe; the generic category's message is.
std::string errno_text(int err) {
    return std::error_code(err, std::generic_category()).message();
}

void digest_one(FileDigest& file) {
    // O_NONBLOCK so that opening a FIFO does not wait for a writer; it is refused below anyway.
    UniqueFd fd(::open(file.path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
    if (!fd) {
        file.error = errno_text(errno);
        return;
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) {
        file.error = errno_text(errno);
        return;
    }
    if (!S_ISREG(st.st_mode)) {
        file.error = "expected a regular file, found another kind of file";
        return;
    }
    try {
        file.digest = verity::to_string(verity::digest_fd(fd.get()));
    } catch (const Error& error) {
        file.error = error.message();
    } catch (const std::exception& error) {
        file.error = error.what();
    }
}

}  // namespace

std::vector<FileDigest> digest_files(std::span<const std::string> paths, unsigned threads) {
    std::vector<FileDigest> files;
    files.reserve(paths.size());
    for (const auto& path : paths) {
        files.push_back({.path = path, .digest = {}, .error = {}});
    }
    if (threads == 0) {
        threads = std::max(1U, std::thread::hardware_concurrency());
    }
    threads = static_cast<unsigned>(std::min<std::size_t>(threads, files.size()));

    // Each worker takes the next file not yet taken, so one large file does not hold up the rest.
    std::atomic<std::size_t> next{0};
    auto work = [&] {
        for (std::size_t i = next++; i < files.size(); i = next++) {
            digest_one(files[i]);
        }
    };
    {
        std::vector<std::jthread> workers;
        for (unsigned i = 1; i < threads; ++i) {
            workers.emplace_back(work);
        }
        work();
    }  // the jthreads join here
    return files;
}

}  // namespace vmd::ctl
