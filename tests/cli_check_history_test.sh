#!/usr/bin/env bash
# `seedlog check-history` on Jepsen-shaped histories: a valid one passes (exit 0), a lost write is
# reported in Jepsen's vocabulary (exit 1, text and JSON), --not-an-error excuses a kind, and an
# unreadable history is a usage error naming the line (exit 2).
set -uo pipefail
seedlog=$1
dir=$2
out=$(mktemp -d)
"$seedlog" check-history "$dir/jepsen_valid.edn" > "$out/valid.txt"; [ $? -eq 0 ] || { echo "a valid history must pass"; cat "$out/valid.txt"; exit 1; }
"$seedlog" check-history "$dir/jepsen_lost_write.edn" > "$out/lost.txt"; [ $? -eq 1 ] || { echo "a lost write must exit 1"; cat "$out/lost.txt"; exit 1; }
grep -q "lost-write" "$out/lost.txt" || { echo "the report must name lost-write"; cat "$out/lost.txt"; exit 1; }
"$seedlog" check-history --json "$dir/jepsen_lost_write.edn" > "$out/lost.json"; [ $? -eq 1 ] || exit 1
grep -q '"valid":false' "$out/lost.json" && grep -q '"lost-write"' "$out/lost.json" || { echo "bad JSON report"; cat "$out/lost.json"; exit 1; }
"$seedlog" check-history --not-an-error lost-write --not-an-error poll-skip --not-an-error int-poll-skip \
  "$dir/jepsen_lost_write.edn" > "$out/excused.txt"; [ $? -eq 0 ] || { echo "excused kinds must not fail"; cat "$out/excused.txt"; exit 1; }
"$seedlog" check-history --not-an-error no-such-kind "$dir/jepsen_valid.edn" 2> "$out/kind.txt"; [ $? -eq 2 ] || exit 1
"$seedlog" check-history "$dir/truncated.edn" 2> "$out/bad.txt"; [ $? -eq 2 ] || { echo "a truncated history must exit 2"; exit 1; }
grep -q "line 1" "$out/bad.txt" || { echo "the error must name the line"; cat "$out/bad.txt"; exit 1; }
"$seedlog" check-history "$dir/no-such-file.edn" 2> /dev/null; [ $? -eq 2 ] || exit 1
rm -rf "$out"
echo "check-history judges Jepsen histories"
