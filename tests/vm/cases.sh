# The enforce cases, sourced by init.sh (busybox sh) once the daemon owns its bus name, and by
# system/checks.sh (the booted Debian), which uses the mount and tampering cases.
# Uses from the caller: pass, fail, detail (init.sh also start_daemon, stop_daemon, daemon_pid),
# and case.env (IMAGE_NAME, STORE, LAYERS top first, TARGET0/1 and the objects holding their
# content, CONTAINER_ID and CONTAINER_LAYER). ROOT_TARGET: where check_mount attaches the rootfs
# (default /mnt/root); CTL_ADDRESS: a D-Bus address for verity-mountctl (default the system bus).

expected=/vmdisk/vm/expected.txt
root_target=${ROOT_TARGET:-/mnt/root}
top_layer=${LAYERS%% *}
bottom_layer=${LAYERS##* }

# fs-verity on every object and on the blob of each of LAYERS in STORE (this kernel builds the
# Merkle trees). Counts in verity_files and verity_errors, over all calls; a DETAIL line for each
# refusal.
verity_files=0 verity_errors=0
enable_store_verity() { # STORE LAYERS
    for id in $2; do
        find "$1/overlay/$id/diff" -type f >/tmp/objects
        echo "$1/overlay/$id/composefs-data/composefs.blob" >>/tmp/objects
        while IFS= read -r f; do
            if fsverity enable "$f" 2>/tmp/err; then
                verity_files=$((verity_files + 1))
            else
                verity_errors=$((verity_errors + 1))
                detail </tmp/err
            fi
        done </tmp/objects
    done
}

# The kernel's measure of each layer's blob against the fixture's digest (BLOB_DIGEST_<layer>):
# one line per mismatch, nothing when all agree.
blob_digest_mismatches() {
    for id in $LAYERS; do
        eval "want=\$BLOB_DIGEST_$id" # set by case.env, one per layer
        got=$(fsverity measure "$STORE/overlay/$id/composefs-data/composefs.blob" 2>&1 |
            cut -d' ' -f1)
        [ "$got" = "$want" ] || echo "layer $id: expected $want, measured $got;"
    done
}

# The tree under DIR, one "TYPE SHA256|EIO|ERR ./PATH" line per entry, as make-disk.sh writes it.
listing() {
    (cd "$1" && find . -mindepth 1 | sort | while IFS= read -r p; do
        if [ -L "$p" ]; then
            echo "l - $p"
        elif [ -d "$p" ]; then
            echo "d - $p"
        elif [ -f "$p" ]; then
            if out=$(sha256sum "$p" 2>&1); then
                echo "f ${out%% *} $p"
            else
                case $out in
                    *"Input/output error"* | *"I/O error"*) echo "f EIO $p" ;;
                    *) echo "f ERR $p" ;;
                esac
            fi
        else
            echo "o - $p"
        fi
    done)
}

# The expected listing with PATH unreadable (EIO).
expect_eio() {
    awk -v p="$1" '{ t = $1; s = $2; q = substr($0, length(t) + length(s) + 3)
                     if (q == p) s = "EIO"; print t, s, q }' "$expected"
}

# Asks for a mount of the image (and container $3, if given) at LEVEL on TARGET; output in
# /tmp/ctl.out, /tmp/ctl.err.
ctl_mount() {
    verity-mountctl ${CTL_ADDRESS:+--address "$CTL_ADDRESS"} mount "$IMAGE_NAME" ${3:+"$3"} \
        --target "$2" --verity "$1" --json >/tmp/ctl.out 2>/tmp/ctl.err
}

# The scalar value (number, bool or string) of KEY in the JSON in FILE, wherever it is nested
# (keys of the client's output are unique). One process: this runs in the timing loops.
json_value() {
    sed -n "s/.*\"$1\"[[:space:]]*:[[:space:]]*\"\{0,1\}\([^\",}]*\).*/\1/p" "$2"
}

