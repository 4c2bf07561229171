#!/bin/bash
# Builds the guest's test disk: an ext4 image with the verity feature holding a store made by the
# project's fixture builder (config and policy written with guest paths), and what the guest must
# find.
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
#   bench/             with VMD_BENCH set (tests/bench/run.sh --vm): a 10-layer image, enforce,
#                      for the benchmark's Mount() vs raw mount figure
#
# The expected rootfs is read on the host by mounting the blobs and the overlay read-only with
# plain mount(8) (verity off), so the guest compares the daemon's mount with what the kernel makes
# of the store, not with anything the daemon computed. Needs root for that mount.
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

[ -x "$fixture_bin" ] || die "fixture builder $fixture_bin is missing (build target vmd-fixture)"
"$fixture_bin" create --dir "$root/fixture" --paths-as "$guest_root/fixture" --verity enforce \
    --container vm-container >"$work/fixture.out" || die "$fixture_bin create failed"
json=$(tail -n1 "$work/fixture.out")
get() { jq -er "$1" <<<"$json" || die "fixture output has no $1: $json"; }
image_id=$(get .image_id)
image_name=$(get .name)
container_id=$(get .container_id)
store=$(get .store)
config=$(get .config)
case $store in "$root/fixture"/*) ;; *) die "store $store is not under $root/fixture" ;; esac
to_guest() { echo "$guest_root/${1#"$root"/}"; }

# The layer chain, top first, as the daemon walks it: the image's layer, then parent links.
layers=()
layer=$(jq -er --arg id "$image_id" '.[] | select(.id == $id) | .layer' \
    "$store/overlay-images/images.json") || die "image $image_id not in images.json"
while [ -n "$layer" ]; do
    layers+=("$layer")
    layer=$(jq -r --arg id "$layer" \
        '[.[] | select(.id == $id)][0] | .parent // ""' "$store/overlay-layers/layers.json")
done
[ "${#layers[@]}" -eq "$(jq '.layers | length' <<<"$json")" ] ||
    die "layer chain ${layers[*]} does not match the fixture's layers"
blob_of() { echo "$store/overlay/$1/composefs-data/composefs.blob"; }

# --- the expected rootfs, read through the host kernel ---
mnt=$(mktemp -d "$work/hostmnt.XXXXXX")
mounted=()
cleanup() {
    local i
    for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do umount "${mounted[i]}" || true; done
    mounted=()
    # rmdir, not rm -r: a mount left behind must not be walked into.
    rmdir "$mnt"/* "$mnt" 2>/dev/null || true
}
trap cleanup EXIT
lowers="" datas=""
for i in "${!layers[@]}"; do
    mkdir "$mnt/l$i"
    mount -t erofs -o ro "$(blob_of "${layers[i]}")" "$mnt/l$i" ||
        die "cannot mount the blob of ${layers[i]}"
    mounted+=("$mnt/l$i")
    lowers+="${lowers:+:}$mnt/l$i"
    datas+="::$store/overlay/${layers[i]}/diff"
done
case "$lowers$datas" in *,*) die "work dir $work holds a ',' (overlay options)" ;; esac
mkdir "$mnt/merged"
mount -t overlay overlay -o "ro,metacopy=on,redirect_dir=follow,lowerdir=$lowers$datas" \
    "$mnt/merged" || die "the host kernel cannot mount the fixture's overlay"
mounted+=("$mnt/merged")
(
    cd "$mnt/merged"
    find . -mindepth 1 | LC_ALL=C sort | while IFS= read -r p; do
        if [ -L "$p" ]; then echo "l - $p"
        elif [ -d "$p" ]; then echo "d - $p"
        elif [ -f "$p" ]; then echo "f $(sha256sum <"$p" | cut -d' ' -f1) $p"
        else echo "o - $p"; fi
    done
) >"$root/vm/expected.txt"
cleanup
trap - EXIT

# --- the objects cases (b) and (c) swap: files whose content is in no other file ---
declare -A objects_by_sum=()
for id in "${layers[@]}"; do
    while read -r sum obj; do
        objects_by_sum[$sum]+="${objects_by_sum[$sum]:+ }$id/diff/${obj#./}"
    done < <(cd "$store/overlay/$id/diff" && find . -type f -size +0 -exec sha256sum {} +)
done
targets=()
while read -r sum count path; do
    [ "$count" = 1 ] && [ -n "${objects_by_sum[$sum]:-}" ] && targets+=("$sum $path")
done < <(awk '$1 == "f" { n[$2]++; p[$2] = substr($0, length($2) + 4) }
              END { for (s in n) print s, n[s], p[s] }' "$root/vm/expected.txt" | LC_ALL=C sort -k3)
[ "${#targets[@]}" -ge 2 ] ||
    die "the fixture has ${#targets[@]} files with an object of their own; cases (b) and (c) need 2"

# --- the daemon's configs: the fixture's (enforce), and one with the floor at digest ---
jq -e '.verity == "enforce" and .storage_root == "'"$(to_guest "$store")"'"' "$config" >/dev/null ||
    die "$config is not an enforce config with guest paths"
jq '.verity = "digest"' "$config" >"$root/vm/verity-mountd-digest.json"

bench_env=""
if [ -n "${VMD_BENCH:-}" ]; then
    "$fixture_bin" create --dir "$root/bench" --paths-as "$guest_root/bench" --verity enforce \
        --layers 10 --name quay.io/example/ten:latest >"$work/bench.out" ||
        die "$fixture_bin create (bench image) failed"
    bench_json=$(tail -n1 "$work/bench.out")
    bench_env=$(jq -er '"BENCH_IMAGE=\(.name)\nBENCH_STORE=\(.store)\nBENCH_CONFIG=\(.config)\n" +
                        "BENCH_LAYERS=\"\([.layers[].id] | join(" "))\""' <<<"$bench_json") ||
        die "bench fixture output: $bench_json"
    bench_env=${bench_env//"$root"/"$guest_root"}
fi

{
    [ -z "$bench_env" ] || echo "$bench_env"
    printf 'IMAGE_NAME=%q\nIMAGE_ID=%q\n' "$image_name" "$image_id"
    container_layer=$(jq -r --arg id "$container_id" '.[] | select(.id == $id) | .layer' \
        "$store/overlay-containers/containers.json")
    printf 'CONTAINER_ID=%q\nCONTAINER_LAYER=%q\n' "$container_id" "$container_layer"
    printf 'STORE=%q\nCONFIG=%q\n' "$(to_guest "$store")" "$(to_guest "$config")"
    printf 'LAYERS=%q\n' "${layers[*]}"
    for id in "${layers[@]}"; do
        digest=$(jq -r --arg id "$id" '.layers[] | select(.id == $id) | .blob_digest' <<<"$json")
        printf 'BLOB_DIGEST_%s=%q\n' "$id" "$digest"
    done
    for n in 0 1; do
        read -r sum path <<<"${targets[n]}"
        printf 'TARGET%d=%q\nTARGET%d_OBJECTS=%q\n' "$n" "$path" "$n" "${objects_by_sum[$sum]}"
    done
} >"$root/vm/case.env"

make_image
echo "make-disk: $work/disk.img (image $image_name, ${#layers[@]} layers," \
    "$(grep -c '^f' "$root/vm/expected.txt") files)" >&2
