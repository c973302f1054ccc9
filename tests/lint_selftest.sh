#!/usr/bin/env bash
# The lint must catch every planted violation in tests/lint_fixtures and nothing else there.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=$(bash "$here/../tools/determinism_lint.sh" "$here/lint_fixtures")
rc=$?
if [ $rc -ne 1 ]; then
  echo "lint self-test: expected exit 1 on planted violations, got $rc"; echo "$out"; exit 1
fi
expected=$(grep -n '// <- planted$' "$here/lint_fixtures/sim/planted.cpp" | cut -d: -f1 | sort -n | tr '\n' ' ')
reported=$(echo "$out" | sed -nE 's#^determinism lint: sim/planted.cpp:([0-9]+):.*#\1#p' | sort -n | uniq | tr '\n' ' ')
if [ "$expected" != "$reported" ]; then
  echo "lint self-test: planted lines [$expected] but reported [$reported]"; echo "$out"; exit 1
fi
echo "lint self-test: all planted violations caught, nothing else ($reported)"
