// The stress tests' main: runs every test in a private mount namespace of its own, so that the
// daemons started by the tests (which share it) can be checked for stray mounts without other
// processes on the machine mounting and unmounting in the same table meanwhile.
#include <gtest/gtest.h>
#include <sched.h>
#include <sys/mount.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iomanip>
#include <iostream>
#include <random>
#include <sstream>

#include "stress/stress_env.hpp"

namespace vmd::testing::stress {

const Scale& scale() {
    static const Scale value = [] {
        const char* mode = std::getenv("VMD_STRESS");
        const bool full = mode != nullptr && std::string_view(mode) == "full";
        // Short: about a minute each on 2 busy cores; full: the figures.
        return full ? Scale{true, 100'000, 100, 20'000} : Scale{false, 6'000, 12, 1'200};
    }();
    return value;
}

std::uint64_t seed() {
    static const std::uint64_t value = [] {
        const char* given = std::getenv("VMD_STRESS_SEED");
        const std::uint64_t chosen =
            given != nullptr ? std::strtoull(given, nullptr, 0) : std::random_device{}();
        std::cout << "stress: seed " << chosen << " (replay with VMD_STRESS_SEED=" << chosen
                  << ")\n";
        return chosen;
    }();
    return value;
}

const std::string& nonce() {
    static const std::string value = [] {
        std::ostringstream out;
        out << std::hex << std::setw(16) << std::setfill('0') << std::random_device{}()
            << std::random_device{}();
        return out.str().substr(0, 16);
    }();
    return value;
}

}  // namespace vmd::testing::stress

namespace {

std::string& namespace_problem_text() {
    static std::string text = "not set up";
    return text;
}

}  // namespace

const std::string& vmd::testing::stress::namespace_problem() {
    return namespace_problem_text();
}

int main(int argc, char** argv) {
    ::testing::InitGoogleTest(&argc, argv);
    if (!GTEST_FLAG_GET(list_tests)) {
        if (::unshare(CLONE_NEWNS) == 0 &&
            ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) == 0) {
            namespace_problem_text().clear();
        } else {
            namespace_problem_text() = "cannot make a private mount namespace (" +
                                       std::string(std::strerror(errno)) +
                                       "): the stress tests mount, run them as root";
        }
        vmd::testing::stress::seed();
    }
    return RUN_ALL_TESTS();
}
