#!/usr/bin/env bash
# The demo: a sample signed two-layer composefs image in a private store, mounted through the
# real daemon on a private bus, then tampered with and refused. Cleans up everything it made.
# Exit status: 0 when every step did what it shows; non-zero, naming the step, when any did not.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/private-env.sh
if [ "$(id -u)" != 0 ]; then
  echo "demo.sh: run as root (it mounts filesystems)" >&2
  exit 2
fi
scripts/install-deps.sh
BUILD_TARGETS="verity-mountd verity-mountctl vmd-fixture" scripts/build.sh
build=$PWD/${BUILD_DIR:-build}
ctl=$build/client/verity-mountctl
fixture=$build/tests/fixtures/vmd-fixture

work=$(mktemp -d /tmp/verity-mountd-demo.XXXXXX)
current_step="setup"
bus_pid="" daemon_pid=""

fail() {
  echo "demo: FAILED in step \"$current_step\": $*" >&2
  exit 1
}
# Any command that fails under set -e lands here first, so the failing step is always named.
trap 'echo "demo: FAILED in step \"$current_step\": command \"$BASH_COMMAND\" exited $?" >&2' ERR

# Stops what the demo started, children of this shell only, and keeps the first failure's status.
cleanup() {
  local status=$? problems=()
  trap - ERR
  set +e
  if mountpoint -q "$work/rootfs" 2>/dev/null; then
    umount "$work/rootfs" || problems+=("cannot unmount $work/rootfs")
  fi
  if [ -n "$daemon_pid" ]; then
    kill -TERM "$daemon_pid" 2>/dev/null
    wait "$daemon_pid"
    local daemon_status=$?
    # 0: stopped by SIGTERM as it should be (it handles the signal and exits cleanly).
    [ "$daemon_status" = 0 ] || problems+=("the daemon exited with status $daemon_status")
  fi
  if [ -n "$bus_pid" ]; then
    kill -TERM "$bus_pid" 2>/dev/null
    wait "$bus_pid" 2>/dev/null
  fi
  rm -rf "$work" || problems+=("cannot remove $work")
  if ((${#problems[@]} > 0)); then
    printf 'demo: cleanup: %s\n' "${problems[@]}" >&2
    [ "$status" != 0 ] || status=1
  fi
  exit "$status"
}
trap cleanup EXIT
step() {
  current_step=$*
  printf '\n\033[1m== %s\033[0m\n' "$*"
}

step "1. A signed two-layer composefs image in a private store"
summary=$("$fixture" create --dir "$work/fixture" --with-busybox)
image=$(jq -er .name <<<"$summary")
echo "image:    $image ($(jq -er .image_id <<<"$summary" | cut -c1-12))"
echo "manifest: $(jq -er .manifest_digest <<<"$summary")"
jq -er '.layers[] | "layer:    \(.id[0:12])  composefs blob \(.blob_digest)"' <<<"$summary"

step "2. A private system bus and the daemon on it"
write_bus_conf "$work/bus.conf" "$work/bus.socket"
# --nofork keeps the bus a child of this shell (so cleanup can wait for it); the address line
# it prints once it listens is the readiness signal.
coproc bus { exec dbus-daemon --config-file="$work/bus.conf" --nofork --print-address=1; }
bus_pid=$bus_PID
read -r -u "${bus[0]}" address || fail "dbus-daemon exited without printing its address"
export DBUS_SYSTEM_BUS_ADDRESS=$address
"$build/daemon/verity-mountd" --config "$work/fixture/verity-mountd.json" 2>"$work/daemon.log" &
daemon_pid=$!
# The daemon owns its name once it serves; ask until it answers, as a client would.
for _ in $(seq 100); do
  "$ctl" status >/dev/null 2>&1 && break
  kill -0 "$daemon_pid" 2>/dev/null || fail "the daemon exited at start: $(cat "$work/daemon.log")"
  sleep 0.1
done
"$ctl" status || fail "the daemon does not answer GetStatus after 10 s: $(cat "$work/daemon.log")"

step "3. verity-mountctl mount: verified, measured, mounted, attached"
mkdir -p "$work/rootfs"
"$ctl" mount "$image" --target "$work/rootfs"
echo "--- /etc/os-release from the mounted rootfs:"
cat "$work/rootfs/etc/os-release"
echo "--- /etc/motd (overridden by the top layer): $(cat "$work/rootfs/etc/motd")"
umount "$work/rootfs"

# The patched podman (contrib/podman/build.sh) on the same store and bus, with a private
# containers.conf and storage.conf, each run in a private mount namespace.
podman_bin=${VMD_PODMAN:-$PWD/.cache/podman/bin/podman}
podman_skip=""
if [ ! -x "$podman_bin" ]; then
  podman_skip="the patched podman is not built (contrib/podman/build.sh)"
elif ! command -v runc >/dev/null || ! command -v conmon >/dev/null; then
  podman_skip="runc or conmon is not installed (contrib/podman/build.sh installs them)"
fi
write_podman_conf "$work" "$work/fixture/store" "$work/podman-run"
podman_verified_run() {
  echo "\$ podman run --rm --security-opt signature=require --security-opt verity=digest $image cat /etc/os-release"
  CONTAINERS_CONF=$work/containers.conf CONTAINERS_STORAGE_CONF=$work/storage.conf \
    PODMAN_IGNORE_CGROUPSV1_WARNING=1 unshare -m --propagation private \
    "$podman_bin" --root "$work/fixture/store" --runroot "$work/podman-run" run --rm \
    --security-opt signature=require --security-opt verity=digest "$image" cat /etc/os-release
}

step "3b. The patched podman runs a container on the rootfs the daemon verified"
if [ -n "$podman_skip" ]; then
  echo "skipped: $podman_skip"
else
  podman_verified_run | tee "$work/podman.out"
  grep -q '^ID=vmd-demo$' "$work/podman.out" || fail "podman did not print the image's os-release"
fi

step "4. One byte of the top layer's composefs blob flipped in the store"
"$fixture" tamper --dir "$work/fixture" --what flip-blob-byte >/dev/null
refused=0
"$ctl" mount "$image" --target "$work/rootfs" 2>"$work/refusal.txt" || refused=$?
cat "$work/refusal.txt"
mountpoint -q "$work/rootfs" && fail "the tampered image was mounted -- this must never happen"
# 1 is "refused by the daemon"; anything else (2 usage, 3 unreachable) is not the refusal shown.
[ "$refused" = 1 ] || fail "expected exit code 1 (refused), found $refused"
grep -q '^io\.containers\.VerityMount1\.Error\.VerityMismatch: ' "$work/refusal.txt" ||
  fail "expected the typed error io.containers.VerityMount1.Error.VerityMismatch"
echo "--- refused, as it must be (exit code 1, typed D-Bus error above)"
if [ -n "$podman_skip" ]; then
  echo "--- podman: skipped: $podman_skip"
else
  podman_refused=0
  podman_verified_run 2>"$work/podman.err" || podman_refused=$?
  cat "$work/podman.err"
  [ "$podman_refused" = 125 ] || fail "expected podman to refuse the start with exit code 125, found $podman_refused"
  grep -q 'io\.containers\.VerityMount1\.Error\.VerityMismatch: ' "$work/podman.err" ||
    fail "expected podman to show the daemon's VerityMismatch"
  echo "--- podman refused to start it (exit code 125), with the daemon's error"
fi

step "5. The daemon's audit lines"
kill -0 "$daemon_pid" 2>/dev/null || fail "the daemon is no longer running"
cat "$work/daemon.log"
echo
current_step="cleanup"
echo "demo: done; every mount and process is cleaned up"
