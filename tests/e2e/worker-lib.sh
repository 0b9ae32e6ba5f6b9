# Helpers for the worker- end-to-end tests (source after lib.sh): one labd on
# a free loopback port with its own run dir and a small site, stopped by the
# EXIT trap.
PORT=$(free_port)
SITE=$TEST_TMP/site
mkdir -p "$SITE/sub"
printf '<h1>worker e2e</h1>\n' >"$SITE/index.html"
printf 'AAAA' >"$SITE/a.txt"
printf 'BBBBBBBB' >"$SITE/b.txt"
printf 'sub\n' >"$SITE/sub/index.html"
ACCESS_LOG=$RUN_DIR/access.log

# worker_start [OPTIONS]: labd start on this test's port, run dir and site.
worker_start() {
    "$LABD" start --port "$PORT" --bind 127.0.0.1 --run-dir "$RUN_DIR" --root "$SITE" \
        --access-log "$ACCESS_LOG" "$@" >/dev/null || fail "labd start failed"
}
on_exit '"$LABD" stop --fast --run-dir "$RUN_DIR"'

# raw [OPTIONS] REQUEST...: send raw requests (python escapes like \r\n work),
# print what came back. See worker_raw.py for the options.
raw() { python3 "$SRC/tests/e2e/worker_raw.py" "$PORT" "$@"; }

# Lines in the access log (it is written once per event-loop turn).
log_lines() { [ -f "$ACCESS_LOG" ] && wc -l <"$ACCESS_LOG" || echo 0; }

# One line from a raw response on stdin: the header/body break becomes
# <BODY>, every other line end "|", so header order does not matter to a regex.
flatten() {
    python3 -c 'import sys; t = sys.stdin.read().rstrip("\n"); print(t.replace("\r\n\r\n", "<BODY>").replace("\r\n", "|").replace("\n", "|"))'
}
