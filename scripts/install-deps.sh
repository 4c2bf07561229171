#!/usr/bin/env bash
# Installs every Debian 12 package the build, the tests and the demo need. Idempotent.
set -euo pipefail

packages=(
  # build
  cmake g++ make pkg-config clang-14 clang-format clang-tidy
  libsdbus-c++-dev libsdbus-c++-bin libsystemd-dev libssl-dev libsimdjson-dev
  libspdlog-dev libfmt-dev libgtest-dev libgmock-dev libbenchmark-dev libclang-rt-14-dev
  # the OpenPGP verifier's decompression
  zlib1g-dev libbz2-dev
  # tests and demo: the real bus, the real store code, the reference tools
  dbus systemd skopeo fsverity erofs-utils attr util-linux e2fsprogs jq
  # the OpenPGP tests make their cases with gpg and check them with gpgv
  gnupg gpgv
  # the sandbox test checks the daemon's system calls against the unit's SystemCallFilter=
  strace
  # the Debian package (scripts/package-test.sh): dpkg-shlibdeps for its dependencies
  dpkg-dev
  # podman end to end: the runtime the patched podman uses, a pod's infra program, and Debian's
  # podman for the stock-podman path (contrib/podman/build.sh installs Go and the build libraries)
  podman runc conmon netavark catatonit
  # the VMs: fs-verity (tests/vm) and a booted Debian root filesystem (tests/vm/system)
  qemu-system-x86 busybox-static xz-utils kmod mmdebstrap
)

missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]} > 0)); then
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
echo "install-deps: all ${#packages[@]} packages present"
