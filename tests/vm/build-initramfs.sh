#!/bin/bash
# Builds the guest's initramfs: busybox, the kernel modules the tests need (decompressed, in
# dependency order), the project's daemon and client, dbus-daemon with a minimal system-bus config,
# fsverity, and every shared library they load.
#
#   build-initramfs.sh KERNEL_TREE DAEMON CLIENT OUT.cpio.gz
#
# DAEMON or CLIENT "-" leaves that program out (the harness-only stub boot). With VMD_BENCH set
# (tests/bench/run.sh --vm), that bench_mount binary goes in too.
# KERNEL_TREE is what fetch-kernel.sh printed. The guest's /init is init.sh beside this script,
# which sources cases.sh (as /vm-cases.sh).
set -euo pipefail

[ $# -eq 4 ] || { echo "usage: $0 KERNEL_TREE DAEMON CLIENT OUT.cpio.gz" >&2; exit 2; }
ktree=$1 daemon=$2 client=$3 out=$4
here=$(cd "$(dirname "$0")" && pwd)
source_dir=$(cd "$here/../.." && pwd)

die() { echo "build-initramfs: $*" >&2; exit 1; }

release=$(ls "$ktree/lib/modules")
[ "$(echo "$release" | wc -w)" -eq 1 ] ||
    die "expected one release under $ktree/lib/modules, found: $release"

# The modules asked for; their dependencies are added from each module's own depends=.
# crc32c_generic comes first: ext4 and jbd2 only name it as a softdep ("crypto-crc32c").
# fs-verity itself is built in (CONFIG_FS_VERITY=y), checked below.
wanted_modules="crc32c_generic ext4 erofs overlay loop virtio_blk"
grep -q '^CONFIG_FS_VERITY=y' "$ktree/boot/config-$release" ||
    die "kernel $release has no built-in fs-verity (CONFIG_FS_VERITY)"

stage=$(mktemp -d "${out%/*}/initramfs.XXXXXX")
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage"/{bin,sbin,usr/bin,usr/sbin,lib,lib64,proc,sys,dev,tmp,run,etc,mnt,vmdisk,modules}

# --- busybox: one link per applet, except the binary's own name ---
busybox=$(command -v busybox) || die "busybox not found (apt-get install busybox-static)"
ldd "$busybox" >/dev/null 2>&1 && die "$busybox is dynamically linked; install busybox-static"
cp "$busybox" "$stage/bin/busybox"
# One process for ~270 links (a fork costs tens of ms on a loaded host).
"$busybox" --list | BIN="$stage/bin" \
    perl -ne 'chomp; $_ eq "busybox" or symlink("busybox", "$ENV{BIN}/$_") or die "$_: $!\n"' ||
    die "cannot link the busybox applets"
[ -L "$stage/bin/sh" ] || die "busybox --list names no sh"

# --- kernel modules ---
# shellcheck source=kernel-modules.sh
. "$here/kernel-modules.sh"
modules_index "$ktree"
for m in $wanted_modules; do modules_add "$m" "$stage/modules"; done
printf '%s\n' "${modules_order[@]}" >"$stage/modules/order"

# --- programs and the shared libraries they load (ldd: the loader too) ---
progs=()
[ "$daemon" = - ] || progs+=("$daemon=verity-mountd")
[ "$client" = - ] || progs+=("$client=verity-mountctl")
[ -z "${VMD_BENCH:-}" ] || progs+=("$VMD_BENCH=bench_mount")
for prog in dbus-daemon dbus-send fsverity strace; do
    path=$(command -v "$prog") || die "$prog not found on the host"
    progs+=("$path=$prog")
done
# Busybox's date has no %N; its sh runs applets before PATH, hence another name.
progs+=("$(command -v date)=date-ns")
for p in "${progs[@]}"; do
    [ -x "${p%=*}" ] || die "${p%=*} is missing or not executable"
    cp -L "${p%=*}" "$stage/usr/bin/${p##*=}"
done
# Debug info only slows the guest's unpacking of the archive.
strip --strip-debug "$stage/usr/bin/"* || die "strip failed"
mapfile -t libs < <(ldd "${progs[@]%=*}" |
    awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// && $1 !~ /:$/ {print $1}' | sort -u)
cp -L --parents "${libs[@]}" "$stage"

# --- a minimal system bus, with the project's own bus policy when it exists ---
mkdir -p "$stage/etc/dbus-1/system.d" "$stage/run/dbus"
for conf in "$source_dir"/dbus/*.conf; do
    [ -e "$conf" ] && cp "$conf" "$stage/etc/dbus-1/system.d/"
done
cat >"$stage/etc/dbus-1/vm-system.conf" <<'EOF'
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=/run/dbus/system_bus_socket</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*" eavesdrop="true"/>
    <allow receive_sender="*"/>
  </policy>
  <includedir>system.d</includedir>
</busconfig>
EOF
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$stage/etc/passwd"
printf 'root:x:0:\n' >"$stage/etc/group"
echo 5d5e6f6a7b7c8d8e9f9a0b0c1d1e2f2a >"$stage/etc/machine-id"

cp "$here/init.sh" "$stage/init"
cp "$here/cases.sh" "$stage/vm-cases.sh"
chmod 0755 "$stage/init"

(cd "$stage" && find . -mindepth 1 | LC_ALL=C sort | busybox cpio -o -H newc 2>/dev/null) |
    gzip -1 >"$out.tmp"
mv "$out.tmp" "$out"
echo "build-initramfs: $out ($(du -h "$out" | cut -f1); modules: ${modules_order[*]})" >&2
