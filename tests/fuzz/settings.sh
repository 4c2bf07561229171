# shellcheck shell=bash
# Sourced by the scripts that run the fuzz targets (run-fuzzers.sh, long-run.sh,
# minimise-corpus.sh).

# ASan's quarantine of freed memory: 64 MiB (FuzzBench's setting, after ClusterFuzz) unless
# ASAN_OPTIONS says otherwise. The default 256 MiB makes a run walk a quarter GiB of fresh pages,
# and the page faults doubled the CPU time per input (fuzz_sigstore, 16000 runs: 6.8 s against
# 3.8 s); 64 MiB still holds what hundreds to thousands of inputs free, so a use after free
# within an input, or of state kept from a recent one, is still caught.
export ASAN_OPTIONS=${ASAN_OPTIONS:-quarantine_size_mb=64}

# The largest input (-max_len) of each fuzz target, about twice its largest seed and at least
# 4 KiB. Each parser is linear in its input, so longer inputs reach no further code, while their
# cost (simdjson's tape, base64 and armor buffers, ASan's poisoning of them) grows with every
# byte; the size bounds of the code under test (e.g. 1 MiB messages) are unit-tested instead.
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
    [simple_signing]=4096
    [signature]=16384
    [sigstore]=16384
)

# The -max_len of target NAME (65536 for a target not listed above).
fuzz_max_len() {
    echo "${FUZZ_MAX_LEN[$1]:-65536}"
}

fuzz_source_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# Sets the array `targets` to the NAMEs given, or to every target that has a corpus/<name>/.
select_targets() {
    targets=("$@")
    if [[ ${#targets[@]} -eq 0 ]]; then
        for dir in "$fuzz_source_dir"/corpus/*/; do
            targets+=("$(basename "$dir")")
        done
    fi
}
