#!/usr/bin/env bash
# Proves a labmon change kept its output: runs two labmon binaries over the
# same captures and compares --json, --summary, --events and every stream's
# --ladder byte for byte. Used for refactors that promise "no behaviour
# change" (the README's Code map work was checked this way).
#
#   tests/bench/same-output.sh OLD_LABMON NEW_LABMON [CAPTURE...]
#
# Without captures: every fixture in tests/pcaps/ plus any *.pcap given in
# SAME_OUTPUT_EXTRA (space-separated). Prints one line per difference and a
# total; exit 0 only when everything is identical.
set -u
old=${1:?usage: same-output.sh OLD_LABMON NEW_LABMON [CAPTURE...]}
new=${2:?usage: same-output.sh OLD_LABMON NEW_LABMON [CAPTURE...]}
shift 2
src=$(cd "$(dirname "$0")/../.." && pwd)
if [ $# -eq 0 ]; then
    set -- $(find "$src/tests/pcaps" -name '*.pcap' -o -name '*.pcapng' | sort) ${SAME_OUTPUT_EXTRA:-}
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
runs=0 diffs=0
compare() { # NAME ARGS...
    local name=$1
    shift
    "$old" "$@" >"$tmp/a" 2>"$tmp/a.err"
    local ra=$?
    "$new" "$@" >"$tmp/b" 2>"$tmp/b.err"
    local rb=$?
    runs=$((runs + 1))
    if [ $ra != $rb ] || ! cmp -s "$tmp/a" "$tmp/b" || ! cmp -s "$tmp/a.err" "$tmp/b.err"; then
        diffs=$((diffs + 1))
        echo "DIFF $name (exit $ra vs $rb)"
        diff "$tmp/a" "$tmp/b" | head -5
        diff "$tmp/a.err" "$tmp/b.err" | head -3
    fi
}
for f in "$@"; do
    for mode in --json --summary --events; do
        compare "$(basename "$f") $mode" -r "$f" $mode
    done
    n=$("$old" -r "$f" --json 2>/dev/null | wc -l)
    [ "$n" -gt 50 ] && n=50
    for ((i = 0; i < n; i++)); do
        compare "$(basename "$f") --ladder $i" -r "$f" --ladder $i
    done
done
echo "same-output: $runs runs, $diffs differ"
[ $diffs -eq 0 ]
