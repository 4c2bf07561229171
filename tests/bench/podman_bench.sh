#!/usr/bin/env bash
# `podman run --rm IMAGE true` with the patched podman: on the rootfs verity-mountd verified
# (signature=require, verity=digest) versus the same podman on its own containers/storage
# composefs mount of the same image, RUNS (default 20) runs each, interleaved. Prints each
# median, the ratio and the load. Run by hand as root after contrib/podman/build.sh and a build.
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/private-env.sh
if [ -z "${VMD_BENCH_NAMESPACE:-}" ]; then
  # One private mount namespace for everything: nothing reaches the host's mount table.
  exec env VMD_BENCH_NAMESPACE=1 unshare -m --propagation private "$0" "$@"
fi
runs=${RUNS:-20}
build=$PWD/${BUILD_DIR:-build}
podman=${VMD_PODMAN:-$PWD/.cache/podman/bin/podman}
for program in "$podman" "$build/daemon/verity-mountd" "$build/tests/fixtures/vmd-fixture"; do
  if [ ! -x "$program" ]; then
    echo "podman_bench: $program is not built (scripts/build.sh, contrib/podman/build.sh)" >&2
    exit 77
  fi
done

work=$(mktemp -d /tmp/vmd-podman-bench.XXXXXX)
bus_pid="" daemon_pid=""
cleanup() {
  [ -n "$daemon_pid" ] && kill "$daemon_pid" 2>/dev/null && wait "$daemon_pid" 2>/dev/null
  [ -n "$bus_pid" ] && kill "$bus_pid" 2>/dev/null && wait "$bus_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

summary=$("$build/tests/fixtures/vmd-fixture" create --dir "$work/fixture" --with-busybox \
  --signature off --verity off)
image=$(sed -E 's/.*"name":"([^"]*)".*/\1/' <<<"$summary")
write_bus_conf "$work/bus.conf" "$work/bus.socket"
read -r address bus_pid < <(dbus-daemon --config-file="$work/bus.conf" --fork --nopidfile \
  --print-address=1 --print-pid=1 | tr '\n' ' '; echo)
export DBUS_SYSTEM_BUS_ADDRESS=$address
"$build/daemon/verity-mountd" --config "$work/fixture/verity-mountd.json" \
  --log-level warn 2>"$work/daemon.log" &
daemon_pid=$!
for _ in $(seq 100); do
  "$build/client/verity-mountctl" status >/dev/null 2>&1 && break
  sleep 0.1
done

write_podman_conf "$work" "$work/fixture/store" "$work/run"
export CONTAINERS_CONF=$work/containers.conf CONTAINERS_STORAGE_CONF=$work/storage.conf
export PODMAN_IGNORE_CGROUPSV1_WARNING=1

# Milliseconds of one `podman run --rm IMAGE true` with the given extra options.
time_run() {
  local start end
  start=$(date +%s%N)
  "$podman" --root "$work/fixture/store" --runroot "$work/run" run --rm "$@" "$image" true
  end=$(date +%s%N)
  echo $(((end - start) / 1000))
}
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

verified=() baseline=()
time_run >/dev/null # warm the page cache and podman's database for both
time_run --security-opt signature=require --security-opt verity=digest >/dev/null
for _ in $(seq "$runs"); do
  verified+=("$(time_run --security-opt signature=require --security-opt verity=digest)")
  baseline+=("$(time_run)")
done
v=$(printf '%s\n' "${verified[@]}" | median)
b=$(printf '%s\n' "${baseline[@]}" | median)
echo "podman run --rm IMAGE true, $runs runs each, interleaved ($(uptime | sed 's/.*load/load/'))"
awk -v v="$v" -v b="$b" 'BEGIN {
  printf "verified rootfs (verity-mountd, signature=require verity=digest): median %.1f ms\n", v / 1000
  printf "containers/storage composefs mount (no levels):                  median %.1f ms\n", b / 1000
  printf "ratio verified / baseline: %.3f\n", v / b
}'
