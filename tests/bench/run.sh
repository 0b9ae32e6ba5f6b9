#!/usr/bin/env bash
# Side-by-side benchmarks behind `make bench`: labd vs nginx (S1-S4), labmon
# vs tshark and tcpdump (M1-M2), the TUI view (M3), the HTML report (M4) and the
# lab wire vs the plain lab link (L1, as root). Prints one table and writes it to
# build/bench/results.md and results.csv.
#
#   tests/bench/run.sh /abs/path/labd /abs/path/labmon
#
# Every comparison alternates the contenders (A B A B ...) for BENCH_ROUNDS
# rounds on the same files with the same worker count, and reports the
# median of the per-round ratios: absolute numbers drift on a shared machine,
# ratios taken seconds apart drift much less.
#
# Environment (defaults in brackets):
#   BENCH_ROUNDS [3]          rounds per comparison (5 gives steadier medians, ~13 min)
#   BENCH_WORKERS [nproc]     worker processes for labd and for nginx
#   BENCH_DURATION [5]        seconds per wrk run in S1-S3
#   BENCH_LIVE_DURATION [10]  seconds per wrk run in M2
#   BENCH_PACKETS [500000]    packets in the M1 "mixed" capture (cached in build/bench/)
#   BENCH_CLOSE_PACKETS [270000] packets in the M1 "close" capture (short connections)
#   BENCH_QUICK=1             smoke test: 2 s runs, 4 s live, 100 000 packets
#   BENCH_ONLY="S1 M1"        run only these groups (S1 S2 S3 S4 M1 M2 M3 M4 L1)
#   BENCH_WARMUP=0            skip the 1 s warm-up of each server
#   BENCH_OUT [build/bench]   where results, the capture and run dirs go
#   BENCH_AFFINITY [off]      auto: both servers pin each worker to a CPU
#
# Servers listen on 127.0.0.1 only, on free ports; everything started here
# is stopped by the EXIT trap (by pid).
set -u

LABD=${1:?usage: run.sh LABD LABMON}
LABMON=${2:?usage: run.sh LABD LABMON}
SRC=$(cd "$(dirname "$0")/../.." && pwd)
BENCH_SRC=$SRC/tests/bench
OUT=${BENCH_OUT:-$SRC/build/bench}
ROUNDS=${BENCH_ROUNDS:-3}
WORKERS=${BENCH_WORKERS:-$(nproc)}
if [ "${BENCH_QUICK:-0}" = 1 ]; then
    DUR=${BENCH_DURATION:-2}
    LIVE_DUR=${BENCH_LIVE_DURATION:-4}
    PACKETS=${BENCH_PACKETS:-100000}
else
    DUR=${BENCH_DURATION:-5}
    LIVE_DUR=${BENCH_LIVE_DURATION:-10}
    PACKETS=${BENCH_PACKETS:-500000}
fi
ONLY=${BENCH_ONLY:-S1 S2 S3 S4 M1 M2 M3 M4 L1}
AFFINITY=${BENCH_AFFINITY:-off}
case $AFFINITY in auto | off) ;; *) echo "run.sh: BENCH_AFFINITY is auto or off" >&2; exit 2 ;; esac
CONNS=100        # wrk -c for S1, S2, M2
BIG_CONNS=20     # wrk -c for the whole-file download in S3
RANGE_CONNS=1000 # concurrent Range requests in S3
SNAPLEN=512      # M1 "mixed" capture: headers and the start of each body

export BENCH_LUA_DIR=$BENCH_SRC
RUN=$OUT/run
mkdir -p "$OUT"
rm -rf "$RUN"
mkdir -p "$RUN"
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

# ---------------------------------------------------------------- helpers --

. "$BENCH_SRC/lib.sh"
log() { printf '# %s\n' "$*" >&2; }
want() { [[ " $ONLY " == *" $1 "* ]]; }

# Poll CMD every 0.05 s for at most SECS seconds.
wait_for() {
    local secs=$1
    shift
    local end=$(($(date +%s%N) + secs * 1000000000))
    until "$@" >/dev/null 2>&1; do
        [ "$(date +%s%N)" -lt $end ] || return 1
        sleep 0.05
    done
}

http_code() { curl -s -o /dev/null -m 5 -w '%{http_code}' "$@"; }

median() {
    printf '%s\n' "$@" | grep -E '^[0-9.eE+-]+$' | sort -g |
        awk '{a[NR] = $1} END {
            if (NR == 0) { print "n/a"; exit }
            if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

# A / B with 4 decimals, n/a when either is missing or B is 0.
div() {
    awk -v a="$1" -v b="$2" 'BEGIN {
        if (a !~ /^[0-9.eE+-]+$/ || b !~ /^[0-9.eE+-]+$/ || b + 0 == 0) print "n/a";
        else printf "%.4f\n", a / b }'
}

# fmt VALUE DECIMALS
fmt() {
    awk -v v="$1" -v d="$2" 'BEGIN {
        if (v !~ /^[0-9.eE+-]+$/) print "n/a"; else printf "%.*f\n", d, v }'
}

# verdict VALUE OP LIMIT -> pass, FAIL or n/a
verdict() {
    awk -v v="$1" -v op="$2" -v l="$3" 'BEGIN {
        if (v !~ /^[0-9.eE+-]+$/) { print "n/a"; exit }
        v += 0; l += 0
        if (op == ">=") ok = v >= l; else if (op == "<=") ok = v <= l;
        else if (op == "<") ok = v < l; else if (op == "==") ok = v == l;
        print ok ? "pass" : "FAIL" }'
}