# Mounts at enforce (with container CONTAINER if given) on $root_target, lists it into /tmp/got,
# runs AFTER (a command, may be "") while mounted, unmounts, and compares /tmp/got with WANT.
# Returns 1 with the reason in /tmp/why (and DETAIL lines on the console).
check_mount() {
    want=$1 container=$2 after=$3
    if ! ctl_mount enforce "$root_target" "$container"; then
        echo "mount refused: $(cat /tmp/ctl.err)" >/tmp/why
        return 1
    fi
    info=$(awk -v t="$root_target" '$5 == t' /proc/self/mountinfo)
    listing "$root_target" >/tmp/got
    after_rc=0
    [ -z "$after" ] || $after || after_rc=1
    umount "$root_target"
    [ $after_rc = 0 ] || return 1
    case $info in
        *" - overlay "*verity=require*) ;;
        *) echo "$root_target is not an overlay with verity=require: $info" >/tmp/why && return 1 ;;
    esac
    level=$(json_value verity /tmp/ctl.out)
    if [ "$level" != enforce ]; then
        echo "reply says verity=$level, expected enforce" >/tmp/why
        return 1
    fi
    if ! cmp -s "$want" /tmp/got; then
        echo "rootfs differs from the expected listing (DETAIL: diff expected got)" >/tmp/why
        diff "$want" /tmp/got | head -n 20 | detail
        dmesg | grep -iE 'overlay|verity|erofs' | tail -n 5 | detail
        return 1
    fi
}

mount_and_compare() { # NAME WANT
    if check_mount "$2" "" ""; then pass "$1"; else fail "$1" "$(cat /tmp/why)"; fi
}

# Replaces each object in OBJECTS (paths under $STORE/overlay): MODE "plain" = a same-content copy
# without fs-verity, "changed" = different bytes of the same size, with fs-verity.
swap_objects() {
    for o in $1; do
        f=$STORE/overlay/$o
        mv "$f" "$f.orig"
        case $2 in
            plain) cp "$f.orig" "$f" ;;
            changed)
                [ "$(head -c1 "$f.orig")" = X ] && c=Y || c=X
                { printf %s "$c"; tail -c +2 "$f.orig"; } >"$f"
                fsverity enable "$f"
                ;;
        esac
    done
}
restore_objects() {
    for o in $1; do mv -f "$STORE/overlay/$o.orig" "$STORE/overlay/$o"; done
}

# Mount must be refused with io.containers.VerityMount1.Error.ERROR.
expect_refusal() {
    name=$1 error=$2
    ctl_mount enforce /mnt/t
    rc=$?
    if [ $rc = 0 ]; then
        umount /mnt/t
        fail "$name" "mounted, expected $error"
    elif [ $rc = 1 ] && grep -q "io.containers.VerityMount1.Error.$error" /tmp/ctl.err; then
        pass "$name"
    else
        fail "$name" "expected exit 1 with $error, got exit $rc: $(cat /tmp/ctl.err)"
    fi
}

case_status() {
    if ! verity-mountctl status --json >/tmp/status 2>/tmp/err; then
        fail "status-features" "status failed: $(cat /tmp/err)"
        return
    fi
    # The facts of a 6.12 kernel: all but detached mounts as overlay layers (6.15).
    want="fs_verity=true overlay_verity=true overlay_lowerdir_plus=true erofs_file_backed=true"
    want="$want detached_layers=false"
    got=""
    for f in fs_verity overlay_verity overlay_lowerdir_plus erofs_file_backed detached_layers; do
        got="$got${got:+ }$f=$(json_value "$f" /tmp/status)"
    done
    echo "INFO: kernel $(uname -r) features: $got"
    if [ "$got" = "$want" ]; then
        pass "status-features"
    else
        fail "status-features" "expected $want, got $got"
        dmesg | grep -iE 'erofs|overlay|verity' | tail -n 10 | detail
    fi
}

case_tampered_object() { # NAME TARGET OBJECTS MODE
    swap_objects "$3" "$4"
    expect_eio "$2" >/tmp/want
    mount_and_compare "$1" /tmp/want
    restore_objects "$3"
}

