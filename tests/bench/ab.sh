#!/usr/bin/env bash
# A/B of two labd set-ups, the way the README's design notes were measured:
# A and B serve the same copy of www/ side by side on 127.0.0.1, and wrk
# drives them in turn (A B A B ...), so drift on a shared machine hits both.
#
#   tests/bench/ab.sh [options] -- A-ARGS... -- B-ARGS...
#
#   -a BIN      labd binary for A (default: build/labd)
#   -b BIN      labd binary for B (default: A's)
#   -r N        rounds (default 5)
#   -d SECONDS  each wrk run (default 4)
#   -c          Connection: close requests (default keep-alive)
#   -p PATH     the URL path (default /index.html)
#
# A-ARGS and B-ARGS are extra `labd start` options, for example
#   tests/bench/ab.sh -- --cpu-affinity auto -- --cpu-affinity off
# Prints each run (req/s, p50, p99, server CPU per request, and machine-wide
# rescheduling interrupts and context switches per request) and the medians
# of the per-round ratios B/A.
set -u
SRC=$(cd "$(dirname "$0")/../.." && pwd)
. "$SRC/tests/bench/lib.sh"

BIN_A=$SRC/build/labd BIN_B= ROUNDS=5 DUR=4 CLOSE=0 URL_PATH=/index.html
while getopts a:b:r:d:cp: o; do
    case $o in
    a) BIN_A=$OPTARG ;;
    b) BIN_B=$OPTARG ;;
    r) ROUNDS=$OPTARG ;;
    d) DUR=$OPTARG ;;
    c) CLOSE=1 ;;
    p) URL_PATH=$OPTARG ;;
    *) sed -n '2,18p' "$0" >&2; exit 2 ;;
    esac
done
# getopts stops at the first "--" and takes it.
[ $OPTIND -gt 1 ] && [ "${*:OPTIND-1:1}" = -- ] ||
    { echo "ab.sh: give the set-ups as -- A-ARGS... -- B-ARGS..." >&2; exit 2; }
