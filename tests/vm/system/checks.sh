#!/bin/sh
# The checks of the booted system (issue 11), run by vmd-vm-checks.service (make-rootfs.sh) once
# the system bus is up, as root, in the host's namespaces, with the payload disk on /vmdisk:
# package/ (the .deb), fixture/ (store, policy, key), vm/ (case.env, expected.txt), checks/.
#
# Its output is the second serial port, read by run.sh: one "RESULT: PASS|FAIL|SKIP N name (T s)"
# line per check, with the first failed step after a FAIL, "STEP:" lines for what each check did,
# "DETAIL:" lines on failures, "MEASURE:"/"INFO:" lines, and "N passed, M failed" at the end.
# The checks run in order and build on each other (install, store, the bus, the socket, …).
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export LC_ALL=C

payload=/vmdisk
# shellcheck source=/dev/null # written by make-fixture.sh
. "$payload/vm/case.env"
ROOT_TARGET=/mnt # where cases.sh's check_mount attaches the rootfs
# shellcheck source=../cases.sh
. "$payload/checks/cases.sh"

bus_name=io.containers.VerityMount1
object=/io/containers/VerityMount1
service=verity-mountd.service
socket_unit=verity-mountd.socket
socket_path=/run/verity-mountd/io.socket
config=/etc/containers/verity-mountd.json
idle_exit_seconds=10
test_user=vmuser
steps=/run/vmd-checks/steps
mkdir -p /run/vmd-checks /mnt/t /mnt/k
: >/run/vmd-checks/results

now_ms() { date +%s%3N; }
seconds() { # MS: "S.mmm"
    printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000))
}

# Steps of the running check: pass/fail (also called by cases.sh) record one each, with the time
# since the previous step.
step_time() { # sets step_took
    t=$(now_ms)
    step_took=$(seconds $((t - step_start)))
    step_start=$t
}
pass() { # NAME...
    step_time
    echo "STEP: PASS $* (+$step_took s)"
    echo "PASS $*" >>"$steps"
}
fail() { # NAME WHY...
    step_time
    step=$1
    shift
    echo "STEP: FAIL $step (+$step_took s): $*"
    echo "FAIL $step: $*" >>"$steps"
}
detail() { sed 's/^/DETAIL: /'; }
info() { echo "INFO: $*"; }

# run_check N NAME FUNCTION: runs FUNCTION in a subshell (a shell error there ends the check, not
# the run), then prints the check's RESULT line from its steps.
run_check() {
    : >"$steps"
    t0=$(now_ms)
    step_start=$t0
    ($3)
    rc=$?
    took=$(seconds $(($(now_ms) - t0)))
    [ "$rc" = 0 ] || echo "FAIL $3: ended with exit status $rc" >>"$steps"
    first_failure=$(grep -m1 '^FAIL' "$steps")
    if [ -n "$first_failure" ]; then
        line="RESULT: FAIL $1 $2 ($took s): ${first_failure#FAIL }"
    elif grep -q '^PASS' "$steps"; then
        line="RESULT: PASS $1 $2 ($took s)"
    else
        line="RESULT: FAIL $1 $2 ($took s): no step ran"
    fi
    echo "$line"
    echo "$line" >>/run/vmd-checks/results
    read -r up _ </proc/uptime
    echo "UPTIME: $up s"
}
# A step: passes as TEXT... when FOUND is WANT, else fails as NAME saying both.
expect_found() { # NAME WANT FOUND TEXT...
    name=$1 want=$2 found=$3
    shift 3
    if [ "$found" = "$want" ]; then
        pass "$@"
    else
        fail "$name" "expected '$want', found '$found'"
    fi
}
skip_check() { # N NAME REASON
    echo "RESULT: SKIP $1 $2: $3"
}

# --- helpers shared by the checks ---

