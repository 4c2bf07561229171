#!/usr/bin/env bash
# The demo: a sample signed two-layer composefs image in a private store, mounted through the
# real daemon on a private bus, then tampered with and refused. Cleans up everything it made.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" != 0 ]; then
  echo "demo.sh: run as root (it mounts filesystems)" >&2
  exit 2
fi
scripts/install-deps.sh
BUILD_TARGETS="verity-mountd verity-mountctl vmd-fixture" scripts/build.sh
build=$PWD/${BUILD_DIR:-build}
ctl=$build/client/verity-mountctl

work=$(mktemp -d /tmp/verity-mountd-demo.XXXXXX)
bus_pid="" daemon_pid=""
cleanup() {
  mountpoint -q "$work/rootfs" 2>/dev/null && umount "$work/rootfs"
  [ -n "$daemon_pid" ] && kill "$daemon_pid" 2>/dev/null && wait "$daemon_pid" 2>/dev/null
  [ -n "$bus_pid" ] && kill "$bus_pid" 2>/dev/null && wait "$bus_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "1. A signed two-layer composefs image in a private store"
summary=$("$build/tests/fixtures/vmd-fixture" create --dir "$work/fixture")
image=$(jq -r .name <<<"$summary")
echo "image:    $image ($(jq -r .image_id <<<"$summary" | cut -c1-12))"
echo "manifest: $(jq -r .manifest_digest <<<"$summary")"
jq -r '.layers[] | "layer:    \(.id[0:12])  composefs blob \(.blob_digest)"' <<<"$summary"

step "2. A private system bus and the daemon on it"
cat >"$work/bus.conf" <<CONF
<busconfig><type>system</type><listen>unix:path=$work/bus.socket</listen><auth>EXTERNAL</auth>
<policy context="default"><allow user="*"/><allow send_destination="*" eavesdrop="true"/>
<allow eavesdrop="true"/><deny own="*"/></policy>
<policy user="root"><allow own="*"/></policy></busconfig>
CONF
read -r address bus_pid < <(dbus-daemon --config-file="$work/bus.conf" --fork --nopidfile \
  --print-address=1 --print-pid=1 | tr '\n' ' '; echo)
export DBUS_SYSTEM_BUS_ADDRESS=$address
"$build/daemon/verity-mountd" --config "$work/fixture/verity-mountd.json" 2>"$work/daemon.log" &
daemon_pid=$!
for _ in $(seq 100); do "$ctl" status >/dev/null 2>&1 && break; sleep 0.1; done
"$ctl" status

step "3. verity-mountctl mount: verified, measured, mounted, attached"
mkdir -p "$work/rootfs"
"$ctl" mount "$image" --target "$work/rootfs"
echo "--- /etc/os-release from the mounted rootfs:"
cat "$work/rootfs/etc/os-release"
echo "--- /etc/motd (overridden by the top layer): $(cat "$work/rootfs/etc/motd")"
umount "$work/rootfs"

step "4. One byte of the top layer's composefs blob flipped in the store"
"$build/tests/fixtures/vmd-fixture" tamper --dir "$work/fixture" --what flip-blob-byte
if "$ctl" mount "$image" --target "$work/rootfs"; then
  echo "demo: the tampered image was mounted -- this must never happen" >&2
  exit 1
fi
echo "--- refused, as it must be (exit code 1, typed D-Bus error above)"

step "5. The daemon's audit lines"
cat "$work/daemon.log"
echo
echo "demo: done; every mount and process is cleaned up"