case_tampered_blob() { # NAME ERROR MODE
    b=$STORE/overlay/$top_layer/composefs-data/composefs.blob
    mv "$b" "$b.orig"
    case $3 in
        plain) cp "$b.orig" "$b" ;;
        other)
            if [ "$bottom_layer" != "$top_layer" ]; then
                cp "$STORE/overlay/$bottom_layer/composefs-data/composefs.blob" "$b"
            else # one layer: any other verity file
                { cat "$b.orig"; head -c 4096 /dev/zero; } >"$b"
            fi
            fsverity enable "$b"
            ;;
    esac
    expect_refusal "$1" "$2"
    mv -f "$b.orig" "$b"
}

# Open fds and mounts of the daemon, to compare before and after many requests.
daemon_footprint() {
    echo "fds=$(ls "/proc/$daemon_pid/fd" | wc -l) mounts=$(wc -l <"/proc/$daemon_pid/mountinfo")"
}

# "p50=… mean=…" of the numbers in FILE, one a line.
stats() {
    sort -n "$1" | awk '{ v[NR] = $1; s += $1 }
                        END { printf "p50=%d mean=%d", v[int((NR + 1) / 2)], s / NR }'
}

# Times N mounts at LEVEL (daemon's elapsed_us and the client's wall time), prints a MEASURE line.
time_mounts() {
    level=$1 n=$2 i=0
    : >/tmp/elapsed
    : >/tmp/wall
    while [ $i -lt "$n" ]; do
        t0=$(date-ns +%s%N)
        if ! ctl_mount "$level" /mnt/t; then
            fail "timing-$level" "mount $i refused: $(cat /tmp/ctl.err)"
            return 1
        fi
        t1=$(date-ns +%s%N)
        umount /mnt/t
        got=$(json_value verity /tmp/ctl.out)
        [ "$got" = "$level" ] || { fail "timing-$level" "reply says verity=$got"; return 1; }
        json_value elapsed_us /tmp/ctl.out >>/tmp/elapsed
        echo $(((t1 - t0) / 1000)) >>/tmp/wall
        i=$((i + 1))
    done
    echo "MEASURE: Mount verity=$level n=$n:" \
        "daemon elapsed_us $(stats /tmp/elapsed); client wall_us $(stats /tmp/wall)"
    pass "timing-$level"
}

# With the container, its layer is the upper dir: a write lands in the store.
write_note() {
    echo "written in the VM" >"$root_target/etc/vm-note" 2>/tmp/why
}
case_container() { # NAME
    note=$STORE/overlay/$CONTAINER_LAYER/diff/etc/vm-note
    if ! check_mount "$expected" "$CONTAINER_ID" write_note; then
        fail "$1" "$(cat /tmp/why)"
    elif [ "$(cat "$note" 2>&1)" != "written in the VM" ]; then
        fail "$1" "the write is not in the container's layer: $note"
    else
        pass "$1"
    fi
}

# kill -9 while layers are attached below /run/verity-mountd (kernels before 6.15 stage them
# there for the moment the overlay is built): the namespace the daemon was started in must hold
# no more mounts than before, the caller must get an error, and the next start must serve.
# strace delivers SIGKILL on entry to the second move_mount: one layer attached, one not yet.
case_kill_while_staged() { # NAME
    if ! stop_daemon; then
        fail "$1" "verity-mountd did not release its bus name when stopped"
        return
    fi
    before=$(wc -l </proc/self/mountinfo)
    if ! start_daemon "$CONFIG"; then
        fail "$1" "verity-mountd did not take its bus name"
        return
    fi
    strace -f -p "$daemon_pid" -e trace=move_mount -o /dev/null \
        -e inject=move_mount:signal=SIGKILL:when=2 2>/tmp/strace.err &
    i=0
    while ! grep -q attached /tmp/strace.err && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
    ctl_mount enforce /mnt/t
    rc=$?
    [ $rc != 0 ] && umount /mnt/t 2>/dev/null
    i=0
    while alive "$daemon_pid" && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
    wait_for_name false
    after=$(wc -l </proc/self/mountinfo)
    if alive "$daemon_pid" || [ $rc != 3 ]; then
        fail "$1" "expected the daemon killed and the client unreachable (exit 3), got exit $rc:" \
            "$(cat /tmp/ctl.err /tmp/strace.err)"
    elif [ "$after" != "$before" ]; then
        fail "$1" "mounts in the daemon's namespace: $before before, $after after the kill"
        grep /run/verity-mountd /proc/self/mountinfo | detail
    elif ! start_daemon "$CONFIG" || ! check_mount "$expected" "" ""; then
        fail "$1" "the next start does not serve: $(cat /tmp/why 2>/dev/null)"
    else
        pass "$1"
    fi
}

