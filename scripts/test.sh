#!/usr/bin/env bash
# The test command: installs what is missing, builds (the patched podman too), and runs every
# test (unit, integration against a real dbus-daemon and real mounts, podman end to end, and
# the two VMs: the fs-verity cases, and a booted Debian with systemd using the .deb and the
# patched podman) under CTest.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" != 0 ]; then
  echo "test.sh: run as root (the tests mount filesystems and run a bus daemon)" >&2
  exit 2
fi
scripts/install-deps.sh
scripts/build.sh
# The patched podman for the podman end-to-end tests (label "podman"), rebuilt only when its
# source or patches changed; without a podman source those tests skip and say why.
podman_status=0
podman=$(contrib/podman/build.sh) || podman_status=$?
if [ "$podman_status" = 0 ]; then
  export VMD_PODMAN=${podman##*$'\n'}
elif [ "$podman_status" != 3 ]; then
  echo "test.sh: building the patched podman failed (exit $podman_status)" >&2
  exit 1
fi
ctest --test-dir "${BUILD_DIR:-build}" --output-on-failure -j2 "$@"