unit_prop() { systemctl show -p "$2" --value "$1"; } # UNIT PROPERTY
# Whether the bus name has an owner: "true" or "false".
name_owned() {
    busctl call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus NameHasOwner s \
        "$bus_name" | sed -n 's/^b //p'
}
# GetStatus on the system bus as root, exactly as an administrator would type it, as JSON.
bus_get_status() {
    busctl --json=short call "$bus_name" "$object" "$bus_name" GetStatus
}
# Polls (every 0.2 s, at most TRIES times) until COMMAND... succeeds.
wait_until() {
    tries=$1
    shift
    while ! "$@"; do
        tries=$((tries - 1))
        [ "$tries" -gt 0 ] || return 1
        sleep 0.2
    done
}
unit_in_state() { [ "$(unit_prop "$1" ActiveState)" = "$2" ]; } # UNIT STATE
# A request held in progress: a write lock on the store's images.lock, taken with fcntl() as
# containers/storage takes it (podman holds it so while it writes images.json), makes the daemon's
# next request wait in its read lock. hold_store_lock returns once the lock is held;
# release_store_lock lets the waiting request go on. The holder runs until fd 7 (a FIFO) closes:
# start the waiting request with 7>&-, or it keeps the holder, and so itself, waiting.
hold_store_lock() {
    lock_file=$STORE/overlay-images/images.lock
    lock_inode=$(stat -c %i "$lock_file")
    rm -f /run/vmd-checks/lock.in /run/vmd-checks/lock.out
    mkfifo /run/vmd-checks/lock.in /run/vmd-checks/lock.out
    # struct flock on x86_64: l_type, l_whence, 4 bytes padding, l_start, l_len, l_pid, padding.
    # shellcheck disable=SC2016 # perl's variables
    perl -e 'use Fcntl; open(my $f, "+<", $ARGV[0]) or die "$ARGV[0]: $!\n";
        fcntl($f, F_SETLKW, pack("s s x4 q q l x4", F_WRLCK, SEEK_SET, 0, 0, 0)) or die "$!\n";
        print "locked\n"; close STDOUT; my $wait = <STDIN>;' "$lock_file" \
        </run/vmd-checks/lock.in >/run/vmd-checks/lock.out &
    lock_holder=$!
    exec 7>/run/vmd-checks/lock.in
    read -r word </run/vmd-checks/lock.out
    [ "$word" = locked ]
}
release_store_lock() {
    exec 7>&-
    wait "$lock_holder"
}
# Whether a read lock (the daemon's open-file-description lock) waits on images.lock.
daemon_waits_for_lock() {
    grep -qE "^[0-9]+: -> OFDLCK +ADVISORY +READ +-?[0-9]+ [0-9a-f]+:[0-9a-f]+:$lock_inode " \
        /proc/locks
}

as_user() { setpriv --reuid="$test_user" --regid="$test_user" --init-groups -- "$@"; }
journal_tail() { journalctl -u "$service" -n 15 --no-pager -o cat | detail; }

# shellcheck source=checks-package.sh
. "$payload/checks/checks-package.sh"
# shellcheck source=checks-service.sh
. "$payload/checks/checks-service.sh"
# shellcheck source=checks-sandbox.sh
. "$payload/checks/checks-sandbox.sh"
# shellcheck source=checks-podman.sh
. "$payload/checks/checks-podman.sh"

read -r up _ </proc/uptime
echo "MEASURE: boot: the checks start at guest uptime $up s (kernel, initramfs, systemd to the bus)"
info "kernel $(uname -r); $(systemctl --version | head -n1);" \
    "$(. /etc/os-release && echo "$PRETTY_NAME")"
# The checks to run (run.sh's VMD_VM_CHECKS, for work on one of them): all by default. 1 and 2
# make the system the others use.
only=$(cat "$payload/checks/only" 2>/dev/null)
selected() { [ -z "$only" ] || case " $only " in *" $1 "*) true ;; *) false ;; esac; }
check() { # N NAME FUNCTION
    if selected "$1"; then run_check "$@"; else skip_check "$1" "$2" "not in VMD_VM_CHECKS"; fi
}
start=$(now_ms)
check 1 install-inactive check_install
check 2 signed-store check_store
check 3 bus-activation check_bus
check 4 socket-activation check_socket
check 5 non-root-refused check_non_root
check 6 journal-refusals check_journal
check 7 idle-exit-and-kill check_lifecycle
check 8 sandbox check_sandbox
if ! podman_available; then
    skip_check 9 podman-run "$(podman_skip_reason)"
else
    check 9 podman-run check_podman
fi
echo "MEASURE: checks took $(seconds $(($(now_ms) - start))) s"
n_pass=$(grep -c '^RESULT: PASS' /run/vmd-checks/results)
n_fail=$(grep -c '^RESULT: FAIL' /run/vmd-checks/results)
echo "$n_pass passed, $n_fail failed"
