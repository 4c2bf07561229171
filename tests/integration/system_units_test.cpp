// The generated systemd units and D-Bus files, checked by the real tools: systemd-analyze verify
// and security, and the fields every activation path relies on.
#include <gtest/gtest.h>

#include <iostream>
#include <regex>

#include "system_support.hpp"

namespace vmd::testing::sys {
namespace {

// The exposure score systemd-analyze gives the unit (0 = locked down, 10 = unprotected). A root
// mount daemon keeps CAP_SYS_ADMIN, @mount, loop devices and root, and cannot have
// RestrictSUIDSGID= (below): 1.9 here (systemd 252). The threshold leaves no room for more than one
// further loosening.
constexpr double kMaxExposure = 2.0;

/// The service and socket unit in `dir`, as generated, with ExecStart= naming the built daemon
/// (systemd-analyze verify requires the executable to exist).
fs::path test_units(const fs::path& dir) {
    auto service = read_file(generated("units/verity-mountd.service"));
    write_file(
        dir / "verity-mountd.service",
        replace_key(service, "ExecStart", "ExecStart=" + built("daemon/verity-mountd").string()));
    fs::copy_file(generated("units/verity-mountd.socket"), dir / "verity-mountd.socket");
    return dir / "verity-mountd.service";
}

TEST(Units, GeneratedUnitsNameTheInstalledDaemon) {
    auto service = read_file(generated("units/verity-mountd.service"));
    auto exec = unit_values(service, "ExecStart");
    ASSERT_EQ(exec.size(), 1u) << service;
    EXPECT_TRUE(exec[0].starts_with('/') && exec[0].ends_with("/verity-mountd")) << exec[0];
    EXPECT_EQ(service.find("@VMD_"), std::string::npos) << "unsubstituted template: " << service;
    EXPECT_EQ(unit_values(service, "Type"), std::vector<std::string>{"notify"});
    EXPECT_EQ(unit_values(service, "BusName"),
              std::vector<std::string>{"io.containers.VerityMount1"});
    EXPECT_EQ(unit_values(service, "ProtectSystem"), std::vector<std::string>{"strict"});
    EXPECT_EQ(unit_values(service, "PrivateNetwork"), std::vector<std::string>{"yes"});
    EXPECT_EQ(unit_values(service, "RestrictAddressFamilies"), std::vector<std::string>{"AF_UNIX"});
    EXPECT_EQ(unit_values(service, "NoNewPrivileges"), std::vector<std::string>{"yes"});
    // systemd's RestrictSUIDSGID= filter answers every openat2() with ENOSYS, and the daemon opens
    // each store file with openat2(): under systemd, every Mount was refused (tests/vm/system).
    EXPECT_EQ(unit_values(service, "RestrictSUIDSGID"), std::vector<std::string>{});

    auto socket = read_file(generated("units/verity-mountd.socket"));
    EXPECT_EQ(unit_values(socket, "ListenStream"),
              std::vector<std::string>{"/run/verity-mountd/io.socket"});
    EXPECT_EQ(unit_values(socket, "SocketMode"), std::vector<std::string>{"0600"});
    EXPECT_EQ(unit_values(socket, "Service"), std::vector<std::string>{"verity-mountd.service"});
}

TEST(Units, ActivationFileStartsTheServiceAsRoot) {
    auto text = read_file(generated("dbus/io.containers.VerityMount1.service"));
    EXPECT_TRUE(text.starts_with("[D-BUS Service]\n")) << text;
    EXPECT_EQ(unit_values(text, "Name"), std::vector<std::string>{"io.containers.VerityMount1"});
    EXPECT_EQ(unit_values(text, "User"), std::vector<std::string>{"root"});
    EXPECT_EQ(unit_values(text, "SystemdService"),
              std::vector<std::string>{"verity-mountd.service"});
    // The same daemon as the unit's.
    auto service = read_file(generated("units/verity-mountd.service"));
    EXPECT_EQ(unit_values(text, "Exec"), unit_values(service, "ExecStart"));
}

TEST(Units, SystemdAnalyzeVerifyAcceptsBothUnits) {
    TempDir dir;
    auto service = test_units(dir.path());
    auto result = run({"systemd-analyze", "verify", service.string(),
                       (dir.path() / "verity-mountd.socket").string()});
    EXPECT_EQ(result.exit_code, 0) << result.out << result.err;
    // verify prints warnings without failing; there must be none about our units.
    EXPECT_EQ(result.err.find("verity-mountd"), std::string::npos) << result.err;
    EXPECT_EQ(result.out.find("verity-mountd"), std::string::npos) << result.out;
}

TEST(Units, SystemdAnalyzeVerifyRejectsABrokenUnit) {
    // The check above can fail: a misspelt setting is reported.
    TempDir dir;
    auto service = test_units(dir.path());
    write_file(service, read_file(service) + "ProtectSystm=strict\n");
    auto result = run({"systemd-analyze", "verify", service.string()});
    EXPECT_NE(result.err.find("ProtectSystm"), std::string::npos) << result.out << result.err;
}

TEST(Units, SecurityExposureIsLow) {
    TempDir dir;
    auto service = test_units(dir.path());
    auto result = run({"systemd-analyze", "security", "--offline=true", service.string()});
    ASSERT_EQ(result.exit_code, 0) << result.out << result.err;
    std::smatch match;
    static const std::regex overall(
        R"(Overall exposure level for verity-mountd\.service: ([0-9.]+))");
    ASSERT_TRUE(std::regex_search(result.out, match, overall)) << result.out;
    const double score = std::stod(match[1]);
    std::cout << "[ SCORE    ] systemd-analyze security: " << match[1] << " (threshold "
              << kMaxExposure << ")\n";
    EXPECT_LT(score, kMaxExposure) << result.out;
    // The settings a mount daemon cannot do without are the only ones that cost.
    for (const auto* setting :
         {"PrivateNetwork=", "NoNewPrivileges=", "ProtectSystem=", "ProtectKernelModules=",
          "ProtectKernelTunables=", "RestrictNamespaces=~mnt", "MemoryDenyWriteExecute="}) {
        auto line = result.out.find(setting);
        ASSERT_NE(line, std::string::npos) << setting;
        EXPECT_NE(result.out.substr(line - 4, 4).find("✓"), std::string::npos) << setting << ":\n"
                                                                               << result.out;
    }
}

}  // namespace
}  // namespace vmd::testing::sys
