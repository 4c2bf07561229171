# Installation as a system component (`cmake --install`) and the Debian package (`cpack -G DEB`):
# the daemon (libexec) and verity-mountctl (bin) are installed by their own directories; this
# file adds the systemd units, the D-Bus policy and activation file, the interface XML, the
# default config (never overwritten) and the documentation. Every location is a cache variable.
include(GNUInstallDirs)

# Defaults from the system's pkg-config files where they exist (Debian 12 ships systemd.pc in
# the systemd package; dbus-1.pc only with libdbus-1-dev, hence the fallbacks).
find_package(PkgConfig QUIET)
if(PKG_CONFIG_FOUND)
  pkg_get_variable(vmd_pc_unit_dir systemd systemdsystemunitdir)
  pkg_get_variable(vmd_pc_dbus_datadir dbus-1 datadir)
  pkg_get_variable(vmd_pc_dbus_services_dir dbus-1 system_bus_services_dir)
endif()
if(NOT vmd_pc_unit_dir)
  set(vmd_pc_unit_dir "${CMAKE_INSTALL_LIBDIR}/systemd/system")
endif()
if(vmd_pc_dbus_datadir)
  set(vmd_dbus_policy_default "${vmd_pc_dbus_datadir}/dbus-1/system.d")
else()
  set(vmd_dbus_policy_default "${CMAKE_INSTALL_DATADIR}/dbus-1/system.d")
endif()
if(NOT vmd_pc_dbus_services_dir)
  set(vmd_pc_dbus_services_dir "${CMAKE_INSTALL_DATADIR}/dbus-1/system-services")
endif()

set(VMD_SYSTEMD_UNIT_DIR "${vmd_pc_unit_dir}" CACHE PATH
    "systemd system unit directory (pkg-config systemd systemdsystemunitdir)")
set(VMD_DBUS_POLICY_DIR "${vmd_dbus_policy_default}" CACHE PATH
    "D-Bus system bus policy directory (dbus-1 datadir/dbus-1/system.d)")
set(VMD_DBUS_SERVICES_DIR "${vmd_pc_dbus_services_dir}" CACHE PATH
    "D-Bus system bus activation directory (dbus-1 system_bus_services_dir)")
set(VMD_DBUS_INTERFACES_DIR "${CMAKE_INSTALL_DATADIR}/dbus-1/interfaces" CACHE PATH
    "D-Bus interface XML directory")
# The daemon's built-in default is /etc/containers/verity-mountd.json (DESIGN §5).
set(VMD_CONFIG_DIR "/etc/containers" CACHE PATH
    "Where the default config verity-mountd.json goes (kept if it already exists)")

# The templates name the daemon by its installed path. The build tree gets a copy for the tests
# and for inspection (paths of this configuration); the installed copy is generated again at
# install time, because cpack installs with its own prefix (/usr).
set(vmd_generated_templates
    "${PROJECT_SOURCE_DIR}/units/verity-mountd.service.in|units/verity-mountd.service"
    "${PROJECT_SOURCE_DIR}/dbus/io.containers.VerityMount1.service.in|dbus/io.containers.VerityMount1.service")

set(VMD_DAEMON_PATH "${CMAKE_INSTALL_FULL_LIBEXECDIR}/verity-mountd")
set(VMD_DOC_DIR "${CMAKE_INSTALL_FULL_DOCDIR}")
foreach(pair IN LISTS vmd_generated_templates)
  string(REPLACE "|" ";" pair "${pair}")
  list(GET pair 0 template)
  list(GET pair 1 output)
  configure_file("${template}" "${PROJECT_BINARY_DIR}/${output}" @ONLY)
endforeach()
configure_file("${PROJECT_SOURCE_DIR}/units/verity-mountd.socket"
               "${PROJECT_BINARY_DIR}/units/verity-mountd.socket" COPYONLY)

