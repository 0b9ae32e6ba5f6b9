# The servers of `make bench`, sourced by tests/bench/run.sh (which sets
# every variable used here): nginx, h2o and lighttpd as anchors, labd, and
# the floor; each start_* leaves PID[name] and PORT[name], or says why not.
# shellcheck shell=bash disable=SC2034 # the variables are run.sh's
# Workers of h2o and lighttpd run as labd's do when started as root.
SRV_USER=${SUDO_USER:-nobody}
SRV_GROUP=$(id -gn "$SRV_USER" 2>/dev/null || echo nogroup)

# Is PID a live process (not a zombie)?
alive() {
    local st
    st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)
    [ -n "$st" ] && [ "$st" != Z ]
}

# SIGTERM to a server's main process, then wait (10 s at most) until it and
# the children it had are gone (nginx's and lighttpd's masters leave after
# their workers); SIGKILL what is left, so nothing outlives the bench.
stop_tree() {
    local p=$1 kids q k left
    kids=$(pgrep -P "$p")
    kill -TERM "$p" 2>/dev/null
    for ((k = 0; k < 200; k++)); do
        left=0
        for q in $p $kids; do alive "$q" && left=1; done
        [ $left = 0 ] && break
        sleep 0.05
    done
    for q in $p $kids; do alive "$q" && kill -KILL "$q" 2>/dev/null; done
    wait "$p" 2>/dev/null # reap it when it is this shell's child
    return 0
}

stop_server() {
    local n=$1
    if [ "$n" = labd ]; then
        [ -n "$LABD_DIR" ] && timeout 15 "$LABD" stop --run-dir "$LABD_DIR" >/dev/null 2>&1
        LABD_DIR=
        LABD_OK=0
    fi
    [ -n "${PID[$n]:-}" ] && stop_tree "${PID[$n]}"
    unset "PID[$n]" "PORT[$n]"
}

# nginx as people deploy it for static files, with what labd does by default:
# workers run as the same user as labd's (so private temp dirs work too);
# sendfile, tcp_nopush, tcp_nodelay, keep-alive 5 s; deferred accept (labd's
# defer-accept), an open file cache checked every second (labd's
# file-cache-valid; nginx keeps descriptors and stat results, labd the bytes
# of small files); when labd runs accept cpu (its default on loopback), nginx's
# nearest: a reuseport socket per worker and worker_cpu_affinity auto (nginx
# has no SO_INCOMING_CPU, so its kernel choice is by hash); workers pinned to
# CPUs also with BENCH_AFFINITY=auto, for both. Access logs are OFF for every server (logging cost is a separate
# question from serving cost). The listen backlog is nginx's default, 511,
# as labd's.
# start_nginx CONNS: CONNS connections per worker (worker_connections).
start_nginx() {
    local maxc=$1 port d=$RUN/nginx-$1
    port=$(free_port)
    mkdir -p "$d/tmp"
    cat >"$d/nginx.conf" <<NGINX
$([ "$(id -u)" = 0 ] && echo "user $(id -un) $(id -gn);")
worker_processes $WORKERS;
$([ "$AFFINITY" = auto ] || [ "$LABD_ACCEPT" = cpu ] && echo "worker_cpu_affinity auto;")
pid $d/nginx.pid;
error_log $d/error.log warn;
worker_rlimit_nofile $(ulimit -n);
events { worker_connections $maxc; }
http {
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log off;
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    keepalive_timeout 5s;
    keepalive_requests 1000;
    open_file_cache max=1000 inactive=20s;
    open_file_cache_valid 1s;
    client_body_temp_path $d/tmp/body;
    proxy_temp_path $d/tmp/proxy;
    fastcgi_temp_path $d/tmp/fastcgi;
    uwsgi_temp_path $d/tmp/uwsgi;
    scgi_temp_path $d/tmp/scgi;
    server {
        listen 127.0.0.1:$port$([ "$DEFER_S" = 1 ] && echo " deferred")$(
            [ "$LABD_ACCEPT" = cpu ] || [ "$LABD_ACCEPT" = reuseport ] && echo " reuseport");
        root $WWW;
        index index.html;
    }
}
NGINX
    nginx -p "$d/" -e "$d/error.log" -c "$d/nginx.conf" >"$d/start.log" 2>&1 ||
        { WHY[nginx]="nginx failed to start: $(cat "$d/start.log")"; return 1; }
    wait_for 10 test -s "$d/nginx.pid" || { WHY[nginx]="nginx wrote no pid file"; return 1; }
    NGINX_PID=$(cat "$d/nginx.pid")
    NGINX_PORT=$port
    PID[nginx]=$NGINX_PID
    PORT[nginx]=$port
    wait_for 10 curl -sf -o /dev/null "http://127.0.0.1:$port$SMALL_PATH" ||
        { WHY[nginx]="nginx does not answer GET $SMALL_PATH"; return 1; }
}

