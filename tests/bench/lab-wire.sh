#!/usr/bin/env bash
# The lab wire's forwarding rate: the bundled MP3 downloaded COPIES times
# over one keep-alive connection from `labd --lab`, through the wire process
# with every knob at zero (--lab-rtt 0) and through the kernel bridge that
# joins the link without knobs ("direct"), alternated for ROUNDS rounds.
# Prints frames/s (both directions, counted on the link's host end) and MB/s
# of each run, the medians, the median per-round ratio wire / direct, and a
# last line "LABWIRE key=value ..." for tests/bench/run.sh. Target: the wire
# forwards at least 100 000 frames/s. Needs root; not a pass/fail test.
#
#   tests/bench/lab-wire.sh [LABD [MP3]]   (default build/labd, www/audio/intro.mp3)
#
# Environment: ROUNDS [3], COPIES [100] downloads of the MP3 per run.
set -u
SRC=$(cd "$(dirname "$0")/../.." && pwd)
LABD=${1:-$SRC/build/labd}
MP3=${2:-$SRC/www/audio/intro.mp3}
ROUNDS=${ROUNDS:-3}
COPIES=${COPIES:-100}
[ "$(id -u)" = 0 ] || { echo "lab-wire.sh: needs root (labd --lab)" >&2; exit 1; }
[ -x "$LABD" ] || { echo "lab-wire.sh: no $LABD (make)" >&2; exit 1; }
[ -f "$MP3" ] || { echo "lab-wire.sh: no $MP3" >&2; exit 1; }
TMP=$(mktemp -d /tmp/lab-wire-bench.XXXXXX)
mkdir -p "$TMP/www"
cp "$MP3" "$TMP/www/song.mp3"
SIZE=$(stat -c %s "$MP3")
cleanup() {
    "$LABD" stop --fast --run-dir "$TMP/run" >/dev/null 2>&1
    rm -rf "$TMP"
}
trap cleanup EXIT

# run MODE: one labd, COPIES downloads; prints "frames/s MB/s seconds wire-frames".
run() {
    local knobs=() out ifname url t0 t1 p0 p1 secs wire urls=()
    [ "$1" = wire ] && knobs=(--lab-rtt 0)
    out=$("$LABD" start --lab "${knobs[@]}" --root "$TMP/www" --workers 1 --access-log off \
        --run-dir "$TMP/run" 2>&1) || { echo "labd start failed: $out" >&2; exit 1; }
    url=$(sed -n 's/^labd: open \(http:[^ ]*\) in a browser.*/\1/p' <<<"$out")song.mp3
    ifname=$(sed -n 's/.*(lab link \([^:]*\):.*/\1/p' <<<"$out")
    for _ in $(seq "$COPIES"); do urls+=(-o /dev/null "$url"); done
    # A warm-up request sets up ARP and the connection path.
    curl --interface "$ifname" -s -o /dev/null -r 0-999 "$url"
    packets() {
        echo $(($(cat /sys/class/net/"$ifname"/statistics/rx_packets) +
            $(cat /sys/class/net/"$ifname"/statistics/tx_packets)))
    }
    p0=$(packets)
    t0=$(date +%s%N)
    curl --interface "$ifname" -s "${urls[@]}" ||
        { echo "curl failed" >&2; exit 1; }
    t1=$(date +%s%N)
    p1=$(packets)
    wire=$("$LABD" status --run-dir "$TMP/run" |
        awk '$1 ~ /^(c2s|s2c)$/ {s += $2} END {print s + 0}')
    "$LABD" stop --fast --run-dir "$TMP/run" >/dev/null
    secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f", (b - a) / 1e9}')
    awk -v p=$((p1 - p0)) -v s="$secs" -v n=$((SIZE * COPIES)) -v w="$wire" \
        'BEGIN {printf "%.0f %.1f %s %d\n", p / s, n / s / 1e6, s, w}'
}

median() { sort -n | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }

echo "lab wire forwarding rate: $ROUNDS rounds, the MP3 ($SIZE bytes) $COPIES times per run, $(nproc) CPUs"
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
echo "LABWIRE direct_fps=$fd direct_mbs=$md wire_fps=$fw wire_mbs=$mw ratio=$ratio"
