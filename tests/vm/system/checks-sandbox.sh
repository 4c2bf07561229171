# shellcheck shell=sh disable=SC2154 # the variables of checks.sh
# Check 8 of the booted system, sourced by checks.sh: the sandbox as systemd built it around the
# running daemon, compared with what the unit asks for.

# Bit of capability NAME (those the unit may name; another fails the step).
cap_bit() {
    case $1 in
        cap_chown) echo 0 ;;
        cap_dac_override) echo 1 ;;
        cap_fowner) echo 3 ;;
        cap_fsetid) echo 4 ;;
        cap_sys_admin) echo 21 ;;
        cap_mknod) echo 27 ;;
        cap_setfcap) echo 31 ;;
        *) return 1 ;;
    esac
}
exposure() { sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p'; }
status_field() { sed -n "s/^$2:[[:space:]]*//p" "/proc/$1/status"; } # PID FIELD
# Runs COMMAND... in the daemon's mount namespace.
in_daemon_ns() { nsenter -t "$pid" -m -- "$@"; }
# COMMAND... in the daemon's mount namespace must fail saying WHY; NAME is the step.
expect_in_ns_failure() {
    name=$1 why=$2
    shift 2
    if in_daemon_ns "$@" >/tmp/ns.out 2>&1; then
        fail "$name" "succeeded in the daemon's namespace"
    elif grep -q "$why" /tmp/ns.out; then
        pass "$name: $(head -c 120 /tmp/ns.out)"
    else
        fail "$name" "expected '$why', found: $(cat /tmp/ns.out)"
    fi
}
# Opens DEVICE (read, or read-write with MODE rw) from a process in the service's cgroup, where
# systemd's device filter (DevicePolicy=, DeviceAllow=) applies.
open_in_service_cgroup() {
    sh -c 'echo $$ >"$1/cgroup.procs" || exit 99
           if [ "$3" = rw ]; then exec 3<>"$2"; else exec 3<"$2"; fi' sh \
        "/sys/fs/cgroup$cgroup" "$1" "${2:-r}" 2>/tmp/dev.err
}

# 8. systemd-analyze security online equals offline; the sandbox holds around the running daemon.
check_sandbox() {
    unit_file=$(unit_prop "$service" FragmentPath)
    online=$(systemd-analyze security "$service" 2>&1 | exposure)
    offline=$(systemd-analyze security --offline=true "$unit_file" 2>&1 | exposure)
    if [ -n "$online" ] && [ "$online" = "$offline" ]; then
        pass "systemd-analyze security: $online on the loaded unit, $offline offline ($unit_file)"
    else
        fail "security score" "loaded unit '$online', offline '$offline'"
    fi

    # The probes take longer than idle_exit_seconds under a loaded TCG: a Verify held in progress
    # by the store's lock (checks.sh) keeps the daemon from exiting meanwhile. busctl, for a
    # timeout longer than the client's 25 s.
    if ! hold_store_lock; then
        fail "store lock" "could not lock $lock_file"
        return
    fi
    busctl --timeout=600 call "$bus_name" "$object" "$bus_name" Verify 'sa{sv}' "$IMAGE_NAME" 0 \
        >/tmp/verify.out 2>/tmp/verify.err 7>&- &
    verify=$!
    if wait_until 300 daemon_waits_for_lock; then
        probe_sandbox
    else
        fail "request in progress" "the daemon did not wait for images.lock within 60 s"
    fi
    release_store_lock
    if wait "$verify"; then
        pass "the held Verify succeeded once the lock was released"
    else
        fail "held Verify" "$(cat /tmp/verify.err)"
    fi
}

probe_sandbox() {
    pid=$(unit_prop "$service" MainPID)
    want=0
    for cap in $(unit_prop "$service" CapabilityBoundingSet); do
        bit=$(cap_bit "$cap") || { fail "capabilities" "no bit known for $cap"; return; }
        want=$((want | (1 << bit)))
    done
    want=$(printf '%016x' "$want")
    found="NoNewPrivs:$(status_field "$pid" NoNewPrivs) Seccomp:$(status_field "$pid" Seccomp)"
    found="$found CapBnd:$(status_field "$pid" CapBnd) CapEff:$(status_field "$pid" CapEff)"
    expect_found "credentials" "NoNewPrivs:1 Seccomp:2 CapBnd:$want CapEff:$want" "$found" \
        "pid $pid: no new privileges, a seccomp filter, capabilities $want as the unit says"
    shared=""
    for ns in mnt net ipc; do
        if [ "$(readlink "/proc/$pid/ns/$ns")" = "$(readlink /proc/1/ns/$ns)" ]; then
            shared="$shared $ns"
        fi
    done
    if [ -z "$shared" ]; then
        pass "own mount (so the mounts of checks 3, 4 and 7 crossed namespaces), network and IPC" \
            "namespaces"
    else
        fail "namespaces" "shares with PID 1:$shared"
    fi

    expect_in_ns_failure "cannot write /etc" "Read-only file system" touch /etc/vmd-probe
    expect_in_ns_failure "cannot write /usr" "Read-only file system" touch /usr/vmd-probe
    expect_in_ns_failure "cannot write the store's metadata" "Read-only file system" \
        touch "$STORE/overlay-images/vmd-probe"
    if in_daemon_ns touch "$STORE/overlay/vmd-probe" 2>/tmp/ns.out; then
        rm -f "$STORE/overlay/vmd-probe"
        pass "can write $STORE/overlay (ReadWritePaths=, for overlayfs's upper dirs)"
    else
        fail "store overlay writable" "$(cat /tmp/ns.out)"
    fi
    touch /root/vmd-probe /tmp/vmd-probe
    # shellcheck disable=SC2016 # expanded in the daemon's namespace
    found=$(in_daemon_ns sh -c 'echo "root:$(ls -A /root | tr "\n" " ")"
        [ -e /tmp/vmd-probe ] && echo "tmp:shared" || echo "tmp:private"' 2>&1 | paste -sd' ')
    rm -f /root/vmd-probe /tmp/vmd-probe
    expect_found "home and tmp" "root: tmp:private" "$found" \
        "/root empty (ProtectHome=), /tmp private (PrivateTmp=)"
    proc=$(awk '$5 == "/proc" { print $NF }' "/proc/$pid/mountinfo" | tail -n1)
    case ",$proc," in
        *,hidepid=invisible,*subset=pid,* | *,subset=pid,*hidepid=invisible,*)
            pass "/proc: $proc (ProtectProc=invisible, ProcSubset=pid)" ;;
        *) fail "/proc" "expected hidepid=invisible and subset=pid, found '$proc'" ;;
    esac

    cgroup=$(sed -n 's/^0:://p' "/proc/$pid/cgroup")
    if [ "$cgroup" != "/system.slice/$service" ]; then
        fail "cgroup" "expected /system.slice/$service, found '$cgroup'"
        return
    fi
    if head -c 1 /dev/vda >/dev/null && ! open_in_service_cgroup /dev/vda; then
        pass "in the service's cgroup /dev/vda cannot be opened: $(cat /tmp/dev.err)"
    else
        fail "device filter" "/dev/vda opened from the service's cgroup $cgroup"
    fi
    if open_in_service_cgroup /dev/loop-control rw; then
        pass "in the service's cgroup /dev/loop-control opens read-write (DeviceAllow=)"
    else
        fail "loop-control" "$(cat /tmp/dev.err)"
    fi
    if [ "$(unit_prop "$service" MainPID)" = "$pid" ]; then
        pass "one daemon (pid $pid) throughout the probes"
    else
        fail "one daemon" "pid $pid is gone"
    fi
}
