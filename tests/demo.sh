#!/usr/bin/env bash
# `make demo`: start labd on the bundled site, open labmon on it, and stop
# labd again when labmon quits (q or Ctrl-C). Without a terminal (CI, a pipe)
# it only starts labd and prints the URL.
#   PORT=8080      the port to serve on
#   RUN_DIR=DIR    labd's run dir (default: labd's own default)
set -eu
labd=$1
labmon=$2
port=${PORT:-8080}
rundir=()
[ -z "${RUN_DIR:-}" ] || rundir=(--run-dir "$RUN_DIR")
url="http://localhost:$port/"

ours=1
if ! "$labd" start --port "$port" "${rundir[@]}"; then
    # Already running (its pid file says so): use it, and leave it running.
    "$labd" status "${rundir[@]}" >/dev/null 2>&1 || exit 1
    ours=0
    echo "labd is already running; using it"
fi

if ! [ -t 0 ] || ! [ -t 1 ]; then
    echo "labd is serving the bundled site: $url"
    echo "stop it with: $labd stop${rundir[*]:+ ${rundir[*]}}"
    exit 0
fi

stop_labd() {
    [ "$ours" = 1 ] || return 0
    echo "stopping labd"
    "$labd" stop "${rundir[@]}" || true
}
trap stop_labd EXIT
# Ctrl-C reaches labmon too, which restores the terminal and exits; then we stop labd.
trap 'exit 130' INT TERM

echo "labd is serving the bundled site: $url  (open it in a browser)"
echo "starting labmon: q quits it and stops labd"
sleep 1
rc=0
"$labmon" "${rundir[@]}" || rc=$?
if [ "$rc" != 0 ] && [ "$rc" != 130 ]; then
    # labmon could not start (e.g. no capture permission): keep the server up.
    trap - EXIT
    echo "labmon exited with status $rc; labd keeps serving $url"
    echo "stop it with: $labd stop${rundir[*]:+ ${rundir[*]}}"
    exit "$rc"
fi