# Install time: ${CMAKE_INSTALL_PREFIX} and $ENV{DESTDIR} are those of the install being run;
# @…@ are this configuration's values.
set(vmd_install_code [=[
  function(vmd_installed_path dir out)
    if(IS_ABSOLUTE "${dir}")
      set(${out} "${dir}" PARENT_SCOPE)
    else()
      set(${out} "${CMAKE_INSTALL_PREFIX}/${dir}" PARENT_SCOPE)
    endif()
  endfunction()
  vmd_installed_path("@CMAKE_INSTALL_LIBEXECDIR@" libexec)
  vmd_installed_path("@CMAKE_INSTALL_DOCDIR@" VMD_DOC_DIR)
  set(VMD_DAEMON_PATH "${libexec}/verity-mountd")
  foreach(pair IN ITEMS @vmd_generated_templates@)
    string(REPLACE "|" ";" pair "${pair}")
    list(GET pair 0 template)
    list(GET pair 1 output)
    configure_file("${template}" "@PROJECT_BINARY_DIR@/install-time/${output}" @ONLY)
  endforeach()

  # The config is the administrator's once installed: never replace it. (file(INSTALL) adds
  # DESTDIR itself.)
  vmd_installed_path("@VMD_CONFIG_DIR@" config_dir)
  set(config "$ENV{DESTDIR}${config_dir}/verity-mountd.json")
  if(EXISTS "${config}")
    message(STATUS "Keeping: ${config}")
  else()
    file(INSTALL "@PROJECT_SOURCE_DIR@/policy/verity-mountd.json"
         DESTINATION "${config_dir}"
         PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
  endif()
]=])
list(TRANSFORM vmd_generated_templates PREPEND "\"")
list(TRANSFORM vmd_generated_templates APPEND "\"")
list(JOIN vmd_generated_templates " " vmd_generated_templates)
string(CONFIGURE "${vmd_install_code}" vmd_install_code @ONLY)
install(CODE "${vmd_install_code}")

set(vmd_install_time "${PROJECT_BINARY_DIR}/install-time")
install(FILES "${vmd_install_time}/units/verity-mountd.service"
              "${PROJECT_SOURCE_DIR}/units/verity-mountd.socket"
        DESTINATION "${VMD_SYSTEMD_UNIT_DIR}")
install(FILES "${PROJECT_SOURCE_DIR}/dbus/io.containers.VerityMount1.conf"
        DESTINATION "${VMD_DBUS_POLICY_DIR}")
install(FILES "${vmd_install_time}/dbus/io.containers.VerityMount1.service"
        DESTINATION "${VMD_DBUS_SERVICES_DIR}")
install(FILES "${PROJECT_SOURCE_DIR}/dbus/io.containers.VerityMount1.xml"
        DESTINATION "${VMD_DBUS_INTERFACES_DIR}")
install(FILES "${PROJECT_SOURCE_DIR}/README.md"
              "${PROJECT_SOURCE_DIR}/policy/policy.json.example"
              "${PROJECT_SOURCE_DIR}/policy/verity-mountd.json"
        DESTINATION "${CMAKE_INSTALL_DOCDIR}")
# policy/README.md would land on the top-level README.md: install it under its own name.
install(FILES "${PROJECT_SOURCE_DIR}/policy/README.md"
        DESTINATION "${CMAKE_INSTALL_DOCDIR}" RENAME "policy-README.md")

# --- The Debian package -------------------------------------------------------------------------
set(VMD_PACKAGE_MAINTAINER "verity-mountd maintainers <root@localhost>" CACHE STRING
    "Maintainer field of the Debian package")

# Maintainer scripts: reload systemd's view of the units when systemd runs (it may not: containers,
# CI machines); the units are not enabled, since socket and bus activation need no enabling.
set(vmd_deb_dir "${PROJECT_BINARY_DIR}/deb-control")
set(vmd_reload [=[#!/bin/sh
set -e
if [ -d /run/systemd/system ] && command -v systemctl >/dev/null; then
  systemctl daemon-reload || true
fi
]=])
file(WRITE "${vmd_deb_dir}/postinst" "${vmd_reload}")
file(WRITE "${vmd_deb_dir}/postrm" "${vmd_reload}")
file(WRITE "${vmd_deb_dir}/conffiles" "${VMD_CONFIG_DIR}/verity-mountd.json\n")

set(CPACK_GENERATOR "DEB")
set(CPACK_PACKAGE_NAME "verity-mountd")
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGE_CONTACT "${VMD_PACKAGE_MAINTAINER}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "verified composefs mounts of container images over D-Bus")
set(CPACK_PACKAGE_DESCRIPTION
    "A root daemon, started on demand, that verifies container images from a containers/storage
store (sigstore signatures against policy.json, composefs fs-verity digests) for every request
and returns detached overlay mounts over D-Bus; and verity-mountctl, its command-line client.")
set(CPACK_PACKAGING_INSTALL_PREFIX "/usr")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION "admin")
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "dbus, systemd")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    "${vmd_deb_dir}/postinst;${vmd_deb_dir}/postrm;${vmd_deb_dir}/conffiles")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_PACKAGE_DIRECTORY "${PROJECT_BINARY_DIR}/package")
include(CPack)