# With max_blob_bytes 1, Verify and Mount at enforce refuse the first blob by its size, before
# any measure or mount: StorageCorrupt naming the bound.
case_blob_bound() { # NAME
    if ! stop_daemon || ! start_daemon /vmdisk/vm/verity-mountd-small-blob.json; then
        fail "$1" "verity-mountd did not restart with max_blob_bytes 1"
        return
    fi
    ctl_mount enforce /mnt/t
    mount_rc=$?
    [ $mount_rc != 0 ] || umount /mnt/t
    verity-mountctl verify "$IMAGE_NAME" --verity enforce >/tmp/verify.out 2>/tmp/verify.err
    verify_rc=$?
    want='^io.containers.VerityMount1.Error.StorageCorrupt: .*expected at most 1 bytes (max_blob_bytes)'
    if [ $mount_rc = 1 ] && grep -q "$want" /tmp/ctl.err &&
        [ $verify_rc = 1 ] && grep -q "$want" /tmp/verify.err; then
        pass "$1"
    else
        fail "$1" "mount: exit $mount_rc: $(cat /tmp/ctl.err); verify: exit $verify_rc: $(cat /tmp/verify.err)"
    fi
}

run_cases() {
    case_status
    mount_and_compare "enforce-reads-all" "$expected"
    case_tampered_object "object-without-verity-eio" "$TARGET0" "$TARGET0_OBJECTS" plain
    case_tampered_object "object-changed-eio" "$TARGET1" "$TARGET1_OBJECTS" changed
    case_tampered_blob "blob-without-verity-refused" VerityMissing plain
    case_tampered_blob "blob-other-digest-refused" VerityMismatch other
    mount_and_compare "restored-store-mounts" "$expected"
    case_container "container-read-write"
    case_kill_while_staged "kill-while-staged-leaves-no-mount"
    case_blob_bound "blob-over-max-blob-bytes-refused"

    # Timings: a daemon whose floor is digest, so both levels can be asked for.
    if ! stop_daemon; then
        fail "timing" "verity-mountd did not release its bus name when stopped"
        return
    fi
    if ! start_daemon /vmdisk/vm/verity-mountd-digest.json; then
        fail "timing" "verity-mountd (digest floor) did not take its bus name"
        return
    fi
    before=$(daemon_footprint)
    time_mounts enforce 20
    time_mounts digest 20
    # The daemon drops its copy of each rootfs fd just after the reply: allow it a moment.
    i=0
    while [ "$(daemon_footprint)" != "$before" ] && [ $i -lt 40 ]; do sleep 0.05; i=$((i + 1)); done
    after=$(daemon_footprint)
    if [ "$after" = "$before" ]; then
        pass "no-leaks-after-40-mounts"
    else
        fail "no-leaks-after-40-mounts" "before: $before, after: $after"
    fi
    bench_enforce
}

# With the benchmark's store on the disk (tests/bench/run.sh --vm): Mount() of its 10-layer image
# at enforce next to the raw kernel work on the same blobs, taking turns; a MEASURE line.
bench_enforce() {
    [ -n "${BENCH_IMAGE:-}" ] && command -v bench_mount >/dev/null || return 0
    if ! stop_daemon || ! start_daemon "$BENCH_CONFIG"; then
        fail "bench-enforce" "verity-mountd did not restart with $BENCH_CONFIG"
        return
    fi
    if bench_mount vm "$BENCH_IMAGE" --iterations 20 >/tmp/bench.out 2>&1; then
        grep '^MEASURE:' /tmp/bench.out
        pass "bench-enforce"
    else
        fail "bench-enforce" "$(tail -n 3 /tmp/bench.out)"
    fi
}
