#!/bin/bash
# The booted-system VM test (vm_system, issue 11): qemu (TCG) boots Debian 12 with systemd as PID 1
# on the fs-verity kernel of tests/vm, the guest installs the project's .deb and uses the daemon
# through the real system bus and the socket unit (checks.sh). See README.md.
#
#   run.sh BUILD_DIR
#
# Exit: 0 every check passed (or was skipped with a reason); 1 a check failed, the guest printed no
# final line (crash, timeout), the kernel, package, root filesystem or payload could not be made,
# or a host tool (qemu and mmdebstrap included; scripts/install-deps.sh installs them) is missing.
# Env: VMD_VM_CACHE (kernel and root filesystem cache, default tests/vm/cache/), VMD_VM_WORK
# (scratch, default BUILD_DIR/tests/vm/system/work), VMD_VM_TIMEOUT (seconds for qemu, default
# 600), VMD_FIXTURE (the fixture builder; CTest sets it), VMD_PODMAN (the patched podman for
# check 9; default .cache/podman/bin/podman of this checkout; without one, check 9 skips),
# VMD_VM_CHECKS (the numbers of the checks to run, e.g. "1 2 9", for work on one; default all).
set -euo pipefail

[ $# -eq 1 ] || { echo "usage: $0 BUILD_DIR" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "$1" && pwd)
start=$(date +%s%N)

say() { echo "vm-system: $*"; }
die() { echo "vm-system: $*" >&2; exit 1; }
# The Debian package holding the library LIB (dpkg knows it by one of its merged-/usr names).
package_of() {
    local path found
    for path in "$1" "$(readlink -f "$1")" "/usr$1"; do
        found=$(dpkg -S "$path" 2>/dev/null | head -n1)
        [ -z "$found" ] || { echo "${found%%:*}"; return 0; }
    done
    return 1
}
ms_since() { echo $((($(date +%s%N) - $1) / 1000000)); }
seconds() { printf '%d.%03d s' $(($1 / 1000)) $(($1 % 1000)); }

missing=""
for tool in qemu-system-x86_64 mmdebstrap timeout flock busybox mkfs.ext4 jq xz gzip cpack \
    dpkg-deb depmod apt-get tar; do
    command -v "$tool" >/dev/null || missing+=" $tool"
done
[ -z "$missing" ] || die "missing host tools:$missing (scripts/install-deps.sh installs them)"
[ "$(id -u)" = 0 ] || die "run as root: mmdebstrap, and the expected rootfs is read by mounting"
fixture=${VMD_FIXTURE:-$build/tests/fixtures/vmd-fixture}
[ -x "$fixture" ] || die "$fixture is missing: build vmd-fixture first"
[ -f "$build/CPackConfig.cmake" ] || die "$build has no CPackConfig.cmake: configure it first"

work=${VMD_VM_WORK:-$build/tests/vm/system/work}
mkdir -p "$work"
exec 9>"$work/.lock"
flock -n 9 || die "another run holds $work/.lock"

# --- the host side: kernel, package, root filesystem (cached), boot initramfs, payload disk ---
t=$(date +%s%N)
ktree=$("$here/../fetch-kernel.sh") || die "could not fetch the 6.12 kernel package"
release=$(ls "$ktree/lib/modules")
say "kernel $release ($(seconds "$(ms_since "$t")"))"

t=$(date +%s%N)
rm -rf "$work/package"
# cpack into the work dir: scripts/package-test.sh uses the build dir's own package/ folder.
(cd "$build" && cpack -G DEB -B "$work/package" >"$work/cpack.log" 2>&1) ||
    die "cpack -G DEB failed: $(tail -n 5 "$work/cpack.log")"
debs=("$work"/package/verity-mountd_*.deb)
[ -f "${debs[0]}" ] || die "cpack made no verity-mountd_*.deb in $work/package"
# The guest has no network: the package's dependencies go into the root filesystem.
mapfile -t depends < <(dpkg-deb -f "${debs[0]}" Depends | tr ',' '\n' |
    sed -E 's/\|.*//; s/\(.*\)//; s/[[:space:]]//g' | sed '/^$/d')
say "package ${debs[0]##*/}, depends on ${depends[*]} ($(seconds "$(ms_since "$t")"))"

# Check 9's podman: the patched build (VMD_PODMAN, which scripts/test.sh exports after
# contrib/podman/build.sh, else that script's cache in this checkout); never built here. Its
# runtime (contrib/podman/README.md) and the packages of the libraries it loads go into the root
# filesystem, busybox into the image (a command to run).
podman=${VMD_PODMAN:-$(cd "$here/../../.." && pwd)/.cache/podman/bin/podman}
podman_packages=() fixture_args=()
if [ -x "$podman" ]; then
    podman_packages=(runc conmon netavark)
    while read -r lib; do
        podman_packages+=("$(package_of "$lib")") || die "no Debian package holds $lib ($podman)"
    done < <(ldd "$podman" | awk '$3 ~ /^\// { print $3 }')
    mapfile -t podman_packages < <(printf '%s\n' "${podman_packages[@]}" | sort -u)
    fixture_args=(--with-busybox)
    say "podman $podman ($("$podman" --version)), with ${podman_packages[*]}"
else
    podman_skip="$podman is not built (contrib/podman/build.sh; scripts/test.sh builds it when"
    podman_skip+=" it has the podman source)"
    say "no podman: check 9 will skip: $podman_skip"
fi

t=$(date +%s%N)
rootfs=$("$here/make-rootfs.sh" "$ktree" "${depends[@]}" "${podman_packages[@]}") ||
    die "could not make the root filesystem"
say "root filesystem $rootfs ($(seconds "$(ms_since "$t")"))"

t=$(date +%s%N)
"$here/boot-initramfs.sh" "$ktree" "$work/boot.gz" || die "could not make the initramfs"
payload=$work/payload
rm -rf "$payload" "$work/payload.img"
mkdir -p "$payload/package" "$payload/checks"
cp "${debs[0]}" "$payload/package/"
"$here/../make-fixture.sh" "$fixture" "$payload" /etc/containers /var/lib/containers/storage \
    "${fixture_args[@]}" >/dev/null || die "could not make the fixture store"
cp "$here"/checks*.sh "$here/../cases.sh" "$payload/checks/"
echo "${VMD_VM_CHECKS:-}" >"$payload/checks/only"
if [ -n "${podman_packages[*]}" ]; then
    mkdir "$payload/podman"
    cp "$podman" "$payload/podman/"
else
    echo "$podman_skip" >"$payload/podman.skip"
fi
payload_mib=$(($(du -sm "$payload" | cut -f1) * 2 + 16))
mkfs.ext4 -q -F -L vmpayload -d "$payload" "$work/payload.img" "${payload_mib}M" >/dev/null ||
    die "mkfs.ext4 of the payload failed"
say "initramfs and payload disk ($(seconds "$(ms_since "$t")"))"

# --- the boot: the root filesystem read-only underneath (snapshot=on), the payload read-only ---
# mitigations=off: the speculative-execution mitigations cost much under TCG and guard nothing in
# a throw-away guest.
# One vCPU, as in ../run.sh: two under multi-threaded TCG now and then panic the guest kernel in its
# int3-based code patching.
console=$work/console.log results=$work/results.log
rm -f "$console" "$results"
t=$(date +%s%N)
rc=0
TMPDIR=$work timeout "${VMD_VM_TIMEOUT:-600}" qemu-system-x86_64 \
    -machine q35 -accel tcg -cpu max -m 1536 -smp 1 \
    -nographic -no-reboot -kernel "$ktree/boot/vmlinuz-$release" -initrd "$work/boot.gz" \
    -append 'console=ttyS0 quiet panic=-1 systemd.show_status=error mitigations=off' \
    -drive "file=$rootfs,format=raw,if=virtio,cache=unsafe,snapshot=on" \
    -drive "file=$work/payload.img,format=raw,if=virtio,readonly=on" \
    -nic none -serial "file:$console" -serial "file:$results" -monitor none -display none \
    </dev/null || rc=$?
qemu_ms=$(ms_since "$t")

tr -d '\r' <"$results" >"$results.txt"
grep -E '^(RESULT|MEASURE|INFO):' "$results.txt" || true
final=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$results.txt" | tail -n1 || true)
[ -z "$final" ] || echo "$final"
say "qemu ran $(seconds "$qemu_ms") (exit $rc); guest output: $results.txt, console: $console"
say "wall time $(seconds "$(ms_since "$start")")"
if [ -z "$final" ]; then
    [ "$rc" != 124 ] || echo "vm-system: qemu timed out after ${VMD_VM_TIMEOUT:-600} s" >&2
    echo "vm-system: FAIL: no final line from the guest; its last lines, then the console's:" >&2
    tail -n 20 "$results.txt" >&2
    tr -d '\r' <"$console" | tail -n 30 >&2
    exit 1
fi
if grep -q '^RESULT: FAIL' "$results.txt" || [ "${final#* passed, }" != "0 failed" ]; then
    grep -E '^(STEP: FAIL|DETAIL):' "$results.txt" >&2 || true
    exit 1
fi
exit 0
