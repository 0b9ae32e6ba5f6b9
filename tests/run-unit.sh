#!/usr/bin/env bash
# Run every cmocka unit-test binary given as an argument, from the source
# root (fixtures are named tests/...), and print one closing count. A cmocka
# skip() gives no reason, so tests/summary.sh counts it as a failure in the
# closing line of `make check`; each one is named here.
set -u
pass=0; fail=0; skip=0; failed=()
for t in "$@"; do
    if "$t" >"$t.log" 2>&1; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1)); failed+=("$t")
        cat "$t.log"
    fi
    # cmocka prints its own per-test lines; keep only the summary visible.
    grep -E '^\[  (PASSED|FAILED|SKIPPED) *\] [0-9]+ test' "$t.log" | sed "s|^|$(basename "$t"): |"
    n=$(sed -n 's/^\[  SKIPPED \] \([0-9]*\) test.*/\1/p' "$t.log")
    if [ -n "$n" ]; then
        skip=$((skip + n))
        sed -n '/^\[  SKIPPED \] [0-9]* test/,$ s/^\[  SKIPPED \] \([a-z_0-9]*\)$/\1/p' "$t.log" |
            sed "s|^|$(basename "$t"): skipped (cmocka gives no reason): |"
    fi
done
results=${RESULTS:-build/results.log}
mkdir -p "$(dirname "$results")"
echo "unit $pass $fail $skip" >>"$results"
echo "unit: $pass passed, $fail failed, $skip test functions skipped"
[ $fail -eq 0 ] || { printf 'failed: %s\n' "${failed[@]}"; exit 1; }
