#!/bin/bash
# Builds the guest's test disk: an ext4 image with the verity feature holding a store made by the
# project's fixture builder (config and policy written with guest paths), and what the guest must
# find (make-fixture.sh).
#
#   make-disk.sh FIXTURE_BIN WORK_DIR      -> WORK_DIR/disk.img
#   VMD_VM_STUB=1 make-disk.sh - WORK_DIR  -> a disk without a store (boots the harness alone)
#
# On the disk (mounted at /vmdisk in the guest):
#   fixture/           the fixture builder's --dir (store/, policy.json, keys/, verity-mountd.json),
#                      made with --paths-as /vmdisk/fixture and --verity enforce
#   vm/case.env        shell variables for init.sh (image, layers, the objects the cases swap)
#   vm/expected.txt    the rootfs as the host's kernel reads it: "TYPE SHA256|- ./PATH" a line
#   vm/verity-mountd-digest.json   the same config with the floor at digest (for the timings)
#   vm/verity-mountd-small-blob.json   the same config with max_blob_bytes 1 (every blob too big)
#   bench/             with VMD_BENCH set (tests/bench/run.sh --vm): a 10-layer image, enforce,
#                      for the benchmark's Mount() vs raw mount figure
set -euo pipefail

[ $# -eq 2 ] || { echo "usage: $0 FIXTURE_BIN WORK_DIR" >&2; exit 2; }
fixture_bin=$1 work=$2
guest_root=/vmdisk

die() { echo "make-disk: $*" >&2; exit 1; }

root=$work/diskroot
rm -rf "$root" "$work/disk.img"
mkdir -p "$root/vm"

# fs-verity digest of a file as the kernel computes it (4 KiB blocks, SHA-256).
host_digest() {
    echo "sha256:$(fsverity digest --hash-alg=sha256 --block-size=4096 --compact "$1")"
}

make_image() { # size from content: room for the Merkle trees and the copies the cases make
    local mib
    mib=$(du -sm "$root" | cut -f1)
    mkfs.ext4 -q -F -O verity -b 4096 -L vmdisk -d "$root" "$work/disk.img" \
        "$((mib * 3 + 64))M" >/dev/null
}

if [ "${VMD_VM_STUB:-0}" = 1 ]; then
    head -c 20000 /dev/zero | tr '\0' 'v' >"$root/vm/stub-file"
    { echo "STUB=1"; echo "STUB_DIGEST=$(host_digest "$root/vm/stub-file")"; } >"$root/vm/case.env"
    make_image
    exit 0
fi

here=$(cd "$(dirname "$0")" && pwd)
store_in_guest=$guest_root/fixture/store
"$here/make-fixture.sh" "$fixture_bin" "$root" "$guest_root/fixture" "$store_in_guest" \
    >"$work/fixture.out" || die "could not make the fixture store"
config=$(jq -er .config <"$work/fixture.out") || die "fixture output has no config"

# --- the daemon's configs: the fixture's (enforce), and one with the floor at digest ---
jq -e --arg store "$store_in_guest" '.verity == "enforce" and .storage_root == $store' "$config" \
    >/dev/null ||
    die "$config is not an enforce config with guest paths"
jq '.verity = "digest"' "$config" >"$root/vm/verity-mountd-digest.json"
jq '.max_blob_bytes = 1' "$config" >"$root/vm/verity-mountd-small-blob.json"

if [ -n "${VMD_BENCH:-}" ]; then
    "$fixture_bin" create --dir "$root/bench" --paths-as "$guest_root/bench" --verity enforce \
        --layers 10 --name quay.io/example/ten:latest >"$work/bench.out" ||
        die "$fixture_bin create (bench image) failed"
    bench_json=$(tail -n1 "$work/bench.out")
    bench_env=$(jq -er '"BENCH_IMAGE=\(.name)\nBENCH_STORE=\(.store)\nBENCH_CONFIG=\(.config)\n" +
                        "BENCH_LAYERS=\"\([.layers[].id] | join(" "))\""' <<<"$bench_json") ||
        die "bench fixture output: $bench_json"
    echo "${bench_env//"$root"/"$guest_root"}" >>"$root/vm/case.env"
fi

make_image
echo "make-disk: $work/disk.img" >&2
