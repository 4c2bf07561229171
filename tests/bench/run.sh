#!/bin/bash
# Issue 9's figures in one run: bench_mount on this machine (every host figure as a ratio to its
# baseline, measured side by side), then, with --vm, the fs-verity VM's enforce figure (Mount()
# next to raw file-backed EROFS + overlay verity=require in the same boot).
#
#   tests/bench/run.sh BUILD_DIR [--vm] [bench_mount options…]      (as root)
#
# bench_mount options: --iterations N (single requests, default 300), --per-client N (concurrent
# section, default 150 per client and round), --rss-requests N (default 100000), --big-images N,
# --big-layers N, --position F (where the measured image sits in the big store's files, 0..1),
# --only single,concurrent,bigstore,rss, --transport bus|socket (peer-to-peer, no dbus-daemon).
# See tests/bench/README.md.
set -euo pipefail

[ $# -ge 1 ] || { echo "usage: $0 BUILD_DIR [--vm] [bench_mount options]" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "$1" && pwd)
shift
vm=0
if [ "${1:-}" = --vm ]; then
    vm=1
    shift
fi
bench=$build/tests/bench/bench_mount
[ -x "$bench" ] || { echo "bench: $bench is missing: build the target bench_mount" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "bench: run as root (it mounts)" >&2; exit 1; }

echo "# $(uptime)"
VMD_BINARY_DIR=$build "$bench" "$@"
if [ "$vm" = 1 ]; then
    echo "# fs-verity VM (qemu TCG): booting…"
    out=$(VMD_BENCH="$bench" "$here/../vm/run.sh" "$build" 2>&1) || {
        echo "$out" >&2
        echo "bench: the VM run failed" >&2
        exit 1
    }
    grep -E '^MEASURE:' <<<"$out"
fi
echo "# $(uptime)"
