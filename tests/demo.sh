#!/usr/bin/env bash
# `make demo`: start labd on the bundled site, open labmon on it, and stop
# labd again when labmon quits (q or Ctrl-C). Without a terminal (CI, a pipe)
# it only starts labd and prints the URL.
# `make demo LAB=1` does the same behind the lab link (labd --lab, as root):
# a real Ethernet link on this machine, 40 ms round trip, 1 % loss.
#   PORT=8080      the port to serve on
#   RUN_DIR=DIR    labd's run dir (default: labd's own default)
#   LAB=1          the lab link; LAB_KNOBS="--lab-rtt 40 --lab-loss 1" its knobs
set -eu
labd=$1
labmon=$2
port=${PORT:-8080}
rundir=()
[ -z "${RUN_DIR:-}" ] || rundir=(--run-dir "$RUN_DIR")
url="http://localhost:$port/"
lab=()
if [ "${LAB:-0}" = 1 ]; then
    if [ "$(id -u)" != 0 ]; then
        echo "the lab link needs root (network namespaces): sudo make demo LAB=1" >&2
        exit 1
    fi
    # Word splitting wanted: LAB_KNOBS is a list of options.
    # shellcheck disable=SC2206
    lab=(--lab ${LAB_KNOBS:---lab-rtt 40 --lab-loss 1})
fi

ours=1
if out=$("$labd" start --port "$port" "${rundir[@]}" "${lab[@]}"); then
    echo "$out"
    # labd --lab says where it serves: labd's end of the lab link.
    lab_url=$(printf '%s\n' "$out" | sed -n 's/^labd: open \(http:[^ ]*\) in a browser.*/\1/p')
    [ -z "$lab_url" ] || url=$lab_url
else
    # Already running (its pid file says so): use it, and leave it running.
    "$labd" status "${rundir[@]}" >/dev/null 2>&1 || exit 1
    ours=0
    echo "labd is already running; using it"
    lab_url=$("$labd" status "${rundir[@]}" | sed -n 's/^lab: \(http:[^ ]*\) via .*/\1/p')
    [ -z "$lab_url" ] || url=$lab_url
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
