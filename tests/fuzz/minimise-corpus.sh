#!/bin/bash
# Rewrites the found part of each seed corpus (corpus/<name>/, the files named by a 40-hex
# SHA-1) as the smallest set that, with the named seeds, covers every feature (libFuzzer
# -merge=1) of the named seeds, the found inputs already there and the inputs of RUN_DIR/<name>/
# corpus/ (long-run.sh's output), if given. Named seeds (gen-*, ci-*, regress-*, hand-written)
# are always kept: their names say where they come from (corpus/README.md).
#
#   minimise-corpus.sh BUILD_DIR [RUN_DIR] [TARGET...]
set -euo pipefail

if [[ $# -lt 1 || ! -d $1 ]]; then
    echo "usage: $0 BUILD_DIR [RUN_DIR] [TARGET...]" >&2
    exit 2
fi
build=$(cd "$1" && pwd)
runs_dir=
if [[ $# -ge 2 ]]; then
    runs_dir=$(cd "$2" && pwd)
    shift
fi
shift
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR
source "$here/settings.sh"

select_targets "$@"
scratch=$(mktemp -d "${TMPDIR:-/tmp}/vmd-fuzz-merge.XXXXXX")
trap 'rm -rf "$scratch"' EXIT

is_found() { [[ $(basename "$1") =~ ^[0-9a-f]{40}$ ]]; }

for name in "${targets[@]}"; do
    corpus=$here/corpus/$name
    merged=$scratch/$name/merged
    candidates=$scratch/$name/candidates
    mkdir -p "$merged" "$candidates"
    for file in "$corpus"/*; do
        if is_found "$file"; then
            cp "$file" "$candidates/"
        elif [[ $(basename "$file") != README.md ]]; then
            cp "$file" "$merged/"
        fi
    done
    named=$(find "$merged" -type f | wc -l)
    inputs=("$candidates")
    if [[ -n $runs_dir && -d $runs_dir/$name/corpus ]]; then
        inputs+=("$runs_dir/$name/corpus")
    fi
    # Inputs of the first directory count as already kept; merge adds what else adds features.
    nice -n 19 "$build/tests/fuzz/fuzz_$name" -merge=1 -max_len="$(fuzz_max_len "$name")" \
        -timeout=10 -rss_limit_mb=2048 "$merged" "${inputs[@]}" >"$scratch/$name/log" 2>&1 || {
        echo "FAIL $name: merge failed" >&2
        tail -n 30 "$scratch/$name/log" >&2
        exit 1
    }
    for file in "$corpus"/*; do
        if is_found "$file"; then
            rm "$file"
        fi
    done
    found=0
    for file in "$merged"/*; do
        if is_found "$file"; then
            cp "$file" "$corpus/"
            found=$((found + 1))
        fi
    done
    echo "$name: $named named seeds + $found found inputs ($(du -sk "$corpus" | cut -f1) KiB)"
done
