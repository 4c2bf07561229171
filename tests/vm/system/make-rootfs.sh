#!/bin/bash
# The booted guest's root filesystem: Debian 12 (mmdebstrap minbase) with systemd as PID 1, from
# Debian's packages through the host's own apt sources, on an ext4 image with the verity feature.
# Built once and cached: the image is only read (qemu snapshot=on), and rebuilt when its recipe
# changes (the package list, the kernel whose modules it holds, or this script).
#
#   make-rootfs.sh KERNEL_TREE [PACKAGE...]     prints the image's path
#
# PACKAGEs join the base list (the .deb's dependencies, which the guest cannot download: it has no
# network). Cache: $VMD_VM_CACHE (default tests/vm/cache/): rootfs-debian-<key>.tar (mmdebstrap's
# output) and rootfs-<key>.img, one of each at a time.
#
# What it adds to Debian's tree: the kernel's modules (filesystems, block devices, what they need)
# with modules.dep, a fixed machine-id, no gettys or timers, and vmd-vm-checks.service, which
# mounts the payload disk (/dev/vdb) on /vmdisk, runs /vmdisk/checks/checks.sh with its output on
# the second serial port, and powers the machine off when it ends.
set -euo pipefail

[ $# -ge 1 ] || { echo "usage: $0 KERNEL_TREE [PACKAGE...]" >&2; exit 2; }
ktree=$1
shift
here=$(cd "$(dirname "$0")" && pwd)
cache=${VMD_VM_CACHE:-$here/../cache}
suite=bookworm

log() { echo "make-rootfs: $*" >&2; }
die() { log "$*"; exit 1; }

release=$(ls "$ktree/lib/modules")
[ "$(echo "$release" | wc -w)" -eq 1 ] || die "expected one release under $ktree/lib/modules"

# systemd as PID 1 and the bus; kmod loads erofs, overlay and loop on demand; fsverity enables
# fs-verity on the store; jq reads the JSON the checks get back.
mapfile -t packages < <(printf '%s\n' systemd systemd-sysv dbus udev kmod fsverity jq "$@" |
    LC_ALL=C sort -u)
# Documentation and translations are left out (dpkg path-exclude, kept in the guest), except the
# project's own; dpkg skips fsync (an image is being made, not a system updated).
mmdebstrap_options=(--variant=minbase --include="$(IFS=,; echo "${packages[*]}")"
    --dpkgopt=force-unsafe-io --dpkgopt='path-exclude=/usr/share/man/*'
    --dpkgopt='path-exclude=/usr/share/info/*' --dpkgopt='path-exclude=/usr/share/locale/*'
    --dpkgopt='path-exclude=/usr/share/doc/*'
    --dpkgopt='path-include=/usr/share/doc/verity-mountd/*')

# Two cache levels: Debian's tree (mmdebstrap, slow) keyed by what it is made of, and the image
# keyed by that tree, the kernel and this script (what is added to the tree).
hash16() { sha256sum | cut -c1-16; }
tar_key=$(printf '%s\n' "$suite" "${mmdebstrap_options[@]}" | hash16)
image_key=$( { printf '%s\n' "$tar_key" "$release"; cat "$0"; } | hash16)
tarball=$cache/rootfs-debian-$tar_key.tar
image=$cache/rootfs-$image_key.img
[ -f "$image" ] && { echo "$image"; exit 0; }

mkdir -p "$cache"
exec 8>"$cache/.rootfs.lock"
flock 8
[ -f "$image" ] && { echo "$image"; exit 0; } # built while we waited
work=$(mktemp -d "$cache/rootfs-work.XXXXXX")
trap 'rm -rf --one-file-system "$work"' EXIT
tree=$work/tree
t0=$(date +%s%N)

if [ ! -f "$tarball" ]; then
    # The host's Debian sources for the suite, its updates and security, as one-line entries:
    # the repository names no mirror, and the guest gets what this machine's apt would.
    # shellcheck disable=SC2016 # apt's $(FIELD) placeholders, not shell
    apt-get indextargets --format '$(REPO_URI) $(RELEASE) $(COMPONENT)' 'Identifier: Packages' |
        awk -v s="$suite" '$2 == s || $2 == s "-updates" || $2 == s "-security" {
            print "deb " $1 " " $2 " " $3 }' | sort -u >"$work/sources.list"
    [ -s "$work/sources.list" ] ||
        die "apt knows no $suite repository (apt-get indextargets): add one to apt's sources"
    log "mmdebstrap $suite (${#packages[@]} packages) from: $(awk '{print $2 "@" $3}' \
        "$work/sources.list" | paste -sd' ')"
    # apt retries each download, and the whole run is tried twice (a mirror can drop a file);
    # mmdebstrap's log is shown when the last try fails. Acquire::Retries is apt's, not part of
    # the tree: not in the cache key.
    for try in 1 2; do
        # mmdebstrap hands apt hooks a pipe as `cat >&N` run by dash, which takes one-digit fds
        # only: with the locks of this script and run.sh (and whatever CTest leaves open) on
        # 3..9, the pipe got fd 10 and dash refused it ("apt download failed"). So the child
        # starts with 3..9 closed; the parent keeps its lock.
        if (
            for fd in 3 4 5 6 7 8 9; do eval "exec $fd>&-"; done
            exec mmdebstrap --aptopt='Acquire::Retries "5"' "${mmdebstrap_options[@]}" "$suite" \
                "$work/debian.tar" "$work/sources.list"
        ) >"$work/mmdebstrap.log" 2>&1; then
            break
        fi
        log "mmdebstrap failed (try $try of 2): $(grep -m3 '^E:' "$work/mmdebstrap.log" | paste -sd' ')"
        if [ "$try" = 2 ]; then
            tail -n 40 "$work/mmdebstrap.log" >&2
            die "mmdebstrap failed"
        fi
        rm -f "$work/debian.tar"
    done
    mv "$work/debian.tar" "$tarball"
    printf '%s\n' "${packages[@]}" >"${tarball%.tar}.packages"
    log "mmdebstrap took $((($(date +%s%N) - t0) / 1000000)) ms: $(du -m "$tarball" | cut -f1) MB"
