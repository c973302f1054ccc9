#!/usr/bin/env bash
# The whole test suite, as CI runs it: set-up, the determinism lint, unit and property tests, the
# ASan+UBSan build of the tests, the fuzz smoke runs (clang), and a bounded seed sweep of every
# scenario with the determinism re-run on every seed. Stops at the first failing stage.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=${SEEDLOG_JOBS:-$(nproc)}
stage() { printf '\n==== %s ====\n' "$*"; }

stage "set-up"
bash tools/setup.sh

stage "determinism lint"
bash tools/determinism_lint.sh

stage "build and test (RelWithDebInfo, assertions on)"
cmake --preset default >/dev/null
cmake --build --preset default -j "$jobs"
ctest --preset default -j "$jobs"

stage "build and test under ASan + UBSan"
cmake --preset asan >/dev/null
cmake --build --preset asan -j "$jobs"
ASAN_OPTIONS=detect_leaks=1 ctest --preset asan -j "$jobs" -LE "sweep|property"

stage "fuzz smoke runs (clang, libFuzzer)"
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz -j "$jobs" --target fuzz_all
SEEDLOG_FUZZ_SECONDS=${SEEDLOG_FUZZ_SECONDS:-30} ctest --test-dir build/fuzz -L fuzz -j "$jobs" --output-on-failure

stage "seed sweeps with the determinism re-run"
# Every bundled scenario that must pass, each seed run twice and its trace hashes compared.
# echo-fifo-corrupt is expected to fail (a unit test covers it); heavy is a benchmark (seedlog bench).
sweep() { build/default/seedlog sweep --scenario "$1" --seeds "$2" -j "$jobs" --determinism; }
for scenario in echo-fifo controller-failover cluster-swarm leader-failover; do
  sweep "$scenario" "${SEEDLOG_SWEEP_SEEDS:-1..300}"
done
# disk-faults: brokers halt on failing fsyncs and their supervisor restarts them (docs/scenarios.md).
for scenario in swarm produce-consume network-partition power-loss power-loss-torn rolling-restart group-churn \
                consumer-pause coordinator-failover clock-skew disk-faults; do
  sweep "$scenario" "${SEEDLOG_STREAM_SWEEP_SEEDS:-1..100}"
done
# The bench scenario under the swarm nemesis (seeds 86, 100, 198, 239, 344, 2236 found bugs: docs/scenarios.md).
sweep ci-standard "${SEEDLOG_STREAM_SWEEP_SEEDS:-1..100}"

stage "all stages passed"
