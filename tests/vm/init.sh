#!/bin/sh
# The guest's /init (busybox sh): sets up the kernel, the test disk, a system bus and the daemon,
# then runs the enforce cases (DESIGN §7–8) against the store on /dev/vda. Prints one
# "RESULT: PASS name" or "RESULT: FAIL name: detail" line per case, "MEASURE: …" lines for the
# timings, then "N passed, M failed", and powers off. tests/vm/run.sh reads these lines.
export PATH=/usr/bin:/usr/sbin:/bin:/sbin
export LC_ALL=C

# Results also go to a file: the cases run in a subshell, so that a shell error there cannot end
# init (and panic the kernel) before the final line.
result() {
    echo "$1"
    echo "$1" >>/tmp/results
    read -r up _ </proc/uptime
    echo "UPTIME: $up s"
}
pass() { result "RESULT: PASS $1"; }
fail() { result "RESULT: FAIL $1: $2"; }
detail() { sed 's/^/DETAIL: /'; }
finish() {
    n_pass=$(grep -c '^RESULT: PASS' /tmp/results)
    n_fail=$(grep -c '^RESULT: FAIL' /tmp/results)
    echo "$n_pass passed, $n_fail failed"
    sync
    poweroff -f
}

mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t tmpfs tmp /tmp
: >/tmp/results
mount -t tmpfs run /run
mkdir -p /run/dbus
echo 1 >/proc/sys/kernel/printk
echo "GUEST: kernel $(uname -r), up $(cut -d' ' -f1 /proc/uptime)s"

# A system bus; --fork returns once it listens. Exports DBUS_SYSTEM_BUS_ADDRESS.
start_bus() {
    dbus-daemon --config-file=/etc/dbus-1/vm-system.conf --fork --nopidfile --nosyslog \
        --print-address >/tmp/bus 2>/tmp/err || return 1
    DBUS_SYSTEM_BUS_ADDRESS=$(head -n1 /tmp/bus)
    export DBUS_SYSTEM_BUS_ADDRESS
}

# --- setup: modules, disk, fs-verity on the store, bus, daemon ---
modules_ok=1
while read -r m; do
    insmod "/modules/$m.ko" 2>/tmp/insmod || { modules_ok=0; detail </tmp/insmod; }
done </modules/order
if [ "$modules_ok" = 1 ]; then pass "setup-modules"; else fail "setup-modules" "insmod failed"; fi

# virtio_blk probes during insmod; the loop only covers a slow devtmpfs.
i=0
while [ ! -b /dev/vda ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
mkdir -p /vmdisk /mnt/root /mnt/t
if mount -t ext4 /dev/vda /vmdisk 2>/tmp/err; then
    pass "setup-disk"
else
    fail "setup-disk" "$(cat /tmp/err)"
    finish
fi
. /vmdisk/vm/case.env

if [ "${STUB:-0}" = 1 ]; then
    # Harness-only boot: no store and no daemon, just the kernel's fs-verity.
    if fsverity enable /vmdisk/vm/stub-file 2>/tmp/err; then
        got=$(fsverity measure /vmdisk/vm/stub-file | cut -d' ' -f1)
        if [ "$got" = "$STUB_DIGEST" ]; then
            pass "stub-fsverity"
        else
            fail "stub-fsverity" "expected $STUB_DIGEST, measured $got"
        fi
    else
        fail "stub-fsverity" "$(cat /tmp/err)"
    fi
    if start_bus; then pass "stub-dbus"; else fail "stub-dbus" "$(cat /tmp/err)"; fi
    finish
fi

. /vm-cases.sh
enable_store_verity "$STORE" "$LAYERS"
# The benchmark's 10-layer store (tests/bench/run.sh --vm), when the disk has one.
[ -z "${BENCH_STORE:-}" ] || enable_store_verity "$BENCH_STORE" "$BENCH_LAYERS"
if [ "$verity_errors" = 0 ]; then
    pass "setup-fsverity-enable"
else
    fail "setup-fsverity-enable" "$verity_errors files refused fsverity enable"
fi

# The kernel's measure of each blob must equal the digest the fixture computed in user space.
mismatch=$(blob_digest_mismatches)
if [ -z "$mismatch" ]; then
    pass "setup-blob-digests"
else
    fail "setup-blob-digests" "$mismatch"
fi

if start_bus; then
    pass "setup-dbus"
else
    fail "setup-dbus" "$(cat /tmp/err)"
    finish
fi

# Whether process PID runs (a zombie does not).
alive() {
    read -r _ _ state _ <"/proc/$1/stat" 2>/dev/null && [ "$state" != Z ]
}
# Polls (bounded: ~30 s) until the daemon's name is (WANT=true) or is not (false) on the bus.
wait_for_name() {
    i=0
    while [ $i -lt 600 ]; do
        dbus-send --system --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
            org.freedesktop.DBus.NameHasOwner string:io.containers.VerityMount1 2>/dev/null |
            grep -q "boolean $1" && return 0
        [ "$1" = false ] || alive "$daemon_pid" || return 1
        sleep 0.05
        i=$((i + 1))
    done
    return 1
}
# Starts the daemon with CONFIG; returns once it owns its name.
start_daemon() {
    verity-mountd --config "$1" >>/tmp/verity-mountd.log 2>&1 &
    daemon_pid=$!
    wait_for_name true
}
# Stops it; returns once its name is gone (the process may stay a zombie of PID 1 for a while).
stop_daemon() {
    kill "$daemon_pid" 2>/dev/null
    wait_for_name false
}

if start_daemon "$CONFIG"; then
    pass "setup-daemon"
else
    fail "setup-daemon" "verity-mountd did not take its bus name"
    tail -n 20 /tmp/verity-mountd.log | detail
    finish
fi

(
    run_cases
    stop_daemon
    : >/tmp/cases-done
)
[ -e /tmp/cases-done ] || fail "cases" "the case script stopped early (see the serial log)"
grep -iE 'error|warn' /tmp/verity-mountd.log | tail -n 20 | sed 's/^/DAEMON: /'
finish
