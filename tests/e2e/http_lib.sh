# Helpers for the http-* tests, sourced after lib.sh: start labd on a folder,
# send raw requests (curl would normalise the hostile ones), read answers.

port_open() { bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }

# start_labd ROOT [OPTION...]: `labd run` on 127.0.0.1 and a free port, one
# worker, run directory $LABD_RUN (access.log is there); sets PORT. Stopped
# (TERM, waited for) when the test exits. May be called again for another.
# START_AS=("${AS_UNPRIVILEGED[@]}") runs it as the unprivileged user.
start_labd() {
    local root=$1
    shift
    PORT=$(free_port)
    LABD_RUN=$RUN_DIR/labd-$PORT
    mkdir -p "$LABD_RUN"
    [ -z "${START_AS[*]:-}" ] || chmod 777 "$LABD_RUN"
    "${START_AS[@]}" "$LABD" run --bind 127.0.0.1 --port "$PORT" --root "$root" --run-dir "$LABD_RUN" \
        --workers 1 "$@" >"$LABD_RUN/labd.out" 2>&1 &
    LABD_PID=$!
    on_exit "kill $LABD_PID; wait $LABD_PID"
    wait_for 10 port_open "$PORT" || { cat "$LABD_RUN/labd.out"; fail "labd did not start"; }
}

# raw 'GET / HTTP/1.1\r\nHost: x\r\n\r\n': send these bytes (backslash escapes, as echo -e) on
# one connection, print everything that comes back until the server closes
# (at most 5 s). Add "Connection: close" to requests meant to end.
raw() {
    local fd
    exec {fd}<>"/dev/tcp/127.0.0.1/$PORT" || fail "cannot connect to port $PORT"
    printf '%b' "$1" >&"$fd"
    timeout 5 cat <&"$fd" || true
    exec {fd}<&-
}

# get PATH [HEADER...]: raw GET with Connection: close; the response on stdout.
get() {
    local path=$1 h req
    shift
    req="GET $path HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
    for h in "$@"; do req+="$h\r\n"; done
    raw "$req\r\n"
}

# status RESPONSE: the status code; hdr RESPONSE NAME: a header's value.
status() { printf '%s' "$1" | head -n 1 | cut -d' ' -f2; }
hdr() {
    printf '%s' "$1" | tr -d '\r' | sed '/^$/q' |
        awk -v n="$(echo "$2" | tr A-Z a-z)" -F': ' 'tolower($1) == n { sub(/^[^:]*: /, ""); print; exit }'
}
# body RESPONSE: what follows the empty line (text responses only).
body() { printf '%s' "$1" | tr -d '\r' | sed '1,/^$/d'; }