shift $((OPTIND - 1))
BIN_B=${BIN_B:-$BIN_A}
ARGS_A=() ARGS_B=()
while [ $# -gt 0 ] && [ "$1" != -- ]; do ARGS_A+=("$1"); shift; done
[ "${1:-}" = -- ] && shift
ARGS_B=("$@")
for b in "$BIN_A" "$BIN_B"; do
    [ -x "$b" ] || { echo "ab.sh: $b is not an executable (make first)" >&2; exit 2; }
done
command -v wrk >/dev/null || { echo "ab.sh: wrk is not installed (make bench installs it)" >&2; exit 2; }

WORK=$(mktemp -d /tmp/labd-ab.XXXXXX)
cp -r "$SRC/www" "$WORK/www"
chmod -R a+rX "$WORK"
declare -A PORT MASTER
cleanup() {
    local x
    for x in A B; do
        [ -n "${MASTER[$x]:-}" ] && "$BIN_A" stop --fast --run-dir "$WORK/$x" >/dev/null 2>&1
    done
    rm -rf "$WORK"
}
trap cleanup EXIT

start() { # start NAME BIN ARGS...
    local name=$1 bin=$2
    shift 2
    PORT[$name]=$(free_port) || { echo "ab.sh: no free port" >&2; exit 1; }
    "$bin" start --bind 127.0.0.1 --port "${PORT[$name]}" --run-dir "$WORK/$name" \
        --root "$WORK/www" --access-log off --max-conns-per-worker 4096 "$@" >"$WORK/$name.log" 2>&1 ||
        { echo "ab.sh: $name did not start: $(cat "$WORK/$name.log")" >&2; exit 1; }
    MASTER[$name]=$(cat "$WORK/$name/labd.pid")
}
start A "$BIN_A" "${ARGS_A[@]}"
start B "$BIN_B" "${ARGS_B[@]}"

ticks() { # utime + stime of a master and its workers
    local t=0 p v
    for p in $1 $(pgrep -P "$1"); do
        v=$(sed 's/.*) //' "/proc/$p/stat" 2>/dev/null | awk '{print $12 + $13}')
        t=$((t + ${v:-0}))
    done
    echo $t
}
# Machine-wide, wrk included: rescheduling interrupts (a CPU woken by another)
# and context switches, so that a run shows how often work crossed CPUs.
sys_counts() {
    echo "$(awk '$1 == "RES:" {for (i = 2; i <= NF && $i ~ /^[0-9]+$/; i++) s += $i; print s + 0}' \
        /proc/interrupts) $(awk '$1 == "ctxt" {print $2}' /proc/stat)"
}
HZ=$(getconf CLK_TCK)
HDR=()
[ $CLOSE = 1 ] && HDR=(-H 'Connection: close')

echo "A: $BIN_A ${ARGS_A[*]}"
echo "B: $BIN_B ${ARGS_B[*]}"
echo "wrk -t2 -c100 -d${DUR}s --latency ${HDR[*]} $URL_PATH, $ROUNDS rounds"
declare -A RPS P99 CPU
ratios_rps=() ratios_p99=() ratios_cpu=()
for ((r = 1; r <= ROUNDS; r++)); do
    for x in A B; do
        t0=$(ticks "${MASTER[$x]}")
        read -r res0 cs0 < <(sys_counts)
        out=$(wrk -t2 -c100 -d"${DUR}s" --latency "${HDR[@]}" "http://127.0.0.1:${PORT[$x]}$URL_PATH" 2>&1)
        read -r res1 cs1 < <(sys_counts)
        t1=$(ticks "${MASTER[$x]}")
        req=$(awk '/requests in/ {print $1}' <<<"$out")
        RPS[$x]=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
        # wrk prints latencies with units; in microseconds:
        P99[$x]=$(awk '$1 == "99%" {v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v);
            print v * (u == "ms" ? 1000 : u == "s" ? 1e6 : 1)}' <<<"$out")
        p50=$(awk '$1 == "50%" {v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v);
            print v * (u == "ms" ? 1000 : u == "s" ? 1e6 : 1)}' <<<"$out")
        CPU[$x]=$(awk -v a="$t0" -v b="$t1" -v n="${req:-0}" -v h="$HZ" \
            'BEGIN {if (n > 0) printf "%.2f", (b - a) / h * 1e6 / n; else print 0}')
        per=$(awk -v n="${req:-0}" -v i=$((res1 - res0)) -v c=$((cs1 - cs0)) \
            'BEGIN {if (n > 0) printf "resched IRQ/req %.3f  ctx sw/req %.3f", i / n, c / n}')
        printf 'round %d %s  req/s %10s  p50 %6.0f us  p99 %7.0f us  CPU/req %5s us  %s\n' \
            "$r" "$x" "${RPS[$x]:-?}" "${p50:-0}" "${P99[$x]:-0}" "${CPU[$x]}" "$per"
    done
    ratios_rps+=("$(awk -v a="${RPS[A]:-0}" -v b="${RPS[B]:-0}" 'BEGIN {if (a > 0) print b / a}')")
    ratios_p99+=("$(awk -v a="${P99[A]:-0}" -v b="${P99[B]:-0}" 'BEGIN {if (a > 0) print b / a}')")
    ratios_cpu+=("$(awk -v a="${CPU[A]:-0}" -v b="${CPU[B]:-0}" 'BEGIN {if (a > 0) print b / a}')")
done
median() { printf '%s\n' "$@" | grep . | sort -g | awk '{v[NR] = $1} END {
    if (NR == 0) print "n/a"; else if (NR % 2) printf "%.3f", v[(NR + 1) / 2];
    else printf "%.3f", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
range() { printf '%s\n' "$@" | grep . | sort -g | awk 'NR == 1 {lo = $1} {hi = $1} END {printf "%.2f-%.2f", lo, hi}'; }
echo "B/A, medians of the per-round ratios (range):"
echo "  req/s   $(median "${ratios_rps[@]}") ($(range "${ratios_rps[@]}"))"
echo "  p99     $(median "${ratios_p99[@]}") ($(range "${ratios_p99[@]}"))"
echo "  CPU/req $(median "${ratios_cpu[@]}") ($(range "${ratios_cpu[@]}"))"
