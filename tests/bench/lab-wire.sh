#!/usr/bin/env bash
# The lab wire's forwarding rate: one bulk HTTP download over the lab link,
# through the wire process with every knob at zero (lab_probe --wire) and
# through the kernel bridge that joins the link without knobs ("direct"),
# alternated for ROUNDS rounds. Prints frames/s
# (both directions, counted on the host end) and MB/s for each run, the
# medians, and the median per-round ratio wire / direct. Target: the wire
# forwards at least 100 000 frames/s. Needs root; not a pass/fail test.
#
#   tests/bench/lab-wire.sh [PROBE]     (default build/tests/e2e/lab_probe)
#
# Environment: ROUNDS [3], SIZE [400000000] bytes per download.
set -u
SRC=$(cd "$(dirname "$0")/../.." && pwd)
PROBE=${1:-$SRC/build/tests/e2e/lab_probe}
ROUNDS=${ROUNDS:-3}
SIZE=${SIZE:-400000000}
[ "$(id -u)" = 0 ] || { echo "lab-wire.sh: needs root (network namespaces)" >&2; exit 1; }
[ -x "$PROBE" ] || { echo "lab-wire.sh: no $PROBE (make build/tests/e2e/lab_probe)" >&2; exit 1; }
TMP=$(mktemp -d /tmp/lab-wire-bench.XXXXXX)
PID=
cleanup() {
    [ -n "$PID" ] && kill -9 "$PID" 2>/dev/null
    pkill -9 -f "$TMP" 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT

# run MODE: one download; prints "frames/s MB/s seconds wire-frames".
run() {
    local args=() ifname url t0 t1 p0 p1 secs wire
    [ "$1" = wire ] && args=(--wire)
    # Not the last run's "ready": the new probe may not have opened the file yet.
    rm -f "$TMP/out"
    "$PROBE" --port 8080 --root "$TMP" "${args[@]}" >"$TMP/out" 2>"$TMP/err" &
    PID=$!
    for _ in $(seq 200); do grep -qx ready "$TMP/out" 2>/dev/null && break; sleep 0.05; done
    grep -qx ready "$TMP/out" || { echo "probe did not start: $(cat "$TMP/err")" >&2; exit 1; }
    ifname=$(awk '$1 == "host_if" {print $2}' "$TMP/out")
    url=$(awk '$1 == "url" {print $2}' "$TMP/out")
    # A warm-up request sets up ARP and the connection path.
    curl --interface "$ifname" -s -o /dev/null "${url}bytes/1000"
    packets() {
        echo $(($(cat /sys/class/net/"$ifname"/statistics/rx_packets) +
            $(cat /sys/class/net/"$ifname"/statistics/tx_packets)))
    }
    p0=$(packets)
    t0=$(date +%s%N)
    curl --interface "$ifname" -s -o /dev/null "${url}bytes/$SIZE" || { echo "curl failed" >&2; exit 1; }
    t1=$(date +%s%N)
    p1=$(packets)
    kill -TERM "$PID"
    wait "$PID"
    PID=
    wire=$(awk '$1 == "stat" && $3 == "forwarded" {s += $4} END {print s + 0}' "$TMP/out")
    secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f", (b - a) / 1e9}')
    awk -v p=$((p1 - p0)) -v s="$secs" -v n="$SIZE" -v w="$wire" \
        'BEGIN {printf "%.0f %.1f %s %d\n", p / s, n / s / 1e6, s, w}'
}

median() { sort -n | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }

echo "lab wire forwarding rate: $ROUNDS rounds, $((SIZE / 1000000)) MB per download, $(nproc) CPUs"
printf '%-6s %-7s %12s %9s %8s %12s\n' round link frames/s MB/s seconds wire-frames
for r in $(seq "$ROUNDS"); do
    read -r fd md sd _ <<<"$(run direct)"
    read -r fw mw sw ww <<<"$(run wire)"
    printf '%-6s %-7s %12s %9s %8s %12s\n' "$r" direct "$fd" "$md" "$sd" - "$r" wire "$fw" "$mw" "$sw" "$ww"
    echo "$fd $md $fw $mw" >>"$TMP/rounds"
done
fd=$(awk '{print $1}' "$TMP/rounds" | median)
md=$(awk '{print $2}' "$TMP/rounds" | median)
fw=$(awk '{print $3}' "$TMP/rounds" | median)
mw=$(awk '{print $4}' "$TMP/rounds" | median)
ratio=$(awk '{print $3 / $1}' "$TMP/rounds" | median)
echo "median: direct $fd frames/s $md MB/s; wire $fw frames/s $mw MB/s; wire / direct $ratio"
awk -v f="$fw" 'BEGIN {exit !(f >= 100000)}' && echo "target (wire >= 100000 frames/s): met" ||
    echo "target (wire >= 100000 frames/s): NOT met"
