#!/bin/bash
# Runs every libFuzzer target for a fixed number of inputs over a scratch copy of its seed
# corpus (tests/fuzz/corpus/<name>/, never modified) and fails if any target crashes.
#
#   run-fuzzers.sh BUILD_DIR [RUNS] [TARGET...]
#
# BUILD_DIR: a build configured with -DVMD_FUZZ=ON (clang); RUNS: inputs per target (default
# 20000); TARGETs: names such as "policy" (default: every corpus/<name>/ directory).
# Crash inputs are kept in BUILD_DIR/fuzz-artifacts/<name>/; each target's log in the
# scratch directory is printed when it fails. The mutation seed is fixed (FUZZ_SEED, default
# 1), though address-dependent comparisons still vary a run. -max_len and ASAN_OPTIONS: settings.sh.
# Extra libFuzzer flags: FUZZ_FLAGS.
set -euo pipefail

if [[ $# -lt 1 || ! -d $1 ]]; then
    echo "usage: $0 BUILD_DIR [RUNS] [TARGET...]" >&2
    exit 2
fi
build=$(cd "$1" && pwd)
runs=${2:-20000}
shift $(($# >= 2 ? 2 : 1))
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR
source "$here/settings.sh"

select_targets "$@"

read -r -a extra_flags <<<"${FUZZ_FLAGS:-}"
scratch=$(mktemp -d "${TMPDIR:-/tmp}/vmd-fuzz.XXXXXX")
trap 'rm -rf "$scratch"' EXIT

failed=()
for name in "${targets[@]}"; do
    binary=$build/tests/fuzz/fuzz_$name
    if [[ ! -x $binary ]]; then
        echo "FAIL $name: no executable $binary (build the 'fuzzers' target)" >&2
        failed+=("$name")
        continue
    fi
    corpus=$scratch/$name/corpus
    artifacts=$build/fuzz-artifacts/$name
    mkdir -p "$corpus" "$artifacts"
    cp -r "$here/corpus/$name/." "$corpus/"
    rm -f "$corpus/README.md"
    log=$scratch/$name/log
    # -timeout: a hang is a finding; -rss_limit_mb: so is unbounded memory on small input.
    if "$binary" -runs="$runs" -seed="${FUZZ_SEED:-1}" -timeout=10 -rss_limit_mb=2048 \
        -max_len="$(fuzz_max_len "$name")" -print_final_stats=1 -artifact_prefix="$artifacts/" \
        "${extra_flags[@]}" "$corpus" >"$log" 2>&1; then
        stats=$(grep -E '^#[0-9]+.*(DONE|INITED)' "$log" | tail -1 || true)
        echo "ok   $name: ${stats:-done}"
    else
        echo "FAIL $name (exit $?): crash input(s) in $artifacts/" >&2
        tail -n 60 "$log" >&2
        failed+=("$name")
    fi
done

if [[ ${#failed[@]} -gt 0 ]]; then
    echo "fuzz smoke test failed for: ${failed[*]}" >&2
    exit 1
fi
echo "all ${#targets[@]} fuzz targets ran $runs inputs without a crash"
