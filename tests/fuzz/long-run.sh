#!/bin/bash
# Long libFuzzer runs: each target to FUZZ_RUNS inputs (default 10^7) or its share of the time
# left before FUZZ_DEADLINE, whichever comes first, at nice 19, FUZZ_JOBS targets at a time
# (default 1: other work shares the machine). Then a table of what each run did.
#
#   long-run.sh BUILD_DIR OUT_DIR [TARGET...]
#
# BUILD_DIR: a build configured with -DVMD_FUZZ=ON (scripts/fuzz-smoke.sh makes build-fuzz/);
# OUT_DIR/<name>/ gets the growing corpus (seeded from corpus/<name>/ on the first run, kept
# for the next), crash-*/timeout-*/oom-*/leak-* inputs and the log; OUT_DIR/summary.tsv a
# line per run. FUZZ_DEADLINE: anything `date -d` reads ("08:20", "+90 min"); without it each
# target runs until FUZZ_RUNS. -max_len and ASAN_OPTIONS: settings.sh. Extra flags: FUZZ_FLAGS.
# minimise-corpus.sh then merges what the runs found into corpus/.
#
# nice only weighs processes within one autogroup (kernel.sched_autogroup_enabled=1, as here):
# each session gets an equal share of the CPU first, so fuzzers at nice 19 in a session of their
# own still take half of it from everything else. Started as a session leader (`setsid
# long-run.sh …`), the script puts its session's autogroup at nice 19 too.
set -euo pipefail
if [[ $(ps -o sid= -p $$) -eq $$ && -w /proc/self/autogroup ]]; then
    echo 19 >/proc/self/autogroup
fi

if [[ $# -lt 2 || ! -d $1 ]]; then
    echo "usage: $0 BUILD_DIR OUT_DIR [TARGET...]" >&2
    exit 2
fi
build=$(cd "$1" && pwd)
mkdir -p "$2"
out=$(cd "$2" && pwd)
shift 2
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR
source "$here/settings.sh"

select_targets "$@"
runs=${FUZZ_RUNS:-10000000}
jobs=${FUZZ_JOBS:-1}
deadline=
if [[ -n ${FUZZ_DEADLINE:-} ]]; then
    deadline=$(date -d "$FUZZ_DEADLINE" +%s)
fi
read -r -a extra_flags <<<"${FUZZ_FLAGS:-}"

# libFuzzer's final statistics and progress lines, as one summary line of the run of $1.
summarise() {
    local name=$1 dir=$out/$1 seconds=$2 status=$3
    local log=$dir/log executed rate inited final findings
    executed=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1 || true)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1 || true)
    inited=$(grep -oE '^#[0-9]+[[:space:]]+INITED cov: [0-9]+ ft: [0-9]+' "$log" | tail -1 |
        sed -E 's/.*cov: ([0-9]+) ft: ([0-9]+)/\1 \2/' || true)
    final=$(grep -oE '^#[0-9]+[[:space:]]+[A-Z]+ +cov: [0-9]+ ft: [0-9]+ corp: [0-9]+' "$log" |
        tail -1 |
        sed -E 's/.*cov: ([0-9]+) ft: ([0-9]+) corp: ([0-9]+)/\1 \2 \3/' || true)
    findings=$(find "$dir/artifacts" -maxdepth 1 -type f \
        \( -name 'crash-*' -o -name 'timeout-*' -o -name 'oom-*' -o -name 'leak-*' \) | wc -l)
    read -r cov0 ft0 <<<"${inited:-? ?}"
    read -r cov1 ft1 corp <<<"${final:-? ? ?}"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$(date -u +%FT%TZ)" "$name" \
        "${executed:-?}" "${rate:-?}" "$seconds" "$cov0" "$cov1" "$ft0" "$ft1" "$corp" \
        "$findings" "$status" >>"$out/summary.tsv"
}

run_one() {
    local name=$1 share=$2 dir=$out/$1 binary=$build/tests/fuzz/fuzz_$1
    mkdir -p "$dir/corpus" "$dir/artifacts"
    if [[ -z $(ls -A "$dir/corpus") ]]; then
        cp -r "$here/corpus/$name/." "$dir/corpus/"
        rm -f "$dir/corpus/README.md"
    fi
    local time_flags=()
    if [[ -n $share ]]; then
        time_flags=(-max_total_time="$share")
    fi
    local start status=0
    start=$(date +%s)
    # -timeout: a hang is a finding; -rss_limit_mb: so is unbounded memory on small input.
    nice -n 19 "$binary" -runs="$runs" "${time_flags[@]}" -timeout=10 -rss_limit_mb=2048 \
        -max_len="$(fuzz_max_len "$name")" -print_final_stats=1 -artifact_prefix="$dir/artifacts/" \
        "${extra_flags[@]}" "$dir/corpus" >"$dir/log" 2>&1 || status=$?
    summarise "$name" $(($(date +%s) - start)) "$status"
}

[[ -f $out/summary.tsv ]] ||
    printf 'when\ttarget\tinputs\texec/s\tseconds\tcov0\tcov1\tft0\tft1\tcorpus\tfindings\texit\n' \
        >"$out/summary.tsv"
left=${#targets[@]}
for name in "${targets[@]}"; do
    while [[ $(jobs -rp | wc -l) -ge $jobs ]]; do
        wait -n || true
    done
    share=
    if [[ -n $deadline ]]; then
        # This target's part of the time left, shared with the targets still to start.
        share=$(((deadline - $(date +%s)) * jobs / left))
        if [[ $share -le 0 ]]; then
            echo "deadline passed: $name and $((left - 1)) more not run" >&2
            break
        fi
    fi
    echo "$(date -u +%TZ) start $name${share:+ for at most ${share}s}"
    run_one "$name" "$share" &
    left=$((left - 1))
done
wait
column -t -s $'\t' "$out/summary.tsv"
