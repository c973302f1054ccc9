#!/usr/bin/env bash
# The documented multi-machine recipe (docs/cli.md), run locally: GNU parallel starts one sweep per
# shard, `seedlog merge` combines their outputs, and the merged results equal one unsharded sweep,
# seed for seed and trace hash for trace hash. Also: merge refuses a file that is not sweep output.
set -uo pipefail
seedlog=$1
work=$2
rm -rf "$work" && mkdir -p "$work" && cd "$work" || exit 1
command -v parallel >/dev/null || { echo "GNU parallel is missing (tools/setup.sh installs it)"; exit 1; }
parallel --will-cite -j 2 "$seedlog" sweep --scenario echo-fifo --seeds 1..30 -j 1 --shard {}/3 --out shard-{}.jsonl \
  ::: 0 1 2 2> parallel.log || { echo "a shard failed"; cat parallel.log; exit 1; }
"$seedlog" merge shard-*.jsonl --out merged.jsonl > merge.txt || { echo "merge failed"; cat merge.txt; exit 1; }
grep -q "merge summary: 30 results from 3 files" merge.txt || { echo "merge must count 30 results"; cat merge.txt; exit 1; }
"$seedlog" sweep --scenario echo-fifo --seeds 1..30 -j 2 --out whole.jsonl 2> /dev/null > /dev/null || exit 1
"$seedlog" merge whole.jsonl --out whole-sorted.jsonl > /dev/null || exit 1
strip() { sed -E 's/"wall_s":[0-9.]+//' "$1"; }
[ "$(strip merged.jsonl)" = "$(strip whole-sorted.jsonl)" ] || { echo "sharded and whole sweeps differ"; diff <(strip merged.jsonl) <(strip whole-sorted.jsonl) | head; exit 1; }
# A seed seen twice with different trace hashes is a conflict (exit 5); a bad line is a usage error naming it.
head -1 merged.jsonl | sed -E 's/"trace_hash":"[0-9a-f]+"/"trace_hash":"0000000000000000"/' > forged.jsonl
"$seedlog" merge merged.jsonl forged.jsonl > conflict.txt; [ $? -eq 5 ] || { echo "a conflict must exit 5"; cat conflict.txt; exit 1; }
grep -q CONFLICT conflict.txt || { echo "the conflict must be named"; exit 1; }
printf '{"seed":1}\n' > bad.jsonl
"$seedlog" merge bad.jsonl 2> bad.txt; [ $? -eq 2 ] || { echo "a bad file must exit 2"; exit 1; }
grep -q "bad.jsonl:1: not a sweep result" bad.txt || { echo "the error must name file and line"; cat bad.txt; exit 1; }
echo "3 shards under GNU parallel merged into the same 30 results as one sweep"
