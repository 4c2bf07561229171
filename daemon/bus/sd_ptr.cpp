#include "bus/sd_ptr.hpp"

#include "common/error.hpp"

namespace vmd::bus {

int check(int r, std::string_view what) {
    if (r < 0) {
        fail_errno(Errc::Internal, -r, what);
    }
    return r;
}

}  // namespace vmd::bus
