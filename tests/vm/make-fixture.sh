#!/bin/bash
# Makes the store the VM tests use, with the project's fixture builder, and what the guest must
# find in it: the expected rootfs and the shell variables the cases read.
#
#   make-fixture.sh FIXTURE_BIN DIR PATHS_AS GUEST_STORE [CREATE_ARG...]
#
#   DIR/fixture/      the fixture builder's --dir (store/, policy.json, keys/, verity-mountd.json),
#                     made with --paths-as PATHS_AS (the guest sees DIR/fixture there) and
#                     --verity enforce, with the container vm-container
#   DIR/vm/expected.txt  the rootfs as the host's kernel reads it: "TYPE SHA256|- ./PATH" a line
#   DIR/vm/case.env   shell variables for the guest: IMAGE_NAME, IMAGE_ID, CONTAINER_ID,
#                     CONTAINER_LAYER, STORE (GUEST_STORE), CONFIG, LAYERS
#                     (top first), BLOB_DIGEST_<layer>, and TARGET0/1 with TARGET0/1_OBJECTS (files
#                     whose content is in one object only, which the cases swap)
#
# Prints the fixture builder's JSON line. The expected rootfs is read on the host by mounting the
# blobs and the overlay read-only with plain mount(8) (verity off), so the guest compares the
# daemon's mount with what the kernel makes of the store, not with anything the daemon computed.
# Needs root for that mount.
set -euo pipefail

[ $# -ge 4 ] || {
    echo "usage: $0 FIXTURE_BIN DIR PATHS_AS GUEST_STORE [CREATE_ARG...]" >&2
    exit 2
}
fixture_bin=$1 root=$2 paths_as=$3 guest_store=$4
shift 4 # the rest: more arguments for vmd-fixture create

die() { echo "make-fixture: $*" >&2; exit 1; }

[ -x "$fixture_bin" ] || die "fixture builder $fixture_bin is missing (build target vmd-fixture)"
mkdir -p "$root/vm"
"$fixture_bin" create --dir "$root/fixture" --paths-as "$paths_as" --verity enforce \
    --container vm-container "$@" >"$root/vm/fixture.out" || die "$fixture_bin create failed"
json=$(tail -n1 "$root/vm/fixture.out")
rm "$root/vm/fixture.out"
get() { jq -er "$1" <<<"$json" || die "fixture output has no $1: $json"; }
image_id=$(get .image_id)
image_name=$(get .name)
container_id=$(get .container_id)
store=$(get .store)
config=$(get .config)
case $store in "$root/fixture"/*) ;; *) die "store $store is not under $root/fixture" ;; esac

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
# Beside DIR, not in it: DIR becomes a disk image.
mnt=$(mktemp -d "$(dirname "$root")/hostmnt.XXXXXX")
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
case "$lowers$datas" in *,*) die "directory $root holds a ',' (overlay options)" ;; esac
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

# --- the objects the cases swap: files whose content is in no other file ---
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
    die "the fixture has ${#targets[@]} files with an object of their own; the cases need 2"

{
    printf 'IMAGE_NAME=%q\nIMAGE_ID=%q\n' "$image_name" "$image_id"
    container_layer=$(jq -r --arg id "$container_id" '.[] | select(.id == $id) | .layer' \
        "$store/overlay-containers/containers.json")
    printf 'CONTAINER_ID=%q\nCONTAINER_LAYER=%q\n' "$container_id" "$container_layer"
    printf 'STORE=%q\nCONFIG=%q\n' "$guest_store" "$paths_as/${config#"$root/fixture/"}"
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
echo "make-fixture: image $image_name, ${#layers[@]} layers," \
    "$(grep -c '^f' "$root/vm/expected.txt") files" >&2
echo "$json"