fi
mkdir "$tree"
tar -C "$tree" --numeric-owner --xattrs --xattrs-include='*' -xpf "$tarball" ||
    die "cannot unpack $tarball"

# --- the kernel's modules: all but drivers and sound, plus the block drivers; depmod for kmod ---
src=$ktree/lib/modules/$release
dst=$tree/usr/lib/modules/$release
mkdir -p "$dst/kernel/drivers"
cp -a "$src"/modules.order "$src"/modules.builtin* "$dst/"
for part in "$src"/kernel/*; do
    case ${part##*/} in drivers | sound) ;; *) cp -a "$part" "$dst/kernel/" ;; esac
done
cp -a "$src/kernel/drivers/block" "$dst/kernel/drivers/"
depmod -b "$tree" "$release" || die "depmod failed"

# --- the system's identity, and nothing started that the checks do not need ---
echo 5d5e6f6a7b7c8d8e9f9a0b0c1d1e2f2b >"$tree/etc/machine-id"
echo vmsystem >"$tree/etc/hostname"
echo '/dev/vda / ext4 rw 0 0' >"$tree/etc/fstab"
mkdir -p "$tree/vmdisk"
for unit in serial-getty@ttyS0.service getty@tty1.service apt-daily.timer \
    apt-daily-upgrade.timer e2scrub_all.timer e2scrub_reap.service fstrim.timer; do
    ln -sf /dev/null "$tree/etc/systemd/system/$unit"
done

# --- the checks' unit: after the bus is up, not after the whole of multi-user.target ---
cat >"$tree/etc/systemd/system/vmd-vm-checks.service" <<'EOF'
[Unit]
Description=verity-mountd system checks (tests/vm/system)
Wants=dbus.service
After=dbus.service
SuccessAction=poweroff-force
FailureAction=poweroff-force

[Service]
Type=oneshot
Environment=SYSTEMD_COLORS=0 SYSTEMD_PAGER=
ExecStart=/bin/mount -o ro /dev/vdb /vmdisk
ExecStart=/bin/sh /vmdisk/checks/checks.sh
StandardOutput=tty
TTYPath=/dev/ttyS1
TTYReset=no
StandardError=journal+console

[Install]
WantedBy=multi-user.target
EOF
mkdir -p "$tree/etc/systemd/system/multi-user.target.wants"
ln -s ../vmd-vm-checks.service "$tree/etc/systemd/system/multi-user.target.wants/"

# Room for the package, the store, fs-verity's Merkle trees and the journal.
mkfs.ext4 -q -F -O verity -b 4096 -L vmroot -d "$tree" "$work/rootfs.img" 2G >/dev/null ||
    die "mkfs.ext4 failed"
mv "$work/rootfs.img" "$image"
for old in "$cache"/rootfs-*.img "$cache"/rootfs-debian-*; do
    case $old in "$image" | "${tarball%.tar}".*) ;; *) rm -f "$old" ;; esac
done
log "$image: $(du -m "$image" | cut -f1) MB used, made in $((($(date +%s%N) - t0) / 1000000)) ms"
echo "$image"
