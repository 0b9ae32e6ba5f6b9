#!/usr/bin/env bash
# Run the end-to-end tests (tests/e2e/*.test, or those named as arguments).
# Each test is a bash script that sources tests/e2e/lib.sh; it gets $LABD,
# $LABMON and a private temporary directory, and must leave no process behind.
# Exit status 77 means "skipped", with the kind of reason in $TEST_TMP/skips
# (see skip and skip_machine in lib.sh). In `make check` (E2E_BUILD set, or
# E2E_STRICT=1) only a reason that is a fact about the machine may skip a
# test or a part of one; any other skip fails.
set -u
cd "$(dirname "$0")/../.."
: "${LABD:?LABD must point at the labd binary}"
: "${LABMON:?LABMON must point at the labmon binary}"
export LABD LABMON SRC=$PWD
strict=
[ "${E2E_STRICT:-${E2E_BUILD:+1}}" = 1 ] && strict=1
tests=()
for name in "$@"; do
    t=$name
    [ -f "$t" ] || t=tests/e2e/$name.test
    [ -f "$t" ] || { echo "e2e: no test named '$name' (no tests/e2e/$name.test)" >&2; exit 2; }
    tests+=("$t")
done
if [ $# -eq 0 ]; then
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
results=${RESULTS:-build/results.log}
mkdir -p "$(dirname "$results")"
pass=0; fail=0; skip=0; failed=()

# reasons KIND...: the reasons the test recorded with these kinds, joined with "; ".
reasons() {
    [ -f "$tmp/skips" ] || return 0
    awk -v kinds=" $* " 'index(kinds, " " $1 " ") { sub(/^[^ ]+ /, ""); out = out sep $0; sep = "; " }
        END { print out }' "$tmp/skips"
}

for t in "${tests[@]}"; do
    name=$(basename "$t" .test)
    tmp=$(mktemp -d /tmp/labd-e2e.XXXXXX)
    start=$(date +%s)
    TEST_TMP=$tmp timeout -k 5 ${E2E_TIMEOUT:-300} bash "$t" >"$tmp/out.log" 2>&1
    rc=$?
    secs=$(( $(date +%s) - start ))
    other=$(reasons other part)
    machine=$(reasons machine)
    parts=$(reasons part-machine)
    # A skip whose kind was not recorded (exit 77 without skip or
    # skip_machine) counts as a skip for "some other reason".
    [ $rc -eq 77 ] && [ -z "$other$machine" ] && other="exit 77: $(tail -n 1 "$tmp/out.log")"
    why=""
    if [ -n "$other" ] && [ $rc -eq 0 -o $rc -eq 77 ]; then
        if [ -n "$strict" ]; then
            rc=1 why="; skipped for a reason that is no fact about this machine: $other"
        elif [ $rc -eq 77 ]; then
            machine="$other (a failure in make check)"
        else
            parts="${parts:+$parts; }$other (a failure in make check)"
        fi
    fi
    case $rc in
    0) echo "ok   $name (${secs}s)${parts:+; part skipped: $parts}" ;;
    77) echo "skip $name: $machine" ;;
    *) echo "FAIL $name (exit $rc, ${secs}s$why)"; sed 's/^/    /' "$tmp/out.log" | tail -n 60 ;;
    esac
    # A test that leaked a process fails even if its assertions passed.
    if pgrep -f "$tmp" >/dev/null 2>&1; then
        echo "FAIL $name: left processes running:"; pgrep -af "$tmp" | sed 's/^/    /'
        pkill -9 -f "$tmp"
        rc=1
    fi
    case $rc in
    0) pass=$((pass + 1))
       [ -z "$parts" ] || echo "skipped-part e2e $name: $parts" >>"$results" ;;
    77) skip=$((skip + 1)); echo "skipped e2e $name: $machine" >>"$results" ;;
    *) fail=$((fail + 1)); failed+=("$name") ;;
    esac
    rm -rf "$tmp"
done
echo "e2e $pass $fail $skip" >>"$results"
echo "e2e: $pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ] || { printf 'failed: %s\n' "${failed[@]}"; exit 1; }