# One result row: ID, figure, value, target, result, detail (free text).
ROWS=()
row() {
    ROWS+=("$1"$'\t'"$2"$'\t'"$3"$'\t'"$4"$'\t'"$5"$'\t'"${6:-}")
    printf '%-3s %-42s %-10s %-12s %-5s %s\n' "$1" "$2" "$3" "$4" "$5" "${6:-}"
}
na_rows() { # na_rows REASON ID FIGURE TARGET [ID FIGURE TARGET ...]
    local reason=$1
    shift
    while [ $# -ge 3 ]; do
        row "$1" "$2" "n/a" "$3" "n/a" "$reason"
        shift 3
    done
}

# Key=value field from a "BENCH k=v k=v" line.
kv() { tr ' ' '\n' <<<"$1" | awk -F= -v k="$2" '$1 == k {print $2}'; }

# wrk_run SCRIPT URL [wrk options] -> the key=value summary of one run.
wrk_run() {
    local script=$1 url=$2
    shift 2
    local out
    out=$(timeout -k 5 $((DUR > LIVE_DUR ? DUR * 3 + 30 : LIVE_DUR * 3 + 30)) \
        wrk "$@" -s "$script" "$url" 2>&1)
    grep '^BENCH ' <<<"$out" | tail -n 1 | cut -d' ' -f2-
    grep -q '^BENCH ' <<<"$out" || log "wrk failed: $(tail -n 3 <<<"$out" | tr '\n' ' ')"
}

# Sum of VmRSS and of Pss (kB) over a process and its children.
mem_of() {
    local master=$1 rss=0 pss=0 p v
    for p in $master $(pgrep -P "$master"); do
        v=$(awk '/^VmRSS:/ {print $2}' "/proc/$p/status" 2>/dev/null)
        rss=$((rss + ${v:-0}))
        v=$(awk '/^Pss:/ {print $2}' "/proc/$p/smaps_rollup" 2>/dev/null)
        pss=$((pss + ${v:-0}))
    done
    echo "$rss $pss"
}

# utime + stime of a live process, in clock ticks.
cpu_ticks() { sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | awk '{print $12 + $13}'; }
CLK_TCK=$(getconf CLK_TCK)

# utime + stime of a server's master and workers, in clock ticks.
server_ticks() {
    local t=0 p v
    for p in $1 $(pgrep -P "$1"); do
        v=$(cpu_ticks "$p")
        t=$((t + ${v:-0}))
    done
    echo $t
}

# cpu_per_req TICKS_BEFORE TICKS_AFTER REQUESTS -> microseconds of CPU per request
cpu_per_req() {
    awk -v a="$1" -v b="$2" -v n="$3" -v h="$CLK_TCK" 'BEGIN {
        if (n + 0 > 0) printf "%.1f\n", (b - a) / h * 1e6 / n; else print "n/a" }'
}

# -------------------------------------------------------------- processes --

BG_PIDS=()
NGINX_PID=
LABD_STARTED=0
cleanup() {
    local p
    for p in "${BG_PIDS[@]}"; do
        kill -TERM "$p" 2>/dev/null
    done
    if [ -n "$NGINX_PID" ] && kill -TERM "$NGINX_PID" 2>/dev/null; then
        # nginx's master leaves after its workers: wait, so nothing outlives us.
        wait_for 10 sh -c "! kill -0 $NGINX_PID" || kill -KILL "$NGINX_PID" 2>/dev/null
    fi
    [ $LABD_STARTED = 1 ] && timeout 15 "$LABD" stop --run-dir "$RUN/labd" >/dev/null 2>&1
    if [ -n "${LABD_PID:-}" ] && kill -0 "$LABD_PID" 2>/dev/null; then
        kill -TERM "$LABD_PID" 2>/dev/null
        sleep 1
        kill -KILL "$LABD_PID" 2>/dev/null
    fi
    return 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The files both servers serve: a copy of the bundled site. Until www/ has
# its profile page and MP3, stand-ins of similar size keep the harness honest.
WWW=$RUN/www
mkdir -p "$WWW"
cp -R "$SRC/www/." "$WWW/" 2>/dev/null
SMALL_PATH=/index.html
if [ ! -f "$WWW/index.html" ]; then
    log "www/index.html missing: using a stand-in profile page"
    {
        echo "<!doctype html><title>Profile</title>"
        for ((i = 0; i < 60; i++)); do echo "<p>Ada Student, ada@example.edu</p>"; done
    } >"$WWW/index.html"
fi
BIG_FILE=audio/intro.mp3
[ -f "$WWW/$BIG_FILE" ] ||
    BIG_FILE=$(find "$WWW" -name '*.mp3' -type f -printf '%s %P\n' | sort -n | tail -n 1 | cut -d' ' -f2-)
if [ -z "$BIG_FILE" ]; then
    log "no MP3 in www/: using a 4 MB stand-in"
    mkdir -p "$WWW/audio"
    head -c 4000000 /dev/urandom >"$WWW/audio/intro.mp3"
    BIG_FILE=audio/intro.mp3
fi
# Percent-encode the path so non-ASCII names (www/cn/) work in a URL.
BIG_PATH=/$(url_path "$BIG_FILE")
BIG_SIZE=$(stat -c %s "$WWW/$BIG_FILE")
SMALL_SIZE=$(stat -c %s "$WWW${SMALL_PATH}")
chmod -R a+rX "$WWW"
export BENCH_FILE_SIZE=$BIG_SIZE

# nginx as people deploy it for static files, with what labd does by default:
# workers run as the same user as labd's (so private temp dirs work too);
# sendfile, tcp_nopush, tcp_nodelay, keep-alive 5 s; deferred accept (labd's
# defer-accept), an open file cache checked every second (labd's
# file-cache-valid; nginx keeps descriptors and stat results, labd the bytes
# of small files); workers pinned to CPUs only with BENCH_AFFINITY=auto, for
# both. Access logs are OFF for both servers (logging cost is a separate
# question from serving cost).
start_nginx() {
    NGINX_PORT=$(free_port)
    local d=$RUN/nginx
    mkdir -p "$d/tmp"
    cat >"$d/nginx.conf" <<EOF
$([ "$(id -u)" = 0 ] && echo "user $(id -un) $(id -gn);")
worker_processes $WORKERS;
$([ "$AFFINITY" = auto ] && echo "worker_cpu_affinity auto;")
pid $d/nginx.pid;
error_log $d/error.log warn;
worker_rlimit_nofile $(ulimit -n);
events { worker_connections 4096; }
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
        listen 127.0.0.1:$NGINX_PORT deferred;
        root $WWW;
        index index.html;
    }
}
EOF
    nginx -p "$d/" -e "$d/error.log" -c "$d/nginx.conf" >"$d/start.log" 2>&1 ||
        { log "nginx failed to start: $(cat "$d/start.log")"; return 1; }
    wait_for 10 test -s "$d/nginx.pid" || return 1
    NGINX_PID=$(cat "$d/nginx.pid")
    wait_for 10 curl -sf -o /dev/null "http://127.0.0.1:$NGINX_PORT$SMALL_PATH"
}

