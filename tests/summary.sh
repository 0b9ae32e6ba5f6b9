#!/usr/bin/env bash
# Closing line of `make check`: totals over every runner that wrote to
# build/results.log during this run, then every skip with its reason.
# Count lines are "RUNNER PASSED FAILED [SKIPPED]"; a runner lists each skip
# it allows (a fact about the machine, see tests/e2e/lib.sh) as "skipped
# RUNNER NAME: REASON", and a skipped part of a passing test as
# "skipped-part RUNNER NAME: REASON". A skip counted without such a line has
# no machine reason and counts as a failure.
set -u
f=${RESULTS:-build/results.log}
[ -f "$f" ] || { echo "check: no test results recorded" >&2; exit 1; }
awk '
$1 == "skipped" { expl[$2]++; sub(/^skipped [^ ]+ /, ""); why = why sep $0; sep = "; "; next }
$1 == "skipped-part" { sub(/^skipped-part [^ ]+ /, ""); part = part psep $0; psep = "; "; next }
NF >= 3 { p += $2; f += $3; s += $4; counted[$1] += $4 }
END {
    # Skips a runner counted but did not explain have no machine reason (the
    # fuzz runner explains none: a target it skips is missing from the tree,
    # or clang is): they count as failures.
    for (r in counted)
        if (counted[r] > expl[r]) {
            bare += counted[r] - expl[r]
            who = who " " r
        }
    line = sprintf("check: %d passed, %d failed, %d skipped", p, f + bare, s - bare)
    if (why != "") line = line " (" why ")"
    if (part != "") line = line "; parts skipped: " part
    if (bare > 0) line = line "; " bare " skips without a reason about the machine counted as failed (" substr(who, 2) ")"
    print line
    exit (f + bare > 0 || p == 0)
}' "$f"
