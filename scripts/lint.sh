#!/usr/bin/env bash
# clang-format must agree with every C++ file (a hard gate). clang-tidy runs on the daemon and
# client and prints what it finds; it becomes a hard gate (VMD_TIDY_STRICT=1) once its first
# full report has been worked through.
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(git ls-files '*.cpp' '*.hpp')
clang-format --dry-run --Werror "${files[@]}"
echo "lint: clang-format clean on ${#files[@]} files"
build=${LINT_BUILD_DIR:-build-lint}
cmake -S . -B "$build" -DCMAKE_EXPORT_COMPILE_COMMANDS=ON -DVMD_TESTS=OFF -DVMD_BENCH=OFF >/dev/null
mapfile -t sources < <(git ls-files 'daemon/*.cpp' 'client/*.cpp')
# Generated proxy headers must exist before clang-tidy reads the client.
cmake --build "$build" -j"$(nproc)" --target verity-mountctl >/dev/null
report=$(mktemp)
trap 'rm -f "$report"' EXIT
timeout "${VMD_TIDY_SECONDS:-600}" clang-tidy -p "$build" --quiet "${sources[@]}" >"$report" 2>&1 || true
if grep -qE "(warning|error):" "$report"; then
  grep -v "warnings generated" "$report" >&2
  echo "lint: clang-tidy found problems" >&2
  if [ "${VMD_TIDY_STRICT:-0}" = 1 ]; then exit 1; fi
else
  echo "lint: clang-tidy clean on ${#sources[@]} files"
fi