LABD_OK=0
LABD_WHY="labd not built"
start_labd() {
    "$LABD" --help >/dev/null 2>&1 || return 1
    LABD_PORT=$(free_port)
    local d=$RUN/labd
    mkdir -p "$d"
    if ! timeout 30 "$LABD" start --bind 127.0.0.1 --port "$LABD_PORT" --run-dir "$d" \
        --workers "$WORKERS" --root "$WWW" --access-log off --max-conns-per-worker 4096 \
        --cpu-affinity "$AFFINITY" >"$d/start.log" 2>&1; then
        LABD_WHY="labd start failed: $(head -c 200 "$d/start.log" | tr '\n' ' ')"
        return 1
    fi
    LABD_STARTED=1
    LABD_PID=$(cat "$d"/*.pid 2>/dev/null | head -n 1)
    wait_for 10 curl -sf -o /dev/null "http://127.0.0.1:$LABD_PORT$SMALL_PATH" ||
        { LABD_WHY="labd does not answer GET $SMALL_PATH"; return 1; }
    LABD_OK=1
}

LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
LABMON_OK=0
"$LABMON" --help >/dev/null 2>&1 && LABMON_OK=1

echo "bench: $(nproc) CPUs ($(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo))," \
    "$WORKERS workers each (CPU affinity $AFFINITY), $ROUNDS rounds, ${DUR}s runs, access logs off"
echo "bench: files: $SMALL_PATH ($SMALL_SIZE B), $BIG_PATH ($BIG_SIZE B)"

if want S1 || want S2 || want S3 || want S4 || want M1; then
    start_nginx || { log "nginx did not start"; exit 1; }
fi
if want S1 || want S2 || want S3 || want S4 || want M2; then
    start_labd || log "$LABD_WHY"
fi

# Both servers must give the same answers before their speed means anything.
if [ $LABD_OK = 1 ]; then
    for u in "$SMALL_PATH" "$BIG_PATH"; do
        c=$(http_code "http://127.0.0.1:$LABD_PORT$u")
        [ "$c" = 200 ] || { LABD_OK=0; LABD_WHY="labd answers $c to GET $u"; }
    done
    c=$(http_code -H 'Range: bytes=100-65635' "http://127.0.0.1:$LABD_PORT$BIG_PATH")
    [ "$c" = 206 ] || log "labd answers $c (not 206) to a Range request"
    [ $LABD_OK = 1 ] || log "$LABD_WHY"
fi
printf '%-3s %-42s %-10s %-12s %-5s %s\n' id figure value target result detail

# ---------------------------------------------------------- S1, S2, S3 --

# compare ID FIGURE TARGET_OP TARGET SCRIPT PATH wrk-options...
# Alternates labd and nginx; the figure is the median of labd/nginx req/s
# (or MB/s for S3) per round. Leaves per-run lines in $RUN/ID.runs.
compare_servers() {
    local id=$1 fig=$2 key=$3 script=$4 path=$5
    log "$id: $fig, labd and nginx alternating, $ROUNDS rounds"
    shift 5
    local r a b t0 ratios=() p99r=() av=() bv=() ap=() bp=() ac=() bc=() cr=() errs=0
    : >"$RUN/$id.runs"
    for ((r = 1; r <= ROUNDS; r++)); do
        t0=$(server_ticks "$LABD_PID")
        a=$(wrk_run "$script" "http://127.0.0.1:$LABD_PORT$path" "$@")
        a="$a cpu_us=$(cpu_per_req "$t0" "$(server_ticks "$LABD_PID")" "$(kv "$a" requests)")"
        t0=$(server_ticks "$NGINX_PID")
        b=$(wrk_run "$script" "http://127.0.0.1:$NGINX_PORT$path" "$@")
        b="$b cpu_us=$(cpu_per_req "$t0" "$(server_ticks "$NGINX_PID")" "$(kv "$b" requests)")"
        echo "round $r labd  $a" >>"$RUN/$id.runs"
        echo "round $r nginx $b" >>"$RUN/$id.runs"
        ratios+=("$(div "$(kv "$a" "$key")" "$(kv "$b" "$key")")")
        p99r+=("$(div "$(kv "$a" p99_us)" "$(kv "$b" p99_us)")")
        cr+=("$(div "$(kv "$a" cpu_us)" "$(kv "$b" cpu_us)")")
        av+=("$(kv "$a" "$key")")
        bv+=("$(kv "$b" "$key")")
        ap+=("$(kv "$a" p99_us)")
        bp+=("$(kv "$b" p99_us)")
        ac+=("$(kv "$a" cpu_us)")
        bc+=("$(kv "$b" cpu_us)")
        errs=$((errs + $(kv "$a" sock_errors) + $(kv "$a" status_errors) + 0))
    done
    CMP_RATIO=$(median "${ratios[@]}")
    CMP_P99_RATIO=$(median "${p99r[@]}")
    CMP_CPU_RATIO=$(median "${cr[@]}")
    CMP_A=$(median "${av[@]}")
    CMP_B=$(median "${bv[@]}")
    CMP_AP99=$(median "${ap[@]}")
    CMP_BP99=$(median "${bp[@]}")
    CMP_ACPU=$(median "${ac[@]}")
    CMP_BCPU=$(median "${bc[@]}")
    CMP_ERRS=$errs
}

# CPU per request of the server (master + workers), the figure least
# disturbed by other load on a shared machine; in the detail column.
cpu_note() {
    echo "; CPU/req labd $(fmt "$CMP_ACPU" 1) us, nginx $(fmt "$CMP_BCPU" 1) us (ratio $(fmt "$CMP_CPU_RATIO" 2))"
}

err_note() { [ "$CMP_ERRS" -gt 0 ] && echo ", labd errors: $CMP_ERRS" || true; }

# Warm both servers (page cache, lazy initialisation) before measuring.
if [ $LABD_OK = 1 ] && [ "${BENCH_WARMUP:-1}" = 1 ] && { want S1 || want S2 || want S3; }; then
    for port in $LABD_PORT $NGINX_PORT; do
        wrk -t2 -c10 -d1s "http://127.0.0.1:$port$SMALL_PATH" >/dev/null 2>&1
        wrk -t2 -c4 -d1s "http://127.0.0.1:$port$BIG_PATH" >/dev/null 2>&1
    done
fi

if want S1; then
    if [ $LABD_OK = 1 ]; then
        compare_servers S1 "small file keep-alive" rps "$BENCH_SRC/report.lua" "$SMALL_PATH" \
            -t2 -c$CONNS -d${DUR}s --latency
        row S1 "req/s labd/nginx, keep-alive, -c$CONNS" "$(fmt "$CMP_RATIO" 3)" ">= 1.10" \
            "$(verdict "$CMP_RATIO" ">=" 1.10)" \
            "labd $(fmt "$CMP_A" 0) nginx $(fmt "$CMP_B" 0) req/s$(err_note)$(cpu_note)"
        row S1 "p99 latency labd/nginx" "$(fmt "$CMP_P99_RATIO" 3)" "<= 1.00" \
            "$(verdict "$CMP_P99_RATIO" "<=" 1.00)" \
            "labd $(fmt "$CMP_AP99" 0) us, nginx $(fmt "$CMP_BP99" 0) us"
    else
        na_rows "$LABD_WHY" S1 "req/s labd/nginx, keep-alive, -c$CONNS" ">= 1.10" \
            S1 "p99 latency labd/nginx" "<= 1.00"
    fi
fi

if want S2; then
    if [ $LABD_OK = 1 ]; then
        compare_servers S2 "small file Connection: close" rps "$BENCH_SRC/report.lua" \
            "$SMALL_PATH" -t2 -c$CONNS -d${DUR}s --latency -H 'Connection: close'
        row S2 "req/s labd/nginx, Connection: close" "$(fmt "$CMP_RATIO" 3)" ">= 1.00" \
            "$(verdict "$CMP_RATIO" ">=" 1.00)" \
            "labd $(fmt "$CMP_A" 0) nginx $(fmt "$CMP_B" 0) req/s$(err_note)$(cpu_note)"
    else
        na_rows "$LABD_WHY" S2 "req/s labd/nginx, Connection: close" ">= 1.00"
    fi
fi

if want S3; then
    if [ $LABD_OK = 1 ]; then
        compare_servers S3 "whole MP3" mbps "$BENCH_SRC/report.lua" "$BIG_PATH" \
            -t2 -c$BIG_CONNS -d${DUR}s
        row S3 "MB/s labd/nginx, whole MP3, -c$BIG_CONNS" "$(fmt "$CMP_RATIO" 3)" ">= 0.95" \
            "$(verdict "$CMP_RATIO" ">=" 0.95)" \
            "labd $(fmt "$CMP_A" 0) nginx $(fmt "$CMP_B" 0) MB/s$(err_note)$(cpu_note)"
        compare_servers S3r "64 KiB ranges" mbps "$BENCH_SRC/range.lua" "$BIG_PATH" \
            -t2 -c$RANGE_CONNS -d${DUR}s --latency
        row S3 "MB/s labd/nginx, $RANGE_CONNS concurrent 64K ranges" \
            "$(fmt "$CMP_RATIO" 3)" ">= 0.95" "$(verdict "$CMP_RATIO" ">=" 0.95)" \
            "labd $(fmt "$CMP_A" 0) nginx $(fmt "$CMP_B" 0) MB/s, p99 $(fmt "$CMP_AP99" 0)/$(fmt "$CMP_BP99" 0) us$(err_note)$(cpu_note)"
    else
        na_rows "$LABD_WHY" S3 "MB/s labd/nginx, whole MP3, -c$BIG_CONNS" ">= 0.95" \
            S3 "MB/s labd/nginx, $RANGE_CONNS concurrent 64K ranges" ">= 0.95"
    fi
fi

# S4: memory of master + workers after the load above. RSS counts shared
# pages (libc, the binary) once per process; PSS splits them fairly.
if want S4; then
    if [ $LABD_OK = 1 ] && [ -n "${LABD_PID:-}" ]; then
        read -r lr lp < <(mem_of "$LABD_PID")
        read -r nr np < <(mem_of "$NGINX_PID")
        ratio=$(div "$lr" "$nr")
        row S4 "RSS master+workers labd/nginx" "$(fmt "$ratio" 2)" "<= 1.00" \
            "$(verdict "$ratio" "<=" 1.00)" "labd $lr kB, nginx $nr kB (VmRSS sum)"
        ratio=$(div "$lp" "$np")
        row S4 "PSS master+workers labd/nginx" "$(fmt "$ratio" 2)" "<= 1.00" \
            "$(verdict "$ratio" "<=" 1.00)" "labd $lp kB, nginx $np kB (smaps_rollup Pss sum)"
    else
        why=$LABD_WHY
        [ $LABD_OK = 1 ] && why="no labd pid file in the run dir"
        na_rows "$why" S4 "RSS master+workers labd/nginx" "<= 1.00"
    fi
fi

# ------------------------------------------------------------------ M1 --

# Two captures of real loopback traffic against nginx, each made once and
# cached in $OUT: "mixed", keep-alive and Connection: close requests for the
# profile page plus Range requests for the MP3, cut at 512 bytes a packet;
# "close", Connection: close requests only (about 10 packets a connection, a
# new flow record every few packets), cut at 256 bytes.
if [ "${BENCH_QUICK:-0}" = 1 ]; then
    CLOSE_PACKETS=${BENCH_CLOSE_PACKETS:-54000}
else
    CLOSE_PACKETS=${BENCH_CLOSE_PACKETS:-270000}
fi

# m1_capture FILE PACKETS SNAPLEN SHAPE: capture PACKETS packets of SHAPE's
# load into FILE, unless it is there already.
m1_capture() {
    local f=$1 packets=$2 snaplen=$3 shape=$4 wpids=() p url="http://127.0.0.1:$NGINX_PORT"
    [ -s "$f" ] && return 0
    log "M1: capturing $packets packets of loopback traffic ($shape) into $f"
    timeout -k 5 180 tcpdump -i lo -nn -s "$snaplen" -B 16384 -c "$packets" -w "$f.tmp" \
        "tcp port $NGINX_PORT" 2>"$RUN/capture.log" &
    local tpid=$!
    BG_PIDS+=("$tpid")
    wait_for 10 grep -q 'listening on' "$RUN/capture.log" || return 1
    if [ "$shape" = mixed ]; then
        wrk -t1 -c50 -d170s "$url$SMALL_PATH" >/dev/null 2>&1 &
        wpids+=($!)
        wrk -t1 -c10 -d170s -s "$BENCH_SRC/range.lua" "$url$BIG_PATH" >/dev/null 2>&1 &
        wpids+=($!)
    fi
    wrk -t1 -c20 -d170s -H 'Connection: close' "$url$SMALL_PATH" >/dev/null 2>&1 &
    wpids+=($!)
    BG_PIDS+=("${wpids[@]}")
    wait "$tpid"
    for p in "${wpids[@]}"; do kill -TERM "$p" 2>/dev/null; done
    for p in "${wpids[@]}"; do wait "$p" 2>/dev/null; done
    grep -qE "^$packets packets captured" "$RUN/capture.log" ||
        { log "capture incomplete: $(tr '\n' ' ' <"$RUN/capture.log")"; return 1; }
    mv "$f.tmp" "$f"
}

# One run of a command, output discarded: "WALL CPU" in seconds, where CPU is
# user + system time of the command (bash's `times` in a subshell), or
# "fail fail". The figures use CPU time: every contender here is one
# single-threaded process, so on an idle machine wall ~ CPU, and CPU time is
# what stays put while other engineers load the machine.
timed() {
    local s e t
    s=$(date +%s%N)
    t=$(
        "$@" >/dev/null 2>&1 || exit 1
        times # not in a pipe: its second line is this subshell's children
    ) || { echo "fail fail"; return; }
    t=${t##*$'\n'}
    e=$(date +%s%N)
    awk -v a="$s" -v b="$e" -v t="$t" 'BEGIN {
        n = split(t, f, " "); c = 0
        for (i = 1; i <= n; i++) { split(f[i], p, "m"); sub("s", "", p[2]); c += p[1] * 60 + p[2] }
        printf "%.4f %.4f\n", (b - a) / 1e9, c }'
}

# m1_shape SHAPE PACKETS SNAPLEN: labmon -r --json, tshark -z conv,tcp,
# tcpdump -nn -r and the read floor (tcpdump -r -w /dev/null) alternated on
# SHAPE's capture; three rows, ratios of CPU time per round (medians).
m1_shape() {
    local shape=$1 packets=$2 snaplen=$3 cap r l t p f m det lm_ok=0 why=
    local tag=" ($shape)"
    cap=$OUT/capture-$([ "$shape" = mixed ] || echo "$shape-")$packets.pcap
    if ! m1_capture "$cap" "$packets" "$snaplen" "$shape"; then
        na_rows "could not make the capture" M1 "labmon -r --json / tshark -z conv,tcp$tag" "<= 0.050"
        return
    fi
    log "M1: $cap: $(stat -c %s "$cap") bytes, $packets packets, snaplen $snaplen"
    if [ $LABMON_OK = 0 ]; then
        why="labmon not built"
    elif "$LABMON" -r "$cap" --json >"$RUN/M1.$shape.json" 2>"$RUN/M1.$shape.err" &&
        [ -s "$RUN/M1.$shape.json" ]; then
        lm_ok=1
    else
        why="labmon -r --json failed: $(head -c 150 "$RUN/M1.$shape.err" | tr '\n' ' ')"
    fi
    # Per tool: wall and CPU seconds per round; ratios of CPU per round.
    local -A W=() C=()
    local rt=() rp=() rf=()
    for ((r = 1; r <= ROUNDS; r++)); do
        l="n/a n/a"
        [ $lm_ok = 1 ] && l=$(timed "$LABMON" -r "$cap" --json)
        t=$(timed tshark -r "$cap" -q -z conv,tcp)
        p=$(timed tcpdump -nn -r "$cap")
        f=$(timed tcpdump -r "$cap" -w /dev/null)
        echo "$shape round $r (wall cpu) labmon $l tshark $t tcpdump-print $p floor $f" >>"$RUN/M1.runs"
        for k in l t p f; do
            W[$k]+="${!k% *} "
            C[$k]+="${!k#* } "
        done
        rt+=("$(div "${l#* }" "${t#* }")")
        rp+=("$(div "${l#* }" "${p#* }")")
        rf+=("$(div "${l#* }" "${f#* }")")
    done
    # "CPU s (wall s)" medians of one tool
    secs() {
        # shellcheck disable=SC2086
        echo "$(fmt "$(median ${C[$1]})" 3) s ($(fmt "$(median ${W[$1]})" 3) s wall)"
    }
    det="tshark $(secs t), tcpdump -nn $(secs p), floor $(secs f)"
    if [ $lm_ok = 0 ]; then
        row M1 "labmon -r --json / tshark -z conv,tcp$tag" n/a "<= 0.050" n/a "$why; CPU: $det"
        na_rows "$why" M1 "labmon / tcpdump -nn -r (printing)$tag" "<= 0.200" \
            M1 "labmon / tcpdump -r -w /dev/null (floor)$tag" "<= 2.00"
        return
    fi
    m=$(median "${rt[@]}")
    row M1 "labmon -r --json / tshark -z conv,tcp$tag" "$(fmt "$m" 3)" "<= 0.050" \
        "$(verdict "$m" "<=" 0.05)" "CPU: labmon $(secs l), $det"
    m=$(median "${rp[@]}")
    row M1 "labmon / tcpdump -nn -r (printing)$tag" "$(fmt "$m" 3)" "<= 0.200" \
        "$(verdict "$m" "<=" 0.2)" "$packets packets, snaplen $snaplen; ratios of CPU time"
    m=$(median "${rf[@]}")
    row M1 "labmon / tcpdump -r -w /dev/null (floor)$tag" "$(fmt "$m" 2)" "<= 2.00" \
        "$(verdict "$m" "<=" 2)" "$(wc -l <"$RUN/M1.$shape.json") connections in labmon's JSON"
}

if want M1; then
    m1_shape mixed "$PACKETS" "$SNAPLEN"
    m1_shape close "$CLOSE_PACKETS" 256
fi

# ------------------------------------------------------------------ M2 --

# M2: live capture on lo while wrk drives labd; alternates no monitor,
# labmon, tcpdump (rotating the order). Both capture with the same BPF
# filter and the same 32 MB kernel buffer (labmon's default; tcpdump's 2 MB
# dropped up to 100 000 packets a run, which made it look cheaper than a
# tool that sees every packet); tcpdump writes to /dev/null, labmon keeps
# its connection table and prints the summary at exit.
# run_live NAME -> sets LIVE_RPS, LIVE_TICKS, LIVE_SECS, LIVE_DROPS
run_live() {
    local name=$1 port=$LABD_PORT pid="" t0 t1 res drops=""
    LIVE_RPS=n/a LIVE_TICKS=0 LIVE_SECS=0 LIVE_DROPS=0
    local out=$RUN/M2.$name
    case $name in
    labmon)
        "$LABMON" -i lo -f "tcp port $port" --summary >"$out.out" 2>"$out.err" &
        pid=$!
        ;;
    tcpdump)
        tcpdump -i lo -nn -B 32768 -w /dev/null "tcp port $port" >"$out.out" 2>"$out.err" &
        pid=$!
        ;;
    esac
    if [ -n "$pid" ]; then
        BG_PIDS+=("$pid")
        sleep 1 # let the capture handle open and the filter attach
        kill -0 "$pid" 2>/dev/null || {
            log "M2: $name exited at start: $(head -c 200 "$out.err")"
            LIVE_DROPS=n/a
            return
        }
    fi
    t0=$(date +%s%N)
    res=$(wrk_run "$BENCH_SRC/report.lua" "http://127.0.0.1:$port$SMALL_PATH" \
        -t2 -c$CONNS -d${LIVE_DUR}s)
    if [ -n "$pid" ]; then
        LIVE_TICKS=$(cpu_ticks "$pid")
        t1=$(date +%s%N)
        LIVE_SECS=$(awk -v a="$t0" -v b="$t1" 'BEGIN {print (b - a) / 1e9}')
        kill -INT "$pid" 2>/dev/null
        wait_for 10 sh -c "! kill -0 $pid" || kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
        # tcpdump: "N packets dropped by kernel"; labmon: a line with "drop".
        drops=$(cat "$out.err" "$out.out" | grep -i 'drop' |
            grep -oE '[0-9]+ (packets )?dropped|drop[a-z]*[^0-9]{0,12}[0-9]+' |
            grep -oE '[0-9]+' | head -n 1)
        LIVE_DROPS=${drops:-n/a}
    fi
    LIVE_RPS=$(kv "$res" rps)
}

if want M2; then
    if [ $LABD_OK = 1 ] && [ $LABMON_OK = 1 ]; then
        lm_ratio=() td_ratio=() lt_ratio=() lm_cpu=() td_cpu=() lm_drops=0 td_drops=0
        for ((r = 1; r <= ROUNDS; r++)); do
            # Rotate the order each round so drift on a shared machine
            # does not always favour the same contender.
            order=(none labmon tcpdump)
            for ((k = 0; k < 3; k++)); do
                case ${order[(k + r) % 3]} in
                none)
                    run_live none
                    b0=$LIVE_RPS
                    ;;
                labmon)
                    run_live labmon
                    b1=$LIVE_RPS t1=$LIVE_TICKS s1=$LIVE_SECS d1=$LIVE_DROPS
                    ;;
                tcpdump)
                    run_live tcpdump
                    b2=$LIVE_RPS t2=$LIVE_TICKS s2=$LIVE_SECS d2=$LIVE_DROPS
                    ;;
                esac
            done
            echo "round $r none $b0 labmon $b1 $t1 ${s1}s drops $d1 tcpdump $b2 $t2 ${s2}s drops $d2" >>"$RUN/M2.runs"
            lm_ratio+=("$(div "$b1" "$b0")")
            td_ratio+=("$(div "$b2" "$b0")")
            lt_ratio+=("$(div "$b1" "$b2")")
            lm_cpu+=("$(awk -v t="$t1" -v s="$s1" -v h="$CLK_TCK" 'BEGIN {if (s > 0) print 100 * t / h / s}')")
            td_cpu+=("$(awk -v t="$t2" -v s="$s2" -v h="$CLK_TCK" 'BEGIN {if (s > 0) print 100 * t / h / s}')")
            [[ $d1 =~ ^[0-9]+$ ]] && lm_drops=$((lm_drops + d1)) || lm_drops=n/a
            [[ $d2 =~ ^[0-9]+$ ]] && td_drops=$((td_drops + d2))
        done
        lr=$(median "${lm_ratio[@]}")
        tr_=$(median "${td_ratio[@]}")
        row M2 "labmon kernel drops, ${LIVE_DUR}s full load" "$lm_drops" "== 0" \
            "$(verdict "$lm_drops" "==" 0)" "tcpdump -w /dev/null: $td_drops"
        row M2 "labmon CPU, % of one core" "$(fmt "$(median "${lm_cpu[@]}")" 0)" "-" "-" \
            "tcpdump -w /dev/null: $(fmt "$(median "${td_cpu[@]}")" 0) %"
        row M2 "labd req/s with labmon / without" "$(fmt "$lr" 2)" ">= tcpdump" \
            "$(verdict "$(div "$lr" "$tr_")" ">=" 1)" \
            "with tcpdump -w /dev/null: $(fmt "$tr_" 2); per round, req/s under labmon / under tcpdump: median $(fmt "$(median "${lt_ratio[@]}")" 2)"
    else
        why=$LABD_WHY
        [ $LABD_OK = 1 ] && why="labmon not built"
        na_rows "$why" M2 "labmon kernel drops, ${LIVE_DUR}s full load" "== 0" \
            M2 "labmon CPU, % of one core" "-" \
            M2 "labd req/s with labmon / without" ">= tcpdump"
    fi
fi

# ------------------------------------------------------------------ M3 --

# The TUI engineer's view benchmark: an executable tests/bench/view-bench*
# script, or tests/bench/*view*.c / *waterfall*.c built against libmonitor.
# It must print the frame time as "<number> ms" somewhere in its output.
if want M3; then
    m3=
    for s in "$BENCH_SRC"/view-bench*.sh "$BENCH_SRC"/*view*.c "$BENCH_SRC"/*waterfall*.c; do
        [ -e "$s" ] && { m3=$s; break; }
    done
    if [ -z "$m3" ]; then
        row M3 "waterfall frame, 10 000 connections" n/a "< 5 ms" n/a "n/a: not built yet"
    else
        b=$(dirname "$LABMON")
        m3out=
        case $m3 in
        *.sh) m3out=$(timeout 120 bash "$m3" "$LABMON" 2>&1) ;;
        *.c)
            exe=$RUN/$(basename "$m3" .c)
            # shellcheck disable=SC2046
            if cc -std=gnu11 -O2 -I"$SRC" -D_GNU_SOURCE -o "$exe" "$m3" "$b/libmonitor.a" \
                "$b/libshared.a" $(pkg-config --libs libpcap ncursesw 2>/dev/null || echo -lpcap -lncursesw) \
                -lm >"$RUN/M3.build" 2>&1; then
                m3out=$(timeout 120 "$exe" 2>&1)
            else
                m3out="build failed: $(head -c 150 "$RUN/M3.build")"
            fi
            ;;
        esac
        echo "$m3out" >"$RUN/M3.out"
        ms=$(grep -oE '[0-9]+(\.[0-9]+)? ?ms' <<<"$m3out" | head -n 1 | grep -oE '[0-9.]+')
        row M3 "waterfall frame, 10 000 connections" "$(fmt "$ms" 2)" "< 5 ms" \
            "$(verdict "$ms" "<" 5)" "$(basename "$m3")$([ -z "$ms" ] && echo ": $(head -c 120 <<<"$m3out" | tr '\n' ' ')")"
    fi
fi

# ------------------------------------------------------------------ M4 --

# labmon --report on 10 000 whole HTTP connections (tests/reliability/pcapgen
# http, cached): the time to write the page, and the time headless Chromium
# takes to load and lay it out (--dump-dom; the same for an empty page, the
# browser's own start, is in the detail).
chrome_dump() { # FILE: the seconds Chromium takes to print the laid-out DOM of FILE
    local profile s e
    profile=$(mktemp -d "$RUN/chrome.XXXXXX")
    s=$(date +%s%N)
    timeout -k 5 300 chromium --headless --no-sandbox --disable-gpu --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --user-data-dir="$profile" --dump-dom "file://$1" >"$RUN/M4.dom" 2>/dev/null || { echo fail; return; }
    e=$(date +%s%N)
    rm -rf "$profile"
    [ -s "$RUN/M4.dom" ] || { echo fail; return; }
    awk -v a="$s" -v b="$e" 'BEGIN { printf "%.3f\n", (b - a) / 1e9 }'
}
if want M4; then
    cap=$OUT/http-10000.pcap
    gen=$RUN/pcapgen
    why=
    if [ ! -s "$cap" ]; then
        if cc -std=gnu11 -O2 -I"$SRC" -o "$gen" "$SRC/tests/reliability/pcapgen.c" 2>"$RUN/M4.build"; then
            "$gen" http 10000 "$cap.tmp" && mv "$cap.tmp" "$cap" || why="pcapgen failed"
        else
            why="pcapgen did not build: $(head -c 100 "$RUN/M4.build")"
        fi
    fi
    command -v chromium >/dev/null || why=${why:-"chromium not installed"}
    if [ -z "$why" ]; then
        writes=() renders=() blanks=()
        echo '<!DOCTYPE html><title>x</title><p>x' >"$RUN/M4.blank.html"
        for ((r = 1; r <= ROUNDS; r++)); do
            t=$(timed "$LABMON" -r "$cap" --report "$RUN/M4.html")
            writes+=("${t%% *}")
            renders+=("$(chrome_dump "$RUN/M4.html")")
            blanks+=("$(chrome_dump "$RUN/M4.blank.html")")
        done
        size=$(stat -c %s "$RUN/M4.html" 2>/dev/null || echo 0)
        row M4 "report of 10 000 connections: write (s)" "$(fmt "$(median "${writes[@]}")" 3)" "-" "-" \
            "labmon -r (pcapgen http 10000) --report: $(awk -v b="$size" 'BEGIN { printf "%.1f MB", b / 1e6 }')"
        row M4 "report of 10 000 connections: render (s)" "$(fmt "$(median "${renders[@]}")" 2)" "-" "-" \
            "chromium --headless --dump-dom, load and layout; an empty page: $(fmt "$(median "${blanks[@]}")" 2) s"
    else
        na_rows "$why" M4 "report of 10 000 connections: write (s)" "-" \
            M4 "report of 10 000 connections: render (s)" "-"
    fi
fi

# ------------------------------------------------------------------ L1 --

# The lab wire's forwarding rate (tests/bench/lab-wire.sh): the MP3 over
# labd --lab through the wire process with every knob at zero, and through
# the plain link (a kernel bridge), alternated.
if want L1; then
    if [ "$(id -u)" != 0 ]; then
        na_rows "needs root (labd --lab)" L1 "lab wire frames/s, MP3, knobs at zero" ">= 100000" \
            L1 "lab wire MB/s / direct link" "-"
    elif ROUNDS=$ROUNDS bash "$BENCH_SRC/lab-wire.sh" "$LABD" "$SRC/www/audio/intro.mp3" \
        >"$RUN/L1.runs" 2>&1; then
        lw=$(grep '^LABWIRE ' "$RUN/L1.runs" | cut -d' ' -f2-)
        row L1 "lab wire frames/s, MP3, knobs at zero" "$(fmt "$(kv "$lw" wire_fps)" 0)" ">= 100000" \
            "$(verdict "$(kv "$lw" wire_fps)" ">=" 100000)" \
            "direct link $(fmt "$(kv "$lw" direct_fps)" 0) frames/s; both directions on the host end"
        row L1 "lab wire MB/s / direct link" "$(fmt "$(kv "$lw" ratio)" 2)" "-" "-" \
            "wire $(kv "$lw" wire_mbs) MB/s, direct $(kv "$lw" direct_mbs) MB/s (medians)"
    else
        na_rows "lab-wire.sh failed: $(tail -n 1 "$RUN/L1.runs")" \
            L1 "lab wire frames/s, MP3, knobs at zero" ">= 100000" L1 "lab wire MB/s / direct link" "-"
    fi
fi

# ------------------------------------------------------------- results --

{
    echo "Run: \`make bench\` ($(date -u '+%Y-%m-%d %H:%M UTC')), $(nproc) CPUs:" \
        "$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo), $WORKERS workers per server (CPU affinity $AFFINITY)," \
        "$ROUNDS alternating rounds, ${DUR} s wrk runs (${LIVE_DUR} s live), access logs off for both servers;" \
        "load average at start $LOAD_START, at end $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine)."
    echo
    echo "| id | figure | value | target | result | detail |"
    echo "| --- | --- | --- | --- | --- | --- |"
    for l in "${ROWS[@]}"; do
        IFS=$'\t' read -r a b c d e f <<<"$l"
        echo "| $a | $b | $c | $d | $e | $f |"
    done
} >"$OUT/results.md"
{
    echo "id,figure,value,target,result,detail"
    for l in "${ROWS[@]}"; do
        IFS=$'\t' read -r a b c d e f <<<"$l"
        printf '%s,"%s","%s","%s",%s,"%s"\n' "$a" "${b//\"/\"\"}" "$c" "$d" "$e" "${f//\"/\"\"}"
    done
} >"$OUT/results.csv"
echo "bench: wrote $OUT/results.md and results.csv (per-run numbers in $RUN/*.runs)"
