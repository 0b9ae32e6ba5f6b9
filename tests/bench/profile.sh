#!/usr/bin/env bash
# CPU profiles of the hot paths behind the bench figures, with perf sampling
# on cpu-clock (hardware counters are often missing on VMs):
#
#   tests/bench/profile.sh /abs/labd /abs/labmon [keepalive close whole range offline]
#
# keepalive/close/whole/range: perf on labd's workers while wrk drives them
# as in S1/S2/S3 (whole: the MP3 downloaded whole by 20 connections); offline: perf on `labmon -r CAPTURE --json` (the M1 capture that
# run.sh cached in build/bench/). Writes build/bench/profile/<case>.txt (flat
# profile, self time by symbol) and prints the top lines of each.
set -u
LABD=${1:?usage: profile.sh LABD LABMON [case...]}
LABMON=${2:?usage: profile.sh LABD LABMON [case...]}
shift 2
cases=("$@")
[ ${#cases[@]} -gt 0 ] || cases=(keepalive close range offline)
SRC=$(cd "$(dirname "$0")/../.." && pwd)
OUT=${BENCH_OUT:-$SRC/build/bench}/profile
SECS=${PROFILE_SECONDS:-5}
WORKERS=${BENCH_WORKERS:-$(nproc)}
mkdir -p "$OUT"
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

perf record -q -e cpu-clock -o "$OUT/probe.data" -- true >/dev/null 2>&1 ||
    { echo "profile: perf cannot sample here (try valgrind --tool=callgrind)" >&2; exit 1; }
rm -f "$OUT/probe.data"

. "$SRC/tests/bench/lib.sh"

# Flat profile (self time per symbol, lines above 0.5 %), then the same for
# the program's own code only (what a fix in our C would change).
report() {
    local data=$1 txt=$2 dso=$3
    {
        echo "# all code (kernel included), $data"
        perf report -i "$data" --stdio --no-children -g none --sort dso,symbol \
            --percent-limit 0.5 2>/dev/null | grep -v '^#' | grep -v '^$' | sed 's/ *- *- *$//'
        echo "# $dso only"
        perf report -i "$data" --stdio --no-children -g none --sort symbol --dsos "$dso" \
            --percent-limit 0.2 2>/dev/null | grep -v '^#' | grep -v '^$' | sed 's/ *- *- *$//'
    } >"$txt"
    echo "== $(basename "$txt" .txt): $txt"
    head -n 16 "$txt"
    grep -A 12 "^# $dso only" "$txt"
}

RUN=$OUT/run
rm -rf "$RUN"
mkdir -p "$RUN"
LABD_UP=0
cleanup() { [ $LABD_UP = 1 ] && timeout 15 "$LABD" stop --run-dir "$RUN/labd" >/dev/null 2>&1; }
trap cleanup EXIT

for c in "${cases[@]}"; do
    case $c in
    keepalive | close | whole | range)
        if [ $LABD_UP = 0 ]; then
            port=$(free_port)
            mkdir -p "$RUN/labd"
            "$LABD" start --bind 127.0.0.1 --port "$port" --run-dir "$RUN/labd" \
                --workers "$WORKERS" --root "$SRC/www" --access-log off ||
                { echo "profile: labd did not start" >&2; exit 1; }
            LABD_UP=1
            master=$(cat "$RUN/labd/labd.pid")
        fi
        pids=$(pgrep -P "$master" | paste -sd, -)
        case $c in
        keepalive) args=(-t2 -c100 "http://127.0.0.1:$port/index.html") ;;
        close) args=(-t2 -c100 -H 'Connection: close' "http://127.0.0.1:$port/index.html") ;;
        whole) args=(-t2 -c20 "http://127.0.0.1:$port/audio/intro.mp3") ;;
        range)
            export BENCH_LUA_DIR=$SRC/tests/bench
            BENCH_FILE_SIZE=$(stat -c %s "$SRC/www/audio/intro.mp3")
            export BENCH_FILE_SIZE
            args=(-t2 -c1000 -s "$SRC/tests/bench/range.lua" "http://127.0.0.1:$port/audio/intro.mp3")
            ;;
        esac
        timeout $((SECS + 20)) wrk -d$((SECS + 2))s "${args[@]}" >"$RUN/$c.wrk" 2>&1 &
        wpid=$!
        sleep 1
        perf record -q -e cpu-clock -g -p "$pids" -o "$RUN/$c.data" -- sleep "$SECS" \
            >/dev/null 2>&1
        wait "$wpid"
        report "$RUN/$c.data" "$OUT/labd-$c.txt" "$(basename "$LABD")"
        ;;
    offline)
        cap=$(ls -S "${BENCH_OUT:-$SRC/build/bench}"/capture-*.pcap 2>/dev/null | head -n 1)
        [ -n "$cap" ] || { echo "profile: no capture yet: run make bench first" >&2; continue; }
        perf record -q -e cpu-clock -g -o "$RUN/offline.data" -- \
            "$LABMON" -r "$cap" --json >/dev/null 2>&1
        report "$RUN/offline.data" "$OUT/labmon-offline.txt" "$(basename "$LABMON")"
        ;;
    *) echo "profile: unknown case $c" >&2 ;;
    esac
done
