#!/usr/bin/env bash
# `make stress`: the reliability tests with longer, larger settings, against
# the release build and then the ASan+UBSan build. Bounded: each test has a
# time limit (E2E_TIMEOUT), the whole run takes roughly 10-20 minutes on 2
# cores. Usage: tests/reliability/stress.sh RELEASE_DIR ASAN_DIR
set -u
cd "$(dirname "$0")/../.."
release=${1:-build}
asan=${2:-build/asan}
export REL_SLOW_CONNS=1800 REL_SLOW_SECS=60   # 2 workers x 1024 connections max
export REL_FLOOD_CONNS=5000
export REL_KILL_ROUNDS=10
export REL_SYNFLOOD_N=5000000
export E2E_TIMEOUT=900 REL_ALL_BUILDS=1
tests=$(cd tests/e2e && ls rel-*.test | sed 's/\.test$//')
rc=0
for dir in "$release" "$asan"; do
    [ -x "$dir/labd" ] && [ -x "$dir/labmon" ] || { echo "stress: $dir not built, skipped"; continue; }
    echo "stress: $dir"
    LABD=$(realpath "$dir/labd") LABMON=$(realpath "$dir/labmon") RESULTS=build/stress-results.log \
        tests/e2e/run.sh $tests || rc=1
done
exit $rc
