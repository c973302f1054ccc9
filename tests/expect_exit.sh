#!/usr/bin/env bash
# expect_exit.sh CODE COMMAND...: runs COMMAND and passes only if it exits with CODE.
want=$1; shift
"$@"
got=$?
if [ "$got" -ne "$want" ]; then echo "expected exit code $want, got $got: $*"; exit 1; fi
echo "exit code $got as expected"
