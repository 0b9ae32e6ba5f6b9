#!/usr/bin/env bash
# Run every cmocka unit-test binary given as an argument, from the source
# root (fixtures are named tests/...), and print one closing count.
set -u
pass=0; fail=0; failed=()
for t in "$@"; do
    if "$t" >"$t.log" 2>&1; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1)); failed+=("$t")
        cat "$t.log"
    fi
    # cmocka prints its own per-test lines; keep only the summary visible.
    grep -E '^\[  (PASSED|FAILED) \]' "$t.log" | sed "s|^|$(basename "$t"): |"
done
results=${RESULTS:-build/results.log}
mkdir -p "$(dirname "$results")"
echo "unit $pass $fail" >>"$results"
echo "unit: $pass passed, $fail failed"
[ $fail -eq 0 ] || { printf 'failed: %s\n' "${failed[@]}"; exit 1; }
