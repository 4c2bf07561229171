# shellcheck shell=sh disable=SC2154 # the variables of checks.sh
# Checks 1–4 of the booted system, sourced by checks.sh: the package installed, the signed store,
# and a verified mount through bus activation and through socket activation.

# 1. dpkg -i; the units are loaded, nothing is enabled, started or listening.
check_install() {
    deb=$(ls "$payload"/package/verity-mountd_*.deb)
    if ! dpkg -i "$deb" >/tmp/dpkg.out 2>&1; then
        fail "dpkg -i" "$(tail -n 5 /tmp/dpkg.out | tr '\n' ' ')"
        return
    fi
    pass "dpkg -i ${deb##*/}"
    for unit in "$service" "$socket_unit"; do
        load=$(unit_prop "$unit" LoadState)
        if [ "$load" = loaded ]; then
            pass "$unit loaded (the postinst reloaded systemd)"
        else
            fail "$unit loaded" "expected LoadState=loaded, found $load"
        fi
    done
    systemctl status "$service" >/tmp/status.out 2>&1
    rc=$?
    active=$(grep -m1 'Active:' /tmp/status.out | sed 's/^ *//')
    # systemctl status exits 3 for a unit that is not active.
    if [ "$rc" = 3 ] && echo "$active" | grep -q 'inactive (dead)'; then
        pass "systemctl status $service: $active"
    else
        fail "systemctl status" "expected exit 3 and 'inactive (dead)', found exit $rc: $active"
    fi
    expect_found "nothing enabled" "static disabled" \
        "$(systemctl is-enabled "$service") $(systemctl is-enabled "$socket_unit")" \
        "nothing enabled (service static, socket disabled)"
    found="pids:$(pidof verity-mountd) socket:$(unit_prop "$socket_unit" ActiveState)"
    found="$found $socket_path:$([ -e "$socket_path" ] && echo exists) owned:$(name_owned)"
    expect_found "nothing runs" "pids: socket:inactive $socket_path: owned:false" "$found" \
        "nothing runs: no verity-mountd process, no socket, $bus_name not owned"
    if busctl call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus \
        ListActivatableNames | grep -q "\"$bus_name\""; then
        pass "$bus_name is activatable on the system bus"
    else
        fail "activatable" "the system bus does not list $bus_name as activatable"
    fi
}

# 2. The fixture's store in /var/lib/containers/storage with fs-verity on every object and blob
# (enabled by this kernel), its policy and key in /etc/containers, the package's config.
check_store() {
    mkdir -p "${STORE%/*}" /etc/containers/keys
    if ! cp -a "$payload/fixture/store" "$STORE" 2>/tmp/err ||
        ! cp "$payload/fixture/policy.json" /etc/containers/policy.json 2>>/tmp/err ||
        ! cp "$payload/fixture/keys/signer.pub" /etc/containers/keys/ 2>>/tmp/err; then
        fail "copy the store, policy and key" "$(cat /tmp/err)"
        return
    fi
    key=$(jq -r '[.. | .keyPath? // empty][0]' /etc/containers/policy.json)
    if [ -f "$key" ]; then
        pass "store in $STORE; /etc/containers/policy.json names $key"
    else
        fail "policy key" "policy.json names keyPath '$key', which does not exist"
    fi
    enable_store_verity "$STORE" "$LAYERS"
    if [ "$verity_errors" = 0 ]; then
        pass "fs-verity enabled on $verity_files objects and blobs"
    else
        fail "fsverity enable" "$verity_errors files refused"
    fi
    mismatch=$(blob_digest_mismatches)
    if [ -z "$mismatch" ]; then
        pass "the kernel's digest of each blob is the fixture's"
    else
        fail "blob digests" "$mismatch"
    fi
    # The package's conffile, as installed, with a shorter idle time for check 7.
    if jq -e '.storage_root == "/var/lib/containers/storage" and
              .policy_path == "/etc/containers/policy.json" and .verity == "enforce" and
              .signature == "require"' "$config" >/dev/null &&
        jq --argjson n "$idle_exit_seconds" '.idle_exit_seconds = $n' "$config" >/tmp/config &&
        cat /tmp/config >"$config"; then
        pass "$config: the package's defaults (enforce, require)," \
            "idle_exit_seconds $idle_exit_seconds"
    else
        fail "config" "expected the package's defaults in $config, found: $(cat "$config")"
    fi
}

# The mount and the two tamperings of checks 3 and 4 (cases.sh), on the transport in CTL_ADDRESS.
mount_and_tamper() {
    if check_mount "$expected" "" ""; then
        pass "mount $IMAGE_NAME --target $root_target (enforce): an overlay with verity=require" \
            "in the caller's namespace (check 8: the daemon's is another); every file reads as on" \
            "the host"
    else
        fail "mount at enforce" "$(cat /tmp/why)"
        journal_tail
    fi
    case_tampered_object "tampered object ($TARGET1): EIO, the rest reads" "$TARGET1" \
        "$TARGET1_OBJECTS" changed
    case_tampered_blob "tampered blob (the other layer's): refused with VerityMismatch" \
        VerityMismatch other
}

# 3. The system bus: GetStatus as root activates the service; a verified mount; tampering.
check_bus() {
    if ! bus_get_status >/tmp/status.json 2>/tmp/err; then
        fail "GetStatus on the bus" "$(cat /tmp/err)"
        journal_tail
        return
    fi
    pass "busctl call $bus_name $object $bus_name GetStatus"
    fs_verity=$(jq -r '.data[0].kernel.data.fs_verity.data' /tmp/status.json)
    if [ "$fs_verity" = true ]; then
        pass "kernel.fs_verity is true"
    else
        fail "fs_verity" "expected true, found $fs_verity in $(cat /tmp/status.json)"
    fi
    found="$(unit_prop "$service" ActiveState) owned:$(name_owned)"
    found="$found socket:$(unit_prop "$socket_unit" ActiveState)"
    expect_found "bus activation" "active owned:true socket:inactive" "$found" \
        "bus activation started $service, owning $bus_name"
    CTL_ADDRESS=""
    mount_and_tamper
}

# 4. The same through the socket unit and the peer-to-peer socket.
check_socket() {
    # One transport at a time: the bus-activated daemon stops first (README, Activation).
    systemctl stop "$service"
    if ! systemctl start "$socket_unit" 2>/tmp/err; then
        fail "systemctl start $socket_unit" "$(cat /tmp/err)"
        return
    fi
    mode=$(stat -c '%F %a %U' "$socket_path" 2>&1)
    if [ "$mode" = "socket 600 root" ]; then
        pass "$socket_unit listens on $socket_path ($mode)"
    else
        fail "socket file" "expected 'socket 600 root', found '$mode'"
    fi
    if unit_in_state "$service" inactive; then
        pass "no daemon before the first connection"
    else
        fail "no daemon yet" "$service is $(unit_prop "$service" ActiveState)"
    fi
    CTL_ADDRESS=unix:path=$socket_path
    if ! verity-mountctl --address "$CTL_ADDRESS" status --json >/tmp/status.json 2>/tmp/err; then
        fail "status over the socket" "$(cat /tmp/err)"
        journal_tail
        return
    fi
    fs_verity=$(jq -r '.kernel.fs_verity' /tmp/status.json)
    found="fs_verity:$fs_verity $(unit_prop "$service" ActiveState) owned:$(name_owned)"
    expect_found "socket activation" "fs_verity:true active owned:false" "$found" \
        "verity-mountctl --address $CTL_ADDRESS status: socket activation, fs_verity true"
    mount_and_tamper
    CTL_ADDRESS=""
}
