#!/usr/bin/env bash
# Builds the Debian package (cpack in ${BUILD_DIR:-build}), installs it on this machine with dpkg,
# checks that every file landed where Debian's systemd and dbus look for it and that the installed
# daemon answers, checks that the config is a conffile dpkg keeps, then removes and purges it.
# Idempotent: a package left behind by an interrupted run is purged first, and the exit trap
# purges again whatever happens.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" != 0 ]; then
  echo "package-test.sh: run as root (it installs a package with dpkg)" >&2
  exit 2
fi

package=verity-mountd
build=$PWD/${BUILD_DIR:-build}
config=/etc/containers/verity-mountd.json
unit_dir=$(pkg-config --variable=systemdsystemunitdir systemd 2>/dev/null || echo /lib/systemd/system)
daemon=/usr/libexec/verity-mountd
work=$(mktemp -d /tmp/verity-mountd-package.XXXXXX)
listener_pid=""

status() { dpkg-query -W -f='${db:Status-Status}' "$package" 2>/dev/null || echo not-installed; }
purge() {
  if [ "$(status)" != not-installed ]; then
    dpkg --purge "$package" >/dev/null
  fi
}
cleanup() {
  if [ -n "$listener_pid" ] && kill -0 "$listener_pid" 2>/dev/null; then
    kill "$listener_pid"
    wait "$listener_pid" 2>/dev/null || true
  fi
  purge
  rm -rf "$work"
}
trap cleanup EXIT
fail() {
  echo "package-test: $*" >&2
  exit 1
}
step() { echo "package-test: $*"; }

purge  # what an interrupted run left
if [ -e "$config" ]; then
  fail "$config exists and belongs to no installed $package: refusing to let dpkg take it over"
fi

step "building the package"
cmake -S . -B "$build" >/dev/null
cmake --build "$build" -j"$(nproc)" --target verity-mountd verity-mountctl >/dev/null
rm -f "$build"/package/"$package"_*.deb
(cd "$build" && cpack -G DEB >/dev/null)
debs=("$build"/package/"$package"_*.deb)
[ "${#debs[@]}" = 1 ] && [ -f "${debs[0]}" ] || fail "expected one .deb in $build/package"
deb=${debs[0]}
depends=$(dpkg-deb -f "$deb" Depends)
[[ $depends == *libsystemd0* && $depends == *libssl3* ]] ||
  fail "expected shared-library dependencies from dpkg-shlibdeps, found: $depends"

step "installing $(basename "$deb")"
dpkg -i "$deb" >/dev/null
[ "$(status)" = installed ] || fail "expected $package installed, found $(status)"

step "checking the installed files"
verity-mountctl --help | grep -q "Usage: verity-mountctl" || fail "verity-mountctl --help"
for file in "$daemon" /usr/bin/verity-mountctl "$unit_dir/verity-mountd.service" \
  "$unit_dir/verity-mountd.socket" /usr/share/dbus-1/system.d/io.containers.VerityMount1.conf \
  /usr/share/dbus-1/system-services/io.containers.VerityMount1.service \
  /usr/share/dbus-1/interfaces/io.containers.VerityMount1.xml "$config"; do
  [ -f "$file" ] || fail "expected $file"
done
[ -x "$daemon" ] || fail "expected $daemon executable"
grep -qx "ExecStart=$daemon" "$unit_dir/verity-mountd.service" || fail "ExecStart= is not $daemon"
grep -qx "Exec=$daemon" /usr/share/dbus-1/system-services/io.containers.VerityMount1.service ||
  fail "Exec= of the activation file is not $daemon"
dpkg-query -W -f='${Conffiles}\n' "$package" | grep -q " $config " || fail "$config is no conffile"
# The installed units as systemd will read them, the daemon they name now existing.
systemd-analyze verify "$unit_dir/verity-mountd.service" "$unit_dir/verity-mountd.socket"

step "calling the installed daemon, socket-activated"
mkdir "$work/store"
echo '{"default": [{"type": "reject"}]}' >"$work/policy.json"
printf '{"storage_root": "%s", "policy_path": "%s", "idle_exit_seconds": 0}\n' \
  "$work/store" "$work/policy.json" >"$work/config.json"
exec {listener}< <(exec systemd-socket-activate -l "$work/io.socket" "$daemon" \
  --config "$work/config.json" 2>&1)
listener_pid=$!
# The listener says so once the socket listens; the daemon starts on the first connection.
while IFS= read -r -u "$listener" line; do
  [[ $line == Listening* ]] && break
done
verity-mountctl --address "unix:path=$work/io.socket" status --json >"$work/status.json"
grep -q "\"storage_root\": \"$work/store\"" "$work/status.json" || fail "status: $(cat "$work/status.json")"
kill "$listener_pid"
wait "$listener_pid" || fail "the daemon did not exit cleanly on SIGTERM"
listener_pid=""
exec {listener}<&-

step "reinstalling keeps the administrator's config"
sed -i 's/"max_layers": 128/"max_layers": 64/' "$config"
dpkg -i "$deb" >/dev/null
grep -q '"max_layers": 64' "$config" || fail "reinstalling replaced the edited $config"

step "removing"
dpkg -r "$package" >/dev/null
for file in "$daemon" /usr/bin/verity-mountctl "$unit_dir/verity-mountd.service" \
  /usr/share/dbus-1/system.d/io.containers.VerityMount1.conf; do
  [ ! -e "$file" ] || fail "dpkg -r left $file"
done
[ -f "$config" ] || fail "dpkg -r removed the conffile $config"
dpkg --purge "$package" >/dev/null
[ ! -e "$config" ] || fail "dpkg --purge left $config"
[ "$(status)" = not-installed ] || fail "expected $package gone, found $(status)"
step "ok"
