#!/usr/bin/env bash
# Runs a command N times in a row and counts the runs that failed: the proof
# that a test is not flaky (a test that fails once in ten runs is a bug).
#
#   scripts/repeat.sh 200 cargo test -p sockets --test signals an_answer_owed
#   scripts/repeat.sh 10 scripts/test.sh
#
# Each failed run's output is kept in target/repeat/fail-RUN.log. Exits 0
# only if every run passed.
set -uo pipefail
cd "$(dirname "$0")/.."

if [ $# -lt 2 ] || ! [[ $1 =~ ^[1-9][0-9]*$ ]]; then
    echo "usage: scripts/repeat.sh N COMMAND [ARGS...]" >&2
    exit 2
fi
runs=$1
shift

logs=target/repeat
mkdir -p "$logs"
rm -f "$logs"/fail-*.log
failed=0
start=$(date +%s)
for run in $(seq 1 "$runs"); do
    if ! "$@" >"$logs/run.log" 2>&1; then
        failed=$((failed + 1))
        cp "$logs/run.log" "$logs/fail-$run.log"
        echo "run $run of $runs failed (output in $logs/fail-$run.log)"
    fi
done
echo "$((runs - failed)) passed, $failed failed ($runs runs of '$*' in $(($(date +%s) - start)) s)"
[ "$failed" -eq 0 ]
