# shellcheck shell=bash
# Sourced by run-fuzzers.sh and long-run.sh: the largest input (-max_len) of each fuzz target,
# about twice its largest seed and at least 4 KiB. Each parser is linear in its input, so longer
# inputs reach no further code, while their cost (simdjson's tape, base64 and armor buffers,
# ASan's poisoning of them) grows with every byte; a bound on the input the code under test has
# (e.g. 1 MiB messages) is reached by unit tests, not by mutation.
declare -A FUZZ_MAX_LEN=(
    [config]=4096
    [manifest]=8192
    [openpgp_armor]=8192
    [openpgp_decompress]=4096
    [openpgp_keyring]=16384
    [openpgp_packets]=4096
    [openpgp_verify]=4096
    [payload]=4096
    [policy]=16384
    [records]=8192
    [reference]=4096
    [rekor]=8192
    [signature]=16384
    [sigstore]=16384
)

# The -max_len of target NAME (65536 for a target not listed above).
fuzz_max_len() {
    echo "${FUZZ_MAX_LEN[$1]:-65536}"
}
