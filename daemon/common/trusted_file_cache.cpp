#include "common/trusted_file_cache.hpp"

#include <sys/stat.h>

#include <ctime>

namespace vmd {

std::optional<FileVersion> file_version(const std::filesystem::path& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
        return std::nullopt;
    }
    constexpr std::int64_t kNsPerSecond = 1'000'000'000;
    return FileVersion{st.st_dev, st.st_ino, st.st_size,
                       st.st_mtim.tv_sec * kNsPerSecond + st.st_mtim.tv_nsec,
                       st.st_ctim.tv_sec * kNsPerSecond + st.st_ctim.tv_nsec};
}

std::int64_t realtime_ns() {
    timespec now{};
    ::clock_gettime(CLOCK_REALTIME, &now);
    return now.tv_sec * std::int64_t{1'000'000'000} + now.tv_nsec;
}

}  // namespace vmd