# fill_in TEMPLATE OUT NAME=VALUE...: the template with each @NAME@ replaced.
fill_in() {
    local tpl=$1 out=$2 kv args=()
    shift 2
    for kv in "$@"; do
        args+=(-e "s|@${kv%%=*}@|${kv#*=}|g")
    done
    sed "${args[@]}" "$tpl" >"$out"
}

# A run directory h2o and lighttpd can write to once they are nobody.
server_dir() {
    mkdir -p "$1"
    [ "$(id -u)" = 0 ] && chown "$SRV_USER:$SRV_GROUP" "$1"
    return 0
}

# h2o and lighttpd: tests/bench/h2o.conf and lighttpd.conf say how each is
# set to match labd. Both run in the foreground as children of this shell.
# start_h2o CONNS: CONNS per worker thread (h2o's limit is for the process).
start_h2o() {
    local maxc=$1 port d=$RUN/h2o-$1 user=""
    command -v h2o >/dev/null || { WHY[h2o]="h2o not installed"; return 1; }
    port=$(free_port)
    server_dir "$d"
    [ "$(id -u)" = 0 ] && user="user: $SRV_USER"
    fill_in "$BENCH_SRC/h2o.conf" "$d/h2o.conf" WORKERS="$WORKERS" \
        MAX_CONNS=$((maxc * WORKERS)) DIR="$d" PORT="$port" WWW="$WWW" USER_LINE="$user"
    h2o -c "$d/h2o.conf" >"$d/start.log" 2>&1 &
    anchor_up h2o $! "$port" "$d"
}

# anchor_up NAME PID PORT DIR: NAME runs in the foreground as PID; wait until
# it serves the small file on PORT, or say why not (its last log lines) and
# stop it.
anchor_up() {
    local n=$1 port=$3 d=$4
    PID[$n]=$2
    PORT[$n]=$port
    wait_for 10 curl -sf -o /dev/null "http://127.0.0.1:$port$SMALL_PATH" && return 0
    WHY[$n]="$n does not answer: $(cat "$d/start.log" "$d/error.log" 2>/dev/null | tail -n 2 | tr '\n' ' ')"
    stop_server "$n"
    return 1
}

LIGHTTPD=$(command -v lighttpd || echo /usr/sbin/lighttpd)
# start_lighttpd CONNS: CONNS per worker process, twice as many descriptors
# (at most what ulimit -n allows: lighttpd cannot raise it without root's
# CAP_SYS_RESOURCE).
start_lighttpd() {
    local maxc=$1 port d=$RUN/lighttpd-$1 user="" fds
    [ -x "$LIGHTTPD" ] || { WHY[lighttpd]="lighttpd not installed"; return 1; }
    port=$(free_port)
    server_dir "$d"
    [ "$(id -u)" = 0 ] &&
        user="server.username = \"$SRV_USER\"\\nserver.groupname = \"$SRV_GROUP\""
    # labd's default defer-accept: 1 s here on Intel, 0 (off) elsewhere.
    fds=$((maxc * 2 + 64))
    [ "$fds" -le "$(ulimit -n)" ] || fds=$(ulimit -n)
    # lighttpd allows at most half its descriptors as connections.
    fill_in "$BENCH_SRC/lighttpd.conf" "$d/lighttpd.conf" WORKERS="$WORKERS" MAX_FDS="$fds" \
        MAX_CONNS=$((maxc < fds / 2 ? maxc : fds / 2)) DIR="$d" PORT="$port" WWW="$WWW" \
        DEFER=$DEFER_S USER_LINE="$user"
    "$LIGHTTPD" -D -f "$d/lighttpd.conf" >"$d/start.log" 2>&1 &
    anchor_up lighttpd $! "$port" "$d"
}

