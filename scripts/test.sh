#!/usr/bin/env bash
# The test command: installs what is missing, builds, and runs every test (unit, integration
# against a real dbus-daemon and real mounts, and the fs-verity VM) under CTest.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" != 0 ]; then
  echo "test.sh: run as root (the tests mount filesystems and run a bus daemon)" >&2
  exit 2
fi
scripts/install-deps.sh
scripts/build.sh
ctest --test-dir "${BUILD_DIR:-build}" --output-on-failure -j2 "$@"
