#!/usr/bin/env bash
# A failing run writes a repro file; `seedlog repro` replays it with the same verdict and trace hash;
# `seedlog shrink` writes a smaller one that still fails.
set -uo pipefail
seedlog=$1
work=$2
rm -rf "$work" && mkdir -p "$work" && cd "$work" || exit 1
"$seedlog" run --scenario echo-fifo-corrupt --seed 3 > run.txt; [ $? -eq 1 ] || { echo "the run should fail with 1"; cat run.txt; exit 1; }
[ -f seedlog-repro-echo-fifo-corrupt-3.json ] || { echo "no repro file written"; exit 1; }
"$seedlog" repro seedlog-repro-echo-fifo-corrupt-3.json > repro.txt; [ $? -eq 1 ] || { echo "the replay should fail with 1"; exit 1; }
h1=$(grep -o 'trace hash [0-9a-f]*' run.txt); h2=$(grep -o 'trace hash [0-9a-f]*' repro.txt)
[ "$h1" = "$h2" ] || { echo "replay differs: $h1 vs $h2"; exit 1; }
"$seedlog" shrink seedlog-repro-echo-fifo-corrupt-3.json > shrink.txt; [ $? -eq 1 ] || { echo "shrink should report the failure"; cat shrink.txt; exit 1; }
[ -f seedlog-repro-echo-fifo-corrupt-3.shrunk.json ] || { echo "no shrunk repro"; exit 1; }
"$seedlog" repro seedlog-repro-echo-fifo-corrupt-3.shrunk.json > /dev/null; [ $? -eq 1 ] || { echo "the shrunk repro must still fail"; exit 1; }
echo '{"not":"a repro"}' > bad.json
"$seedlog" repro bad.json 2> bad.txt; [ $? -eq 2 ] || { echo "a bad repro file is a usage error"; exit 1; }
grep -q "not a repro file" bad.txt || { echo "the error must say what is wrong"; cat bad.txt; exit 1; }
# A run with a catalog defect switched on: the repro file records the defect and replays with it.
"$seedlog" run --scenario controller-failover --seed 5 --defect raft-vote-ignores-log > defect.txt; [ $? -eq 1 ] || { echo "the defect run should fail with 1"; cat defect.txt; exit 1; }
grep -q -- "--defect raft-vote-ignores-log" defect.txt || { echo "the reproduce line must carry the defect"; cat defect.txt; exit 1; }
grep -q '"raft-vote-ignores-log"' seedlog-repro-controller-failover-5.json || { echo "the repro file must record the defect"; exit 1; }
"$seedlog" repro seedlog-repro-controller-failover-5.json > defect-repro.txt; [ $? -eq 1 ] || { echo "the defect replay should fail with 1"; exit 1; }
d1=$(grep -o 'trace hash [0-9a-f]*' defect.txt); d2=$(grep -o 'trace hash [0-9a-f]*' defect-repro.txt)
[ "$d1" = "$d2" ] || { echo "defect replay differs: $d1 vs $d2"; exit 1; }
echo "repro, replay and shrink work: $h1"
