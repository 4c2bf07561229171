# shellcheck shell=sh disable=SC2154 # the variables of checks.sh
# Checks 5–8 of the booted system, sourced by checks.sh: a non-root caller, the journal, the
# service's lifecycle (idle exit, SIGKILL mid-request) and the sandbox systemd builds.

# USER's call of verity-mountctl ARGS... must fail naming ERROR; NAME is the step.
expect_user_refusal() {
    name=$1 error=$2
    shift 2
    as_user verity-mountctl "$@" >/tmp/user.out 2>/tmp/user.err
    rc=$?
    if [ "$rc" != 0 ] && grep -q "$error" /tmp/user.err; then
        pass "$name: exit $rc, $(head -c 160 /tmp/user.err)"
    else
        fail "$name" "expected a failure naming $error, found exit $rc: $(cat /tmp/user.err)"
    fi
}

# 5. A non-root user, on both transports: first refused by what surrounds the daemon (the socket's
# mode, the bus policy), then, with those widened, by the daemon's own allowed_uids check.
check_non_root() {
    id "$test_user" >/dev/null 2>&1 || useradd --no-create-home --uid 1000 "$test_user"
    denied=io.containers.VerityMount1.Error.AccessDenied
    socket_address=unix:path=$socket_path
    # The socket unit from check 4 still listens.
    expect_user_refusal "socket, mode 0600: connecting refused" "Permission denied" \
        --address "$socket_address" status
    chmod 0666 "$socket_path"
    expect_user_refusal "socket opened to all: the daemon refuses GetStatus" "$denied" \
        --address "$socket_address" status
    expect_user_refusal "socket opened to all: the daemon refuses Mount" "$denied" \
        --address "$socket_address" mount "$IMAGE_NAME" --target /mnt/t
    chmod 0600 "$socket_path"

    # The bus: the socket-activated daemon does not own the name, so both go first.
    systemctl stop "$socket_unit" "$service"
    expect_user_refusal "system bus: the bus policy refuses" \
        org.freedesktop.DBus.Error.AccessDenied status
    if unit_in_state "$service" inactive; then
        pass "the refused call activated nothing"
    else
        fail "no activation" "$service is $(unit_prop "$service" ActiveState)"
    fi
    # A policy that lets the user call (ReloadConfig returns once the bus has read it).
    cat >/etc/dbus-1/system.d/vmd-vm-user.conf <<EOF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <policy user="$test_user">
    <allow send_destination="$bus_name"/>
  </policy>
</busconfig>
EOF
    reload_bus
    expect_user_refusal "bus policy opened to the user: the daemon refuses GetStatus" "$denied" \
        status
    expect_user_refusal "bus policy opened to the user: the daemon refuses Mount" "$denied" \
        mount "$IMAGE_NAME" --target /mnt/t
    rm /etc/dbus-1/system.d/vmd-vm-user.conf
    reload_bus
}
reload_bus() {
    busctl call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus ReloadConfig ||
        fail "ReloadConfig" "the bus did not reload its policy"
}

