#!/bin/bash
# The booted guest's initramfs: Debian's kernel has ext4 and virtio_blk as modules, so a static
# busybox loads them, mounts /dev/vda read-write and hands over to systemd (/sbin/init).
#
#   boot-initramfs.sh KERNEL_TREE OUT.cpio.gz
set -euo pipefail

[ $# -eq 2 ] || { echo "usage: $0 KERNEL_TREE OUT.cpio.gz" >&2; exit 2; }
ktree=$1 out=$2
here=$(cd "$(dirname "$0")" && pwd)

die() { echo "boot-initramfs: $*" >&2; exit 1; }

stage=$(mktemp -d "${out%/*}/boot-initramfs.XXXXXX")
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage"/{bin,proc,dev,newroot,modules}

busybox=$(command -v busybox) || die "busybox not found (apt-get install busybox-static)"
ldd "$busybox" >/dev/null 2>&1 && die "$busybox is dynamically linked; install busybox-static"
cp "$busybox" "$stage/bin/busybox"
for applet in sh mount umount insmod sleep switch_root poweroff cat; do
    ln -s busybox "$stage/bin/$applet"
done

# crc32c_generic first: ext4 and jbd2 name it only as a softdep ("crypto-crc32c").
# shellcheck source=../kernel-modules.sh
. "$here/../kernel-modules.sh"
modules_index "$ktree"
for m in crc32c_generic ext4 virtio_blk; do modules_add "$m" "$stage/modules"; done
printf '%s\n' "${modules_order[@]}" >"$stage/modules/order"

cat >"$stage/init" <<'EOF'
#!/bin/sh
export PATH=/bin
fail() {
    echo "initramfs: $*"
    poweroff -f
}
mount -t proc proc /proc
mount -t devtmpfs dev /dev
while read -r m; do insmod "/modules/$m.ko" || fail "insmod $m failed"; done </modules/order
# virtio_blk probes during insmod; the loop only covers a slow devtmpfs.
i=0
while [ ! -b /dev/vda ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
mount -t ext4 -o rw /dev/vda /newroot || fail "cannot mount /dev/vda"
umount /dev
umount /proc
exec switch_root /newroot /sbin/init
EOF
chmod 0755 "$stage/init"

(cd "$stage" && find . -mindepth 1 | LC_ALL=C sort | busybox cpio -o -H newc 2>/dev/null) |
    gzip -1 >"$out.tmp"
mv "$out.tmp" "$out"
