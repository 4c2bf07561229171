# shellcheck shell=sh disable=SC2154 # the variables of checks.sh
# Check 9 of the booted system, sourced by checks.sh: podman run of the verified image through the
# real system bus, when the payload carries the patched podman (contrib/podman/; run.sh).

podman_available() { [ -x "$payload/podman/podman" ]; }
podman_skip_reason() { cat "$payload/podman.skip"; }

# The root mount of the container, as its own mountinfo says: the daemon's overlay has the
# source "verity-mountd", containers/storage's "overlay".
root_mount='grep " / / " /proc/self/mountinfo'

# podman run of the image with ARGS... as the command; output in /tmp/podman.out and .err.
podman_run() {
    podman run --rm --network none "$IMAGE_NAME" "$@" >/tmp/podman.out 2>/tmp/podman.err
}

# 9. The administrator's containers.conf asks for verified rootfs; podman run asks verity-mountd
# on the system bus (activating it), runs on its overlay, and is refused after a tampering.
check_podman() {
    install -m 0755 "$payload/podman/podman" /usr/local/bin/podman
    mkdir -p /etc/containers/containers.conf.d
    printf '[containers]\nrootfs_signature = "require"\nrootfs_verity = "enforce"\n' \
        >/etc/containers/containers.conf.d/50-verity.conf
    # Not use_composefs: Debian 12 has no mkcomposefs, and the daemon, not containers/storage,
    # mounts the composefs layers here.
    printf '[storage]\ndriver = "overlay"\n' >/etc/containers/storage.conf
    pass "$(podman --version) in /usr/local/bin; containers.conf.d: rootfs_signature require," \
        "rootfs_verity enforce"
    systemctl stop "$service" # so that podman's call activates it
    before=$(unit_prop "$service" ActiveState)
    file=/${TARGET0#./}
    want=$(awk -v p="$TARGET0" '$3 == p { print $2 }' "$expected")
    if podman_run sh -c "$root_mount; busybox sha256sum $file"; then
        line=$(grep ' / / ' /tmp/podman.out)
        got=$(sed -n "s| *$file\$||p" /tmp/podman.out)
        case $line in
            *" - overlay verity-mountd "*verity=require*) ;;
            *) fail "root mount" "expected the daemon's overlay with verity=require, found '$line'" ;;
        esac
        expect_found "content" "$want" "$got" \
            "podman run: / is verity-mountd's overlay with verity=require; $file reads right"
    else
        fail "podman run" "exit $?: $(tail -n 5 /tmp/podman.err)"
        journal_tail
        return
    fi
    # The unit was inactive before, and served podman's Mount: the system bus activated it.
    found=$(journalctl -u verity-mountd VMD_METHOD=Mount VMD_RESULT=ok -o json --no-pager |
        jq -r 'select(.VMD_CONTAINER != "") | "\(.VMD_CALLER_UID) \(.VMD_IDENTITY)"' | tail -n1)
    expect_found "journal" "inactive 0 $IMAGE_NAME" "$before $found" \
        "podman's call activated $service, whose journal has the Mount of podman's container" \
        "(uid 0, identity $IMAGE_NAME)"

    # The top layer's blob replaced by the other layer's (with fs-verity): refused, exit 125.
    b=$STORE/overlay/$top_layer/composefs-data/composefs.blob
    mv "$b" "$b.orig"
    cp "$STORE/overlay/$bottom_layer/composefs-data/composefs.blob" "$b"
    fsverity enable "$b"
    podman_run true
    rc=$?
    mv -f "$b.orig" "$b"
    if [ "$rc" = 125 ] && grep -q "io.containers.VerityMount1.Error.VerityMismatch" /tmp/podman.err
    then
        pass "tampered blob: podman run exits 125: $(head -c 200 /tmp/podman.err)"
    else
        fail "tampered blob" "expected exit 125 with VerityMismatch, found exit $rc:" \
            "$(tail -n 3 /tmp/podman.err)"
    fi
    left=$(grep -c ' - overlay verity-mountd ' /proc/self/mountinfo)
    expect_found "leftovers" 0 "$left" "no verified rootfs left mounted after the containers"
    if podman_run true; then
        pass "the restored store runs again"
    else
        fail "restored store" "exit $?: $(tail -n 3 /tmp/podman.err)"
    fi
}
