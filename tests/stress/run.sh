#!/usr/bin/env bash
# The stress tests of issue 10 — load, kill -9 during Mount(), races on the store — at full size,
# printing their figures: tests/stress/run.sh BUILD_DIR [GTEST_FILTER]. Run as root. CTest runs
# the short variant of the same tests (label "stress"); VMD_STRESS_SEED=N replays a run's choices.
set -euo pipefail
build=${1:?usage: tests/stress/run.sh BUILD_DIR [GTEST_FILTER]}
filter=${2:-*}
if [ "$(id -u)" != 0 ]; then
  echo "run.sh: run as root (the stress tests mount, and start buses and daemons)" >&2
  exit 2
fi
echo "stress: $(uptime)"
VMD_STRESS=full exec "$build/tests/stress/stress_tests" --gtest_filter="$filter"
