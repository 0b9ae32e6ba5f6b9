# Helpers for the labd- end-to-end tests (source after lib.sh): one server per
# test on a free port, its own run dir and site, stopped by the EXIT trap.
PORT=$(free_port)
SITE=$TEST_TMP/site
mkdir -p "$SITE"
echo '<h1>labd e2e</h1>' >"$SITE/index.html"

# labd COMMAND [OPTIONS]: always this test's run dir.
labd() { "$LABD" "$@" --run-dir "$RUN_DIR"; }
labd_start() { labd start --port "$PORT" --root "$SITE" --workers 2 "$@"; }
on_exit '"$LABD" stop --fast --run-dir "$RUN_DIR"'

# Per-process helpers: the master's pid, the worker pids (titles carry the run dir).
master_pid() { pgrep -f "^labd: master $RUN_DIR\$"; }
worker_pids() { pgrep -f "^labd: worker [0-9]+ $RUN_DIR\$" | sort; }

http_code() { curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$PORT${1:-/}"; }

# The port can be bound again (IPv4 and IPv6 wildcard, as labd binds it).
port_free() {
    python3 - "$PORT" <<'PY'
import socket, sys
p = int(sys.argv[1])
s = socket.socket(socket.AF_INET6)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
s.bind(("::", p)); s.listen(1)
PY
}
