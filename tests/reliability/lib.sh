# Helpers for the reliability tests (tests/e2e/rel-*.test). Source it after
# tests/e2e/lib.sh. Gives: $REL (this folder), $HOSTILE (the python client),
# rel_build NAME (compile tests/reliability/NAME.c into $TEST_TMP/NAME),
# labd_up [ARGS] (start labd on a free port in $RUN_DIR, stop it on exit),
# sb (scoreboard dump), worker_pids, master_pid, vmrss PID, get PATH.

REL=$SRC/tests/reliability
# The interpreter itself, not a version-manager shim that costs a shell per call.
PY=$(python3 -c 'import sys; print(sys.executable)')
HOSTILE="$PY $REL/hostile.py"

# A binary that cannot even print its help is a broken build: fail, never skip.
need_labd() {
    "$LABD" --help >/dev/null 2>&1 || fail "$LABD --help failed (exit $?): not a working labd"
}
need_labmon() {
    "$LABMON" --help >/dev/null 2>&1 || fail "$LABMON --help failed (exit $?): not a working labmon"
}

rel_build() {
    [ -x "$TEST_TMP/$1" ] && return 0
    cc -std=gnu11 -O2 -Wall -Wextra -Werror -I"$SRC" -o "$TEST_TMP/$1" "$REL/$1.c" ||
        fail "cannot build $REL/$1.c"
}

is_asan() { case $1 in */asan/*) return 0 ;; esac; return 1; }

# labd_up [extra labd options]: start on $PORT (picked here) with $WORKERS
# (default two) workers, the document root $ROOT (default: the bundled site).
labd_up() {
    PORT=$(free_port)
    : "${ROOT:=$SRC/www}"
    "$LABD" start --port "$PORT" --bind 127.0.0.1 --run-dir "$RUN_DIR" --root "$ROOT" \
        --workers "${WORKERS:-2}" "$@" >"$TEST_TMP/start.out" 2>&1 ||
        fail "labd start: $(cat "$TEST_TMP/start.out")"
    on_exit "'$LABD' stop --fast --run-dir '$RUN_DIR'"
    rel_build sbdump
    wait_for 10 test -s "$RUN_DIR/labd.scoreboard" || fail "no scoreboard in $RUN_DIR"
    wait_for 10 workers_ready "${WORKERS:-2}" || fail "workers not ready: $(sb)"
}

sb() { "$TEST_TMP/sbdump" "$RUN_DIR/labd.scoreboard"; }
workers_ready() { [ "$(sb | grep -c 'state ready')" -ge "$1" ]; }
worker_pids() { sb | awk '$1 == "worker" && $6 == "ready" {print $4}'; }
master_pid() { sb | awk '$1 == "total" {print $7}'; }
total_conns() { sb | awk '$1 == "total" {print $3}'; }
conns_zero() { [ "$(total_conns)" = 0 ]; }
vmrss() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }

# get PATH: status code of one GET (curl), "000" when the request failed.
get() {
    curl -s -o /dev/null -w '%{http_code}' --max-time 10 "http://127.0.0.1:$PORT$1" || true
}

# Every process of this labd (master and workers) still alive.
labd_alive() {
    local m
    m=$(master_pid)
    [ -n "$m" ] && pid_alive "$m"
}

# A process that exists and is not a zombie (daemons are reparented to an
# init that may reap late, and kill -0 succeeds on a zombie).
pid_alive() {
    [ -r "/proc/$1/status" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null
}

# Process-level fault tests (signals, stop, log files) exercise no new input
# parsing, so `make check` runs them on the release build only; `make stress`
# sets REL_ALL_BUILDS=1 to run them under ASan+UBSan as well.
release_only() {
    if is_asan "$LABD" && [ -z "${REL_ALL_BUILDS:-}" ]; then
        skip "process-level fault test: release build only in make check (make stress runs both)"
    fi
}