# 6. The refusals of checks 3–5 in the journal, each with every VMD_* field.
check_journal() {
    journalctl -u verity-mountd VMD_RESULT=refused -o json --no-pager >/tmp/refused.json
    n=$(grep -c . /tmp/refused.json)
    fields="VMD_METHOD VMD_CALLER_UID VMD_CALLER_PID VMD_IMAGE VMD_CONTAINER VMD_IDENTITY"
    fields="$fields VMD_MANIFEST_DIGEST VMD_SIGNATURE_LEVEL VMD_VERITY_LEVEL VMD_RESULT"
    fields="$fields VMD_ERROR VMD_ELAPSED_US"
    missing=$(jq -r --arg f "$fields" '($f | split(" ")) - keys | select(length > 0) |
        "\(.)"' /tmp/refused.json | sort -u | tr '\n' ' ')
    if [ "$n" -gt 0 ] && [ -z "$missing" ]; then
        pass "journalctl -u verity-mountd VMD_RESULT=refused -o json: $n entries, each with" \
            "all 12 VMD_* fields"
    else
        fail "fields" "$n entries; missing: $missing"
        head -n 2 /tmp/refused.json | detail
    fi
    # What checks 3-5 caused: one VerityMismatch per transport, and the user's two calls per
    # transport that reached the daemon.
    jq -r '[.VMD_METHOD, .VMD_CALLER_UID, .VMD_ERROR, .VMD_RESULT,
            (.VMD_CALLER_PID | test("^[1-9][0-9]*$")), (.VMD_ELAPSED_US | test("^[0-9]+$"))] |
           join(" ")' /tmp/refused.json | sort | uniq -c | sed 's/^ *//' >/tmp/kinds
    e=io.containers.VerityMount1.Error
    cat >/tmp/want <<EOF
2 GetStatus 1000 $e.AccessDenied refused true true
2 Mount 0 $e.VerityMismatch refused true true
2 Mount 1000 $e.AccessDenied refused true true
EOF
    if cmp -s /tmp/want /tmp/kinds; then
        pass "the 6 refusals: VerityMismatch (uid 0, bus and socket), AccessDenied (uid 1000," \
            "GetStatus and Mount, bus and socket)"
    else
        fail "refusals" "expected (count method uid error result pid-ok elapsed-ok) $(tr '\n' ';' \
            </tmp/want) found $(tr '\n' ';' </tmp/kinds)"
    fi
    # The report's fields (identity, manifest digest) are filled on success only (audit.hpp).
    levels=$(jq -r 'select(.VMD_ERROR | endswith("VerityMismatch")) |
        "\(.VMD_IMAGE) \(.VMD_SIGNATURE_LEVEL) \(.VMD_VERITY_LEVEL)"' /tmp/refused.json | sort -u)
    if [ "$levels" = "$IMAGE_NAME require enforce" ]; then
        pass "the VerityMismatch entries name the image and the levels: $levels"
    else
        fail "VerityMismatch fields" "expected '$IMAGE_NAME require enforce', found '$levels'"
    fi
}

# Mounts of this namespace, loop devices in use and /run/verity-mountd: what a killed request
# could leave behind.
leftovers() {
    cut -d' ' -f5,9 /proc/self/mountinfo | sort
    cat /sys/block/loop*/loop/backing_file 2>/dev/null
    ls -A /run/verity-mountd 2>/dev/null
}

# 7. Exit after idle_exit_seconds and activation by the next call; SIGKILL during a request.
check_lifecycle() {
    # A request (GetStatus is none), which activates the daemon if check 5's has exited.
    if ! verity-mountctl verify "$IMAGE_NAME" >/dev/null 2>/tmp/err; then
        fail "verify" "$(cat /tmp/err)"
        return
    fi
    t0=$(now_ms)
    invocation=$(unit_prop "$service" InvocationID)
    if ! wait_until $(((idle_exit_seconds + 60) * 5)) unit_in_state "$service" inactive; then
        fail "idle exit" "$service still $(unit_prop "$service" ActiveState) after" \
            "$((idle_exit_seconds + 60)) s"
        return
    fi
    took=$(seconds $(($(now_ms) - t0)))
    found="$(unit_prop "$service" Result) status:$(unit_prop "$service" ExecMainStatus)"
    if [ "$found" = "success status:0" ] &&
        journalctl -u verity-mountd _SYSTEMD_INVOCATION_ID="$invocation" -o cat |
        grep -q "idle for .* s, exiting"; then
        pass "exited idle by itself $took s after a Verify (idle_exit_seconds" \
            "$idle_exit_seconds), Result=success, status 0"
    else
        fail "idle exit" "expected 'success status:0' and the daemon's idle line, found '$found'"
        journal_tail
    fi
    bus_get_status >/dev/null
    again=$(unit_prop "$service" InvocationID)
    if unit_in_state "$service" active && [ "$again" != "$invocation" ]; then
        pass "the next call activated it again (a new invocation)"
    else
        fail "activated again" "$service $(unit_prop "$service" ActiveState), invocation $again"
    fi

    # SIGKILL while a Mount is being served: held in progress by the store's lock (checks.sh).
    before=$(leftovers)
    if ! hold_store_lock; then
        fail "store lock" "could not lock $lock_file"
        return
    fi
    verity-mountctl mount "$IMAGE_NAME" --target /mnt/k >/tmp/k.out 2>/tmp/k.err 7>&- &
    client=$!
    if ! wait_until 300 daemon_waits_for_lock; then
        fail "request in progress" "the daemon did not wait for images.lock within 60 s"
        release_store_lock
        wait "$client"
        return
    fi
    pid=$(unit_prop "$service" MainPID)
    open=$(find "/proc/$pid/fd" -lname "$STORE/*" | wc -l)
    systemctl kill -s KILL "$service"
    wait "$client"
    rc=$?
    release_store_lock
    if [ "$rc" != 0 ] && [ "$open" -gt 0 ]; then
        pass "systemctl kill -s KILL during a Mount (waiting for images.lock, $open store files" \
            "open): the client got exit $rc, $(head -c 120 /tmp/k.err)"
    else
        fail "kill mid-request" "expected a failed client and store files open in pid $pid," \
            "found exit $rc and $open files"
        [ "$rc" != 0 ] || umount /mnt/k
    fi
    wait_until 150 unit_in_state "$service" failed
    found="$(unit_prop "$service" ActiveState) $(unit_prop "$service" Result)"
    found="$found pids:$(pidof verity-mountd)"
    expect_found "after the kill" "failed signal pids:" "$found" \
        "the service failed with Result=signal; no verity-mountd process left"
    if [ "$(leftovers)" = "$before" ]; then
        pass "no mount, loop device or file in /run/verity-mountd left behind"
    else
        fail "leftovers" "before and after the kill differ"
        echo "$before" >/tmp/before
        leftovers | diff /tmp/before - | detail
    fi
    if check_mount "$expected" "" ""; then
        pass "the next call activated the daemon again and mounted the image"
    else
        fail "the next call" "$(cat /tmp/why)"
        journal_tail
    fi
}
