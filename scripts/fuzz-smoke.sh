#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan + UBSan) into ${FUZZ_BUILD_DIR:-build-fuzz} and runs
# each for a fixed number of inputs (${FUZZ_RUNS:-20000}) over its seed corpus. CI runs this;
# long runs are described in tests/fuzz/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${FUZZ_BUILD_DIR:-build-fuzz}
CC=clang-14 CXX=clang++-14 cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DVMD_FUZZ=ON -DVMD_TESTS=OFF -DVMD_BENCH=OFF >/dev/null
cmake --build "$build" -j"$(nproc)" --target fuzzers
tests/fuzz/run-fuzzers.sh "$build" "${FUZZ_RUNS:-20000}"
