#!/usr/bin/env bash
# Closing line of `make check`: totals over every runner that wrote to
# build/results.log during this run.
set -u
f=${RESULTS:-build/results.log}
[ -f "$f" ] || { echo "check: no test results recorded" >&2; exit 1; }
awk '{p += $2; f += $3; s += $4} END {printf "check: %d passed, %d failed, %d skipped\n", p, f, s; exit (f > 0 || p == 0)}' "$f"