LABD_OK=0
LABD_WHY="labd not built"
# start_labd CONNS: CONNS connections per worker.
start_labd() {
    local maxc=$1 port d=$RUN/labd-$1
    "$LABD" --help >/dev/null 2>&1 || return 1
    port=$(free_port)
    mkdir -p "$d"
    if ! timeout 30 "$LABD" start --bind 127.0.0.1 --port "$port" --run-dir "$d" \
        --workers "$WORKERS" --root "$WWW" --access-log off --max-conns-per-worker "$maxc" \
        --cpu-affinity "$AFFINITY" >"$d/start.log" 2>&1; then
        LABD_WHY="labd start failed: $(head -c 200 "$d/start.log" | tr '\n' ' ')"
        return 1
    fi
    LABD_DIR=$d
    # How labd's workers share connections (its start line): nginx and the
    # floor are given the nearest they have.
    LABD_ACCEPT=$(sed -n 's/.* workers, accept \([a-z]*\) (.*/\1/p' "$d/error.log" | tail -n 1)
    LABD_PID=$(cat "$d"/*.pid 2>/dev/null | head -n 1)
    LABD_PORT=$port
    PID[labd]=$LABD_PID
    PORT[labd]=$port
    wait_for 10 curl -sf -o /dev/null "http://127.0.0.1:$port$SMALL_PATH" ||
        { LABD_WHY="labd does not answer GET $SMALL_PATH"; return 1; }
    # labd must give the same answers as the others before its speed means anything.
    local u c
    for u in "$SMALL_PATH" "$BIG_PATH"; do
        c=$(http_code "http://127.0.0.1:$port$u")
        [ "$c" = 200 ] || { LABD_WHY="labd answers $c to GET $u"; return 1; }
    done
    c=$(http_code -H 'Range: bytes=100-65635' "http://127.0.0.1:$port$BIG_PATH")
    [ "$c" = 206 ] || log "labd answers $c (not 206) to a Range request"
    LABD_OK=1
}

# Does server NAME serve the same files: the page and the MP3 whole (200,
# every byte) and a 64 KiB Range of the MP3 (206, 65 536 bytes)?
serves_files() {
    local n=$1 u=http://127.0.0.1:${PORT[$1]} got
    got=$(curl -s -o /dev/null -m 5 -w '%{http_code} %{size_download}' "$u$SMALL_PATH")
    [ "$got" = "200 $SMALL_SIZE" ] || { WHY[$n]="$n answers \"$got\" to GET $SMALL_PATH"; return 1; }
    got=$(curl -s -o /dev/null -m 5 -w '%{http_code} %{size_download}' "$u$BIG_PATH")
    [ "$got" = "200 $BIG_SIZE" ] || { WHY[$n]="$n answers \"$got\" to GET $BIG_PATH"; return 1; }
    got=$(curl -s -o /dev/null -m 5 -w '%{http_code} %{size_download}' \
        -H 'Range: bytes=100-65635' "$u$BIG_PATH")
    [ "$got" = "206 65536" ] || { WHY[$n]="$n answers \"$got\" to a 64 KiB Range"; return 1; }
}

# start_anchors CONNS: nginx (required: exits when it fails) and the other
# anchors of BENCH_ANCHORS that start and serve the files. Sets UP (the
# anchors to compare with) and MISSING (why the others are not, for the
# detail column).
start_anchors() {
    local a
    UP=
    MISSING=
    for a in $ANCHORS; do
        if "start_$a" "$1" && serves_files "$a"; then
            UP+=" $a"
        else
            [ "$a" = nginx ] && { log "${WHY[nginx]:-nginx did not start}"; exit 1; }
            stop_server "$a"
            log "${WHY[$a]}: comparing without it"
            MISSING+="; ${WHY[$a]}"
        fi
    done
    UP=${UP# }
}

# The floor: built from tests/bench/floor.c, its response as long as labd's
# (status line, header and body) to the small file.
FLOOR_OK=0
FLOOR_WHY="floor left out (BENCH_FLOOR=0)"
FLOOR=$OUT/floor
start_floor() {
    local port total d=$RUN/floor
    mkdir -p "$d"
    cc -std=gnu11 -O2 -Wall -Wextra -Werror -o "$FLOOR" "$BENCH_SRC/floor.c" >"$d/build.log" 2>&1 ||
        { FLOOR_WHY="floor.c does not build: $(head -c 150 "$d/build.log" | tr '\n' ' ')"; return 1; }
    total=$(curl -s -o /dev/null -m 5 -w '%{size_header} %{size_download}' \
        "http://127.0.0.1:$LABD_PORT$SMALL_PATH" | awk '{print $1 + $2}')
    port=$(free_port)
    "$FLOOR" -p "$port" -t "$total" -w "$WORKERS" -d "$DEFER_S" \
        -a "$([ "$LABD_ACCEPT" = cpu ] && echo cpu || echo exclusive)" >"$d/start.log" 2>&1 &
    PID[floor]=$!
    PORT[floor]=$port
    wait_for 10 curl -sf -o /dev/null "http://127.0.0.1:$port/" ||
        { FLOOR_WHY="floor does not answer: $(head -c 150 "$d/start.log")"; stop_server floor; return 1; }
    FLOOR_BYTES=$(curl -s -o /dev/null -m 5 -w '%{size_header} %{size_download}' \
        "http://127.0.0.1:$port/" | awk '{print $1 + $2}')
    FLOOR_NOTE="floor response $FLOOR_BYTES B, labd's $total B"
    FLOOR_OK=1
}
