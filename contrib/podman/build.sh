#!/usr/bin/env bash
# Builds podman v5.6.2 with the patch series of this directory applied.
#
# Source, first found: $PODMAN_SRC (a tarball or a tree); ../shared/podman/podman-5.6.2.tar.xz
# beside the checkout; a clone of the upstream tag v5.6.2 (needs a network, checked against the
# tag's commit). Installs Go 1.23 (bookworm-backports, on the mirror the system already uses) and
# the libraries and runtime podman needs. The result is cached in ${PODMAN_CACHE:-.cache/podman}
# (git-ignored): bin/podman is rebuilt only when the source, the patches or this script change.
# Prints the path of the binary as its last line. Exit 3: no source (the message says what to set).
set -euo pipefail
shopt -s nullglob
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
cache=${PODMAN_CACHE:-$repo/.cache/podman}
version=5.6.2
upstream_commit=9dd5e1ed33830612bc200d7a13db00af6ab865a4
tags="libsqlite3 seccomp systemd exclude_graphdriver_btrfs containers_image_openpgp"
go=/usr/lib/go-1.23/bin/go
log() { echo "podman-build: $*" >&2; }

# --- the source ---------------------------------------------------------------------------
source=${PODMAN_SRC:-}
if [ -z "$source" ] && [ -f "$repo/../shared/podman/podman-$version.tar.xz" ]; then
  source=$repo/../shared/podman/podman-$version.tar.xz
fi
if [ -n "$source" ] && [ ! -e "$source" ]; then
  log "PODMAN_SRC=$source does not exist"
  exit 3
fi
if [ -z "$source" ] && ! command -v git >/dev/null; then
  log "no podman source: set PODMAN_SRC to the podman v$version tarball or tree"
  exit 3
fi

# --- what the build needs -----------------------------------------------------------------
# The suite of the system's own Debian mirror, with -backports added, as a deb822 source.
backports_source() {
  local codename uri="" signed=""
  codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
  local files=(/etc/apt/sources.list.d/*.sources)
  local file
  for file in "${files[@]}"; do
    [ -f "$file" ] || continue
    # First stanza with Suites: <codename> and a .../debian URI.
    read -r uri signed < <(awk -v suite="$codename" '
      BEGIN { RS = ""; FS = "\n" }
      { u = ""; s = ""; k = ""; hit = 0
        for (i = 1; i <= NF; i++) {
          if ($i ~ /^URIs:/) { u = $i; sub(/^URIs:[ \t]*/, "", u); sub(/[ \t].*/, "", u) }
          if ($i ~ /^Suites:/) { n = split(substr($i, 8), w, /[ \t]+/); for (j = 1; j <= n; j++) if (w[j] == suite) hit = 1 }
          if ($i ~ /^Signed-By:/) { k = $i; sub(/^Signed-By:[ \t]*/, "", k) }
        }
        if (hit && u ~ /debian\/?$/) { print u, k; exit }
      }' "$file") || true
    [ -n "$uri" ] && break
  done
  if [ -z "$uri" ]; then
    uri=$(awk -v suite="$codename" '$1 == "deb" && $0 !~ /security/ {
            for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { if ($(i + 1) == suite) print $i; break } }' \
          /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | head -n 1)
  fi
  if [ -z "$uri" ] || [ -z "$codename" ]; then
    return 1
  fi
  printf 'Types: deb\nURIs: %s\nSuites: %s-backports\nComponents: main\n' "$uri" "$codename"
  [ -n "$signed" ] && printf 'Signed-By: %s\n' "$signed"
  return 0
}

install_packages() {
  local missing=() pkg
  for pkg in libgpgme-dev libseccomp-dev libsqlite3-dev pkg-config gcc runc netavark conmon \
    xz-utils; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" ||
      missing+=("$pkg")
  done
  export DEBIAN_FRONTEND=noninteractive
  if ((${#missing[@]} > 0)); then
    log "installing ${missing[*]}"
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
  if [ ! -x "$go" ]; then
    local list=/etc/apt/sources.list.d/verity-mountd-backports.sources
    if [ ! -f "$list" ]; then
      local stanza
      if ! stanza=$(backports_source); then
        log "cannot derive a backports source from /etc/apt/sources.list*: install golang-1.23-go"
        exit 1
      fi
      log "adding $list (the system's mirror, suite -backports) for golang-1.23-go"
      printf '%s\n' "$stanza" >"$list"
    fi
    apt-get update -qq -o Dir::Etc::sourcelist="$list" -o Dir::Etc::sourceparts=- \
      -o APT::Get::List-Cleanup=0
    apt-get install -y -qq --no-install-recommends -t "$(. /etc/os-release &&
      echo "$VERSION_CODENAME")-backports" golang-1.23-go >/dev/null
  fi
}

# --- the cache key: source, patches, this script, the compiler ----------------------------
source_id() {
  if [ -z "$source" ]; then
    echo "upstream $upstream_commit"
  elif [ -d "$source" ]; then
    (cd "$source" && find . -type f -printf '%P %s %T@\n' | LC_ALL=C sort | sha256sum)
  else
    sha256sum <"$source"
  fi
}

install_packages
key=$({
  source_id
  cat "$here"/patches/*.patch "$here/build.sh"
  "$go" version
  echo "$tags"
} | sha256sum | cut -c1-64)
binary=$cache/bin/podman
if [ -x "$binary" ] && [ "$(cat "$cache/key" 2>/dev/null)" = "$key" ]; then
  log "reusing $binary (source and patches unchanged)"
  echo "$binary"
  exit 0
fi

# --- unpack, patch, build ------------------------------------------------------------------
tree=$cache/src
rm -rf "$tree" "$cache/key"
mkdir -p "$tree" "$cache/bin"
if [ -z "$source" ]; then
  log "no local source: cloning the upstream tag v$version"
  git clone -q --depth 1 --branch "v$version" https://github.com/containers/podman.git "$tree" || {
    log "no podman source: set PODMAN_SRC to the podman v$version tarball or tree"
    exit 3
  }
  if [ "$(git -C "$tree" rev-parse HEAD)" != "$upstream_commit" ]; then
    log "the upstream tag v$version is not commit $upstream_commit: refusing to build it"
    exit 1
  fi
elif [ -d "$source" ]; then
  cp -a "$source/." "$tree/"
else
  tar -xf "$source" -C "$tree" --strip-components=1
fi
for patch in "$here"/patches/*.patch; do
  log "applying $(basename "$patch")"
  patch -s -p1 -d "$tree" --no-backup-if-mismatch <"$patch"
done

log "building podman (go build, about 2 minutes on 2 cores)"
start=$(date +%s)
(
  cd "$tree"
  export GOTOOLCHAIN=local GOPROXY=off GOFLAGS=-mod=vendor CGO_ENABLED=1
  export GOCACHE=$cache/go-build GOPATH=$cache/gopath
  "$go" build -trimpath -tags "$tags" \
    -ldflags "-X github.com/containers/podman/v5/libpod/define.gitCommit=$upstream_commit" \
    -o "$binary.new" ./cmd/podman
)
mv "$binary.new" "$binary"
echo "$key" >"$cache/key"
log "built $("$binary" --version) in $(($(date +%s) - start)) s"
echo "$binary"
