#!/usr/bin/env bash
# labd's process model, measured: how long start, stop, stop --fast and reload
# take (median of N), and what a client load sees across reloads (wrk, with
# and without keep-alive). Numbers only; the e2e tests check behaviour.
#
#   tests/bench/lifecycle.sh /abs/path/labd [ROUNDS]
#
# Listens on 127.0.0.1 only (a free port); everything it starts it stops.
set -u
LABD=${1:?usage: lifecycle.sh LABD [ROUNDS]}
ROUNDS=${2:-7}
WORKERS=${BENCH_WORKERS:-2}
tmp=$(mktemp -d /tmp/labd-lifecycle.XXXXXX)
run=$tmp/run
trap '"$LABD" stop --fast --run-dir "$run" >/dev/null 2>&1; rm -rf "$tmp"' EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$tmp/site"
head -c 2048 /dev/zero | tr '\0' x >"$tmp/site/index.html"
labd() { "$LABD" "$@" --run-dir "$run"; }
ms() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

starts=() stops=() fasts=() reloads=()
for _ in $(seq "$ROUNDS"); do
    t=$(date +%s%N); labd start --port "$port" --root "$tmp/site" --workers "$WORKERS" >/dev/null || exit 1
    starts+=("$(ms "$t")")
    t=$(date +%s%N); labd reload || exit 1; reloads+=("$(ms "$t")")
    t=$(date +%s%N); labd stop || exit 1; stops+=("$(ms "$t")")
    labd start --port "$port" --root "$tmp/site" --workers "$WORKERS" >/dev/null || exit 1
    t=$(date +%s%N); labd stop --fast || exit 1; fasts+=("$(ms "$t")")
done
printf 'labd lifecycle, %d workers, median of %d (ms): start %s, reload %s, stop %s, stop --fast %s\n' \
    "$WORKERS" "$ROUNDS" "$(printf '%s\n' "${starts[@]}" | median)" \
    "$(printf '%s\n' "${reloads[@]}" | median)" "$(printf '%s\n' "${stops[@]}" | median)" \
    "$(printf '%s\n' "${fasts[@]}" | median)"

command -v wrk >/dev/null || { echo "wrk not installed: load part skipped"; exit 0; }
labd start --port "$port" --root "$tmp/site" --workers "$WORKERS" >/dev/null || exit 1
for mode in keep-alive close; do
    hdr=()
    [ $mode = close ] && hdr=(-H 'Connection: close')
    (sleep 1; for _ in 1 2 3 4 5; do labd reload; sleep 0.5; done) &
    out=$(wrk -t2 -c20 -d5s "${hdr[@]}" "http://127.0.0.1:$port/" 2>&1)
    wait
    reqs=$(awk '/requests in/ {print $1}' <<<"$out")
    errs=$(awk '/Socket errors/ {print}' <<<"$out")
    non2xx=$(awk '/Non-2xx/ {print $NF}' <<<"$out")
    echo "wrk -c20 5 s, $mode, 5 reloads: $reqs requests, non-2xx ${non2xx:-0}, ${errs:-socket errors: none}"
done
