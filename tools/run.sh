#!/usr/bin/env bash
# The main job: set up a fresh Debian 12 machine, build seedlog, and sweep seeds of the default
# scenario with a live progress display and a summary. Extra arguments go to `seedlog sweep`
# (for example: tools/run.sh --seeds 1..10000 -j 8).
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh
cmake --preset default >/dev/null
cmake --build --preset default --target seedlog
exec build/default/seedlog sweep --scenario swarm --seeds 1..1000 --determinism "$@"
