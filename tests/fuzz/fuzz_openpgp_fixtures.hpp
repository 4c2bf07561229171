// Shared by the OpenPGP fuzz targets: containers/image's GPG fixtures from the source tree.
#pragma once

#include <fstream>
#include <sstream>
#include <string>

#include "fuzz_support.hpp"

namespace vmd::fuzz {

/// The bytes of tests/data/containers-image-gpg/<name>; a missing fixture is a finding.
inline std::string openpgp_fixture(const char* name) {
    std::ifstream in(std::string(VMD_FUZZ_SOURCE_DIR) + "/../data/containers-image-gpg/" + name,
                     std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    if (text.str().empty()) {
        finding("fixture {} is missing", name);
    }
    return text.str();
}

}  // namespace vmd::fuzz
