#!/usr/bin/env bash
# Run the end-to-end tests (tests/e2e/*.test, or those named as arguments).
# Each test is a bash script that sources tests/e2e/lib.sh; it gets $LABD,
# $LABMON and a private temporary directory, and must leave no process behind.
# Exit status 77 means "skipped" (with the reason on the last line).
set -u
cd "$(dirname "$0")/../.."
: "${LABD:?LABD must point at the labd binary}"
: "${LABMON:?LABMON must point at the labmon binary}"
export LABD LABMON SRC=$PWD
tests=("$@")
if [ ${#tests[@]} -eq 0 ]; then
    # make check runs each test once: E2E_BUILD=release selects the tests
    # marked "# check-build: release" (process-level faults, browsers,
    # valgrind, timing-heavy captures), E2E_BUILD=asan all the others, on
    # the ASan+UBSan binaries. Without E2E_BUILD every test runs.
    for t in tests/e2e/*.test; do
        mark=$(grep -m1 -o '^# check-build: [a-z]*' "$t" | awk '{print $3}')
        case ${E2E_BUILD:-} in
        "") tests+=("$t") ;;
        release) [ "$mark" = release ] && tests+=("$t") ;;
        *) [ "$mark" = release ] || tests+=("$t") ;;
        esac
    done
fi
pass=0; fail=0; skip=0; failed=()
for t in "${tests[@]}"; do
    [ -f "$t" ] || t=tests/e2e/$t.test
    [ -f "$t" ] || continue
    name=$(basename "$t" .test)
    tmp=$(mktemp -d /tmp/labd-e2e.XXXXXX)
    start=$(date +%s)
    TEST_TMP=$tmp timeout -k 5 ${E2E_TIMEOUT:-300} bash "$t" >"$tmp/out.log" 2>&1
    rc=$?
    secs=$(( $(date +%s) - start ))
    case $rc in
    0) pass=$((pass + 1)); echo "ok   $name (${secs}s)" ;;
    77) skip=$((skip + 1)); echo "skip $name: $(tail -n 1 "$tmp/out.log")" ;;
    *) fail=$((fail + 1)); failed+=("$name")
       echo "FAIL $name (exit $rc, ${secs}s)"; sed 's/^/    /' "$tmp/out.log" | tail -n 60 ;;
    esac
    # A test that leaked a process fails even if its assertions passed.
    if pgrep -f "$tmp" >/dev/null 2>&1; then
        echo "FAIL $name: left processes running:"; pgrep -af "$tmp" | sed 's/^/    /'
        pkill -9 -f "$tmp"; [ $rc -eq 0 ] && { pass=$((pass - 1)); fail=$((fail + 1)); failed+=("$name"); }
    fi
    rm -rf "$tmp"
done
results=${RESULTS:-build/results.log}
mkdir -p "$(dirname "$results")"
echo "e2e $pass $fail $skip" >>"$results"
echo "e2e: $pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ] || { printf 'failed: %s\n' "${failed[@]}"; exit 1; }
