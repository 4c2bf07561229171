# shellcheck shell=sh disable=SC2154 # the variables of checks.sh
# Check 9 of the booted system, sourced by checks.sh: podman run of the verified image through the
# real system bus, when the payload carries the patched podman (contrib/podman/).

podman_available() { [ -x "$payload/podman/podman" ]; }
podman_skip_reason() {
    echo "the payload has no podman: run.sh found no patched podman build (contrib/podman/)"
}
check_podman() {
    fail "podman run" "not written yet"
}
