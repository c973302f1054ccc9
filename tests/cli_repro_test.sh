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
echo "repro, replay and shrink work: $h1"
