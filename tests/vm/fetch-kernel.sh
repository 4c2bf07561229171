#!/bin/bash
# Fetches Debian's newest 6.12 amd64 kernel package once and unpacks it into the cache.
#
#   fetch-kernel.sh     prints the unpacked tree (cache/kernel-<version>), downloading if needed
#
# Cache: $VMD_VM_CACHE, default tests/vm/cache/ beside this script. The unpacked tree holds
# boot/vmlinuz-<release>, boot/config-<release> and lib/modules/<release>/.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cache=${VMD_VM_CACHE:-$here/cache}
mkdir -p "$cache"

log() { echo "fetch-kernel: $*" >&2; }

# Newest linux-image-6.12.*-amd64-unsigned known to apt (the flavour without a suffix).
newest_package() {
    apt-cache search --names-only '^linux-image-6\.12\..*-amd64-unsigned$' 2>/dev/null |
        awk '{print $1}' | grep -E '^linux-image-6\.12\.[0-9]+\+deb[0-9]+-amd64-unsigned$' |
        sort -V | tail -n1
}

pkg=$(newest_package)
if [ -z "$pkg" ]; then
    log "no linux-image-6.12.*-amd64-unsigned known to apt; running apt-get update"
    apt-get update -qq >&2 || { log "apt-get update failed"; exit 1; }
    pkg=$(newest_package)
fi
if [ -z "$pkg" ]; then
    # Offline, or the mirror moved on: fall back to a tree unpacked by an earlier run.
    tree=$(find "$cache" -maxdepth 1 -type d -name 'kernel-6.12.*' | sort -V | tail -n1)
    if [ -z "$tree" ]; then
        log "apt knows no linux-image-6.12.*-amd64-unsigned and the cache is empty"
        exit 1
    fi
    log "apt knows no 6.12 kernel package; using the cached $tree"
    echo "$tree"
    exit 0
fi

version=${pkg#linux-image-}
version=${version%-unsigned}
tree=$cache/kernel-$version
if [ -f "$tree/.complete" ]; then
    echo "$tree"
    exit 0
fi

log "downloading $pkg"
rm -rf "$tree" "$cache/download"
mkdir -p "$cache/download"
if ! (cd "$cache/download" && apt-get download -q "$pkg" >&2); then
    log "apt-get download $pkg failed"
    exit 1
fi
deb=$(find "$cache/download" -maxdepth 1 -name "${pkg}_*.deb" | head -n1)
[ -n "$deb" ] || { log "apt-get download left no ${pkg}_*.deb"; exit 1; }
mkdir -p "$tree.partial"
dpkg-deb -x "$deb" "$tree.partial"
ls "$tree.partial"/boot/vmlinuz-* >/dev/null 2>&1 || { log "$deb holds no boot/vmlinuz-*"; exit 1; }
rm -rf "$cache/download"
touch "$tree.partial/.complete"
mv "$tree.partial" "$tree"
log "unpacked into $tree"
echo "$tree"
