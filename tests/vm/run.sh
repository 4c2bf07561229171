#!/bin/bash
# The real-kernel VM test of the enforce level: boots Debian's 6.12 kernel under qemu (TCG) with
# the project's daemon, client and a fixture store on an ext4 disk with fs-verity, runs the cases in
# cases.sh and prints their results (see README.md).
#
#   run.sh BUILD_DIR
#
# Exit: 0 all cases passed; 1 a case failed, the guest gave no final line (crash, timeout), or the
# harness could not be built (kernel, binaries, fixture) or a host tool (qemu included) is missing.
# Env: VMD_VM_CACHE (kernel cache), VMD_VM_WORK (scratch, default BUILD_DIR/tests/vm/work),
# VMD_VM_TIMEOUT (seconds for qemu, default 300), VMD_VM_STUB=1 (boot without fixture and daemon).
set -euo pipefail

[ $# -eq 1 ] || { echo "usage: $0 BUILD_DIR" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "$1" && pwd)
start=$(date +%s%N)

die() { echo "vm: $*" >&2; exit 1; }
wall() {
    local ms=$((($(date +%s%N) - start) / 1000000))
    printf 'vm: wall time %d.%03d s\n' $((ms / 1000)) $((ms % 1000))
}

missing=""
for tool in qemu-system-x86_64 timeout flock busybox fsverity dbus-daemon dbus-send mkfs.ext4 jq xz gzip perl strip \
    apt-get dpkg-deb; do
    command -v "$tool" >/dev/null || missing+=" $tool"
done
[ -z "$missing" ] || die "missing host tools:$missing (scripts/install-deps.sh installs them)"
[ "$(id -u)" = 0 ] || die "run as root: the expected rootfs is read by mounting the store"

daemon=${VMD_DAEMON:-$build/daemon/verity-mountd}
client=${VMD_CTL:-$build/client/verity-mountctl}
fixture=${VMD_FIXTURE:-$build/tests/fixtures/vmd-fixture}
if [ "${VMD_VM_STUB:-0}" = 1 ]; then
    daemon=- client=- fixture=-
else
    for bin in "$daemon" "$client"; do
        [ -x "$bin" ] || die "$bin is missing: build verity-mountd and verity-mountctl first"
    done
fi

work=${VMD_VM_WORK:-$build/tests/vm/work}
mkdir -p "$work"
exec 9>"$work/.lock"
flock -n 9 || die "another run holds $work/.lock"

ktree=$("$here/fetch-kernel.sh") || die "could not fetch the 6.12 kernel package"
release=$(ls "$ktree/lib/modules")
echo "vm: kernel $release"

"$here/make-disk.sh" "$fixture" "$work" || die "could not build the test disk"
"$here/build-initramfs.sh" "$ktree" "$daemon" "$client" "$work/initrd.gz" ||
    die "could not build the initramfs"
cp --sparse=always "$work/disk.img" "$work/run.img" # enabling verity changes the disk: boot a copy

log=$work/serial.log
rm -f "$log"
boot_start=$(date +%s%N)
rc=0
# One vCPU: with two under multi-threaded TCG the guest kernel's int3-based code patching (static
# keys flipped late in boot) now and then runs a stale breakpoint on the other vCPU and panics in
# sched_clock_cpu ("Oops: int3"), as one CI run did. The cases need no second CPU.
timeout "${VMD_VM_TIMEOUT:-300}" qemu-system-x86_64 \
    -accel tcg -cpu max -m 1024 -smp 1 \
    -nographic -no-reboot -kernel "$ktree/boot/vmlinuz-$release" -initrd "$work/initrd.gz" \
    -append 'console=ttyS0 quiet panic=-1' \
    -drive "file=$work/run.img,format=raw,if=virtio,cache=unsafe" \
    -nic none -serial "file:$log" -monitor none -display none </dev/null || rc=$?
boot_ms=$((($(date +%s%N) - boot_start) / 1000000))

tr -d '\r' <"$log" >"$log.txt"
grep -E '^(RESULT|MEASURE|INFO):' "$log.txt" || true
final=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$log.txt" | tail -n1 || true)
[ -z "$final" ] || echo "$final"
echo "vm: qemu ran ${boot_ms} ms (exit $rc); serial log: $log.txt"
wall
if [ -z "$final" ]; then
    [ "$rc" != 124 ] || echo "vm: qemu timed out after ${VMD_VM_TIMEOUT:-300} s" >&2
    echo "vm: FAIL: no final line from the guest; its last lines:" >&2
    tail -n 30 "$log.txt" >&2
    exit 1
fi
if grep -q '^RESULT: FAIL' "$log.txt" || [ "${final#* passed, }" != "0 failed" ]; then
    grep -E '^(DETAIL|DAEMON):' "$log.txt" >&2 || true
    exit 1
fi
exit 0
