#!/usr/bin/env bash
# Side-by-side benchmarks behind `make bench`: labd against the fastest static
# servers at hand, nginx, h2o and lighttpd (the anchors), and against a floor
# (S1-S5); labmon vs tshark and tcpdump (M1-M2), the TUI view (M3), the HTML
# report (M4) and the lab wire vs the plain lab link (L1, as root). Prints one
# table and writes it to build/bench/results.md and results.csv.
#
#   tests/bench/run.sh /abs/path/labd /abs/path/labmon
#
# Groups:
#   S1  small file, keep-alive, -c100: req/s and p99 against the best anchor,
#       req/s against the floor
#   S2  small file, Connection: close: the same three figures
#   S3  the MP3 whole (-c20) and in 64 KiB ranges (-c1000): MB/s
#   S4  memory of master + workers after S1-S3, against nginx
#   S5  10 000 concurrent keep-alive connections on the small file: req/s and
#       p99 against the best anchor, RSS during the run against nginx
#   M1-M4, L1  labmon and the lab link (see each group below)
#
# The floor (tests/bench/floor.c, built here) is the least an HTTP server
# on this kernel can do: epoll workers sharing the listening socket as
# labd's do, one response built at start-up, of the length of labd's
# response to the small file. labd / floor says how much of the machine's
# own speed labd's parsing, files and bookkeeping cost.
#
# Every comparison runs the contenders one after the other (labd, nginx,
# h2o, lighttpd, the floor; then again) for BENCH_ROUNDS rounds on the same
# files with the same worker count, and reports the median of the per-round
# ratios: absolute numbers drift on a shared machine, ratios taken seconds
# apart drift much less. An anchor that is not installed, does not start or
# does not serve the files (200, and 206 for a Range) is left out and named
# in the detail column; nginx is required.
#
# Environment (defaults in brackets):
#   BENCH_ROUNDS [3]          rounds per comparison (5 gives steadier medians, ~15 min)
#   BENCH_WORKERS [nproc]     worker processes (h2o: threads) of every server and the floor
#   BENCH_DURATION [5]        seconds per wrk run in S1-S3
#   BENCH_S5_DURATION [6]     seconds per wrk run in S5 (10 000 connections take a while to open)
#   BENCH_LIVE_DURATION [10]  seconds per wrk run in M2
#   BENCH_PACKETS [500000]    packets in the M1 "mixed" capture (cached in build/bench/)
#   BENCH_CLOSE_PACKETS [270000] packets in the M1 "close" capture (short connections)
#   BENCH_M1_REPEAT [3]       runs of each M1 tool per round; the one with the least CPU counts
#   BENCH_QUICK=1             smoke test: 2 s runs (S5: 4 s), 4 s live, 100 000 packets
#   BENCH_ONLY="S1 M1"        run only these groups (S1 S2 S3 S4 S5 M1 M2 M3 M4 L1)
#   BENCH_ANCHORS             the anchors to run ["nginx h2o lighttpd"]; nginx is always run
#   BENCH_FLOOR=0             leave the floor out of S1 and S2
#   BENCH_WARMUP=0            skip the 1 s warm-up of each server
#   BENCH_OUT [build/bench]   where results, the capture, the floor and run dirs go
#   BENCH_AFFINITY [off]      auto: labd and nginx pin each worker to a CPU
#                             (h2o 2.2 and lighttpd have no such setting)
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
M1_REPEAT=${BENCH_M1_REPEAT:-$([ "${BENCH_QUICK:-0}" = 1 ] && echo 1 || echo 3)}
WORKERS=${BENCH_WORKERS:-$(nproc)}
# labd's defer-accept default is chosen from the CPU (auto: 1000 ms on Intel,
# off on others; labd.8, ACCEPT STRATEGY); nginx, lighttpd and the floor get
# the same (h2o 2.2 has no such setting).
CPU_VENDOR=$(awk -F': *' '$1 ~ /^vendor_id/ {print $2; exit}' /proc/cpuinfo)
if [ "$CPU_VENDOR" = GenuineIntel ]; then DEFER_S=1; else DEFER_S=0; fi
if [ "${BENCH_QUICK:-0}" = 1 ]; then
    DUR=${BENCH_DURATION:-2}
    S5_DUR=${BENCH_S5_DURATION:-4}
    LIVE_DUR=${BENCH_LIVE_DURATION:-4}
    PACKETS=${BENCH_PACKETS:-100000}
else
    DUR=${BENCH_DURATION:-5}
    S5_DUR=${BENCH_S5_DURATION:-6}
    LIVE_DUR=${BENCH_LIVE_DURATION:-10}
    PACKETS=${BENCH_PACKETS:-500000}
fi
ONLY=${BENCH_ONLY:-S1 S2 S3 S4 S5 M1 M2 M3 M4 L1}
ANCHORS=nginx
for a in ${BENCH_ANCHORS:-h2o lighttpd}; do
    case $a in
    nginx) ;;
    h2o | lighttpd) ANCHORS+=" $a" ;;
    *) echo "run.sh: BENCH_ANCHORS takes nginx, h2o and lighttpd" >&2; exit 2 ;;
    esac
done
FLOOR_WANTED=${BENCH_FLOOR:-1}
AFFINITY=${BENCH_AFFINITY:-off}
case $AFFINITY in auto | off) ;; *) echo "run.sh: BENCH_AFFINITY is auto or off" >&2; exit 2 ;; esac
CONNS=100        # wrk -c for S1, S2, M2
BIG_CONNS=20     # wrk -c for the whole-file download in S3
RANGE_CONNS=1000 # concurrent Range requests in S3
SNAPLEN=512      # M1 "mixed" capture: headers and the start of each body
MAXC=4096        # connections per worker for S1-S4 (labd --max-conns-per-worker)
S5_CONNS=10000   # wrk -c for S5
# S5's per-worker limit: EPOLLEXCLUSIVE hands a burst of connects to
# whichever worker wakes, so one worker may hold nearly all of them.
S5_MAXC=$((S5_CONNS + 240))
# Longest a wrk run may take before it is cut: its duration, the time to
# open its connections, and room for a slow machine.
WRK_LIMIT=$(($(printf '%s\n' "$DUR" "$S5_DUR" "$LIVE_DUR" | sort -n | tail -n 1) * 3 + 30))

export BENCH_LUA_DIR=$BENCH_SRC
RUN=$OUT/run
mkdir -p "$OUT"
rm -rf "$RUN"
mkdir -p "$RUN"
# S5 needs 10 000 descriptors in wrk and up to S5_MAXC in one worker of a
# server; root may raise the hard limit (up to fs.nr_open), others take it.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

# ---------------------------------------------------------------- helpers --

# shellcheck source-path=SCRIPTDIR source=lib.sh
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
    out=$(timeout -k 5 $WRK_LIMIT wrk "$@" -s "$script" "$url" 2>&1)
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

# Every HTTP server of the bench by name (labd nginx h2o lighttpd floor):
# its port and the pid whose process and children are its master and
# workers (CPU ticks, memory); WHY says why one is missing.
declare -A PORT=() PID=() WHY=()
BG_PIDS=()
LABD_DIR=
LABD_PID=
NGINX_PID=

# Stopping and starting each server (nginx, h2o, lighttpd, labd, the floor).
# shellcheck source=tests/bench/servers.sh
. "$BENCH_SRC/servers.sh"

cleanup() {
    local p n
    for p in "${BG_PIDS[@]}"; do
        kill -TERM "$p" 2>/dev/null
    done
    for n in floor lighttpd h2o nginx labd; do
        stop_server "$n"
    done
    return 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The files every server serves: a copy of the bundled site. Until www/ has
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


LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
LABMON_OK=0
"$LABMON" --help >/dev/null 2>&1 && LABMON_OK=1

CPU_MODEL=$(LC_ALL=C lscpu 2>/dev/null | awk -F': *' '/^Model name/ {print $2; exit}')
[ -n "$CPU_MODEL" ] || CPU_MODEL=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
echo "bench: CPU: ${CPU_MODEL:-unknown} (${CPU_VENDOR:-vendor unknown}), $(nproc) CPUs; deferred accept $([ $DEFER_S = 1 ] && echo on || echo off) for every server (labd's default here)"
echo "bench: $WORKERS workers each (CPU affinity $AFFINITY), $ROUNDS rounds, ${DUR}s runs" \
    "(S5: ${S5_DUR}s), access logs off"
echo "bench: files: $SMALL_PATH ($SMALL_SIZE B), $BIG_PATH ($BIG_SIZE B)"

UP=nginx
MISSING=
if want S1 || want S2 || want S3 || want S4 || want S5 || want M2; then
    start_labd $MAXC || log "$LABD_WHY"
    [ -n "${LABD_ACCEPT:-}" ] && echo "bench: labd's accept mode: $LABD_ACCEPT$([ "$LABD_ACCEPT" = cpu ] &&
        echo "; the floor the same, nginx reuseport + worker_cpu_affinity auto (its nearest)")"
fi
if want S1 || want S2 || want S3; then
    start_anchors $MAXC
elif want S4 || want S5 || want M1; then
    start_nginx $MAXC || { log "${WHY[nginx]}"; exit 1; }
fi
if [ $LABD_OK = 1 ] && [ "$FLOOR_WANTED" = 1 ] && { want S1 || want S2; }; then
    start_floor || log "$FLOOR_WHY"
fi
VERSIONS="nginx $(nginx -v 2>&1 | sed 's|.*/||')"
[[ " $ANCHORS " == *" h2o "* ]] && command -v h2o >/dev/null &&
    VERSIONS+=", h2o $(h2o --version | sed -n 's/^h2o version //p')"
[[ " $ANCHORS " == *" lighttpd "* ]] && [ -x "$LIGHTTPD" ] &&
    VERSIONS+=", lighttpd $("$LIGHTTPD" -v | sed -n 's|^lighttpd/\([^ ]*\).*|\1|p')"
echo "bench: anchors $VERSIONS; comparing with: $UP${MISSING:+ (}${MISSING#; }${MISSING:+)}"
printf '%-3s %-42s %-10s %-12s %-5s %s\n' id figure value target result detail
# ------------------------------------------------------ S1, S2, S3, S5 --

# compare_servers ID FIGURE KEY SCRIPT PATH "CONTENDERS" [wrk options...]
# Runs each contender (labd first, then the anchors of $UP, then the floor
# if named) one after the other, and again, for ROUNDS rounds: A B C D,
# A B C D ... The best anchor is the one with the highest median KEY (rps,
# or mbps for S3) over the rounds. Per round, labd's KEY and p99 are divided
# by that anchor's, and labd's KEY by the floor's. The figures are the
# MEDIANS OF THOSE PER-ROUND RATIOS, not ratios of medians: the runs of a
# round are seconds apart and share the machine's outside load. The detail
# also gives the stricter figure against whichever anchor was fastest (and
# whichever had the lowest p99) in each round.
# With CMP_SAMPLE_AT=S set, the RSS of each contender (mem_of) and its
# established connections are sampled S seconds into each run (S5).
# Leaves per-run lines in $RUN/ID.runs.
declare -A CMP_V=() CMP_P=() CMP_C=() CMP_E=() CMP_RSS=() CMP_NCONN=()
CMP_SAMPLE_AT=
compare_servers() {
    local id=$1 fig=$2 key=$3 script=$4 path=$5
    CMP_WHO=$6
    shift 6
    log "$id: $fig: $CMP_WHO, $ROUNDS rounds"
    local r n t0 res wp rss _ best lowp ratios=() p99r=() floorr=()
    local -A val=() p99=() wins=()
    CMP_V=() CMP_P=() CMP_C=() CMP_E=() CMP_RSS=() CMP_NCONN=()
    : >"$RUN/$id.runs"
    for ((r = 1; r <= ROUNDS; r++)); do
        val=() p99=()
        for n in $CMP_WHO; do
            t0=$(server_ticks "${PID[$n]}")
            if [ -n "$CMP_SAMPLE_AT" ]; then
                wrk_run "$script" "http://127.0.0.1:${PORT[$n]}$path" "$@" >"$RUN/$id.wrk" &
                wp=$!
                BG_PIDS+=("$wp")
                sleep "$CMP_SAMPLE_AT"
                read -r rss _ < <(mem_of "${PID[$n]}")
                CMP_RSS[$n]+="$rss "
                CMP_NCONN[$n]+="$(ss -Htn state established "( sport = :${PORT[$n]} )" | wc -l) "
                wait "$wp"
                res=$(cat "$RUN/$id.wrk")
            else
                res=$(wrk_run "$script" "http://127.0.0.1:${PORT[$n]}$path" "$@")
            fi
            res="$res cpu_us=$(cpu_per_req "$t0" "$(server_ticks "${PID[$n]}")" "$(kv "$res" requests)")"
            printf 'round %s %-8s %s\n' "$r" "$n" "$res" >>"$RUN/$id.runs"
            val[$n]=$(kv "$res" "$key")
            p99[$n]=$(kv "$res" p99_us)
            CMP_V[$n]+="${val[$n]} "
            CMP_P[$n]+="${p99[$n]} "
            CMP_C[$n]+="$(kv "$res" cpu_us) "
            CMP_E[$n]=$((${CMP_E[$n]:-0} + $(kv "$res" sock_errors) + $(kv "$res" status_errors) + 0))
        done
        best=$(for n in $UP; do echo "$n ${val[$n]}"; done | pick max)
        lowp=$(for n in $UP; do echo "$n ${p99[$n]}"; done | pick min)
        # An empty name is no key of an associative array: guard it.
        ratios+=("$(div "${val[labd]}" "${best:+${val[$best]}}")")
        p99r+=("$(div "${p99[labd]}" "${lowp:+${p99[$lowp]}}")")
        [[ " $CMP_WHO " == *" floor "* ]] && floorr+=("$(div "${val[labd]}" "${val[floor]}")")
        [ -n "$best" ] && wins[$best]=$((${wins[$best]:-0} + 1))
        echo "round $r best anchor $best, lowest p99 $lowp" >>"$RUN/$id.runs"
    done
    # "The best of the three" is the anchor with the highest median rate
    # over the rounds (CMP_BEST); the figures are the medians of the
    # per-round ratios of labd to that anchor, rate and p99 alike. The
    # stricter reading, labd against whichever anchor was fastest (or had
    # the lowest p99) in each round, goes in the detail (CMP_STRICT*): the
    # highest of three noisy numbers is biased upwards.
    CMP_BEST=$(for n in $UP; do echo "$n $(cmp_med V "$n")"; done | pick max)
    CMP_STRICT=$(median "${ratios[@]}")
    CMP_STRICT_P99=$(median "${p99r[@]}")
    ratios=() p99r=()
    if [ -n "$CMP_BEST" ]; then
        local -a lv lp bv bp
        read -r -a lv <<<"${CMP_V[labd]}"
        read -r -a lp <<<"${CMP_P[labd]}"
        read -r -a bv <<<"${CMP_V[$CMP_BEST]}"
        read -r -a bp <<<"${CMP_P[$CMP_BEST]}"
        for ((r = 0; r < ${#lv[@]}; r++)); do
            ratios+=("$(div "${lv[r]}" "${bv[r]:-}")")
            p99r+=("$(div "${lp[r]:-}" "${bp[r]:-}")")
        done
    fi
    CMP_RATIO=$(median "${ratios[@]}")
    CMP_P99_RATIO=$(median "${p99r[@]}")
    CMP_FLOOR_RATIO=$(median "${floorr[@]}")
    CMP_WINS=
    for n in $UP; do
        [ -n "${wins[$n]:-}" ] && CMP_WINS+=", $n ${wins[$n]}/$ROUNDS"
    done
    CMP_WINS=${CMP_WINS#, }
}

# "NAME VALUE" lines -> the NAME of the highest (max) or lowest (min) VALUE.
pick() {
    awk -v how="$1" '$2 ~ /^[0-9.eE+-]+$/ {
        if (n == "" || (how == "max" ? $2 + 0 > b : $2 + 0 < b)) { n = $1; b = $2 + 0 } }
        END { print n }'
}

# Median of contender N's figure per round: cmp_med V|P|C|RSS N
cmp_med() {
    local -n arr=CMP_$1
    # shellcheck disable=SC2086 # the per-round values, one word each
    median ${arr[$2]:-}
}

# The detail of a rate row: each contender's median rate (UNIT), p99 and
# CPU per request (the figure least disturbed by other load on a shared
# machine), wrk's errors, which anchor was best how often, and the anchors
# left out.
rate_detail() {
    local unit=$1 n out="" e
    for n in $CMP_WHO; do
        [ "$n" = floor ] && continue
        e=${CMP_E[$n]:-0}
        out+="; $n $(fmt "$(cmp_med V "$n")" 0) $unit, p99 $(fmt "$(cmp_med P "$n")" 0) us,"
        out+=" CPU $(fmt "$(cmp_med C "$n")" 1) us/req$([ "$e" -gt 0 ] && echo ", $e wrk errors")"
    done
    echo "${out#; }; best anchor (highest median): $CMP_BEST; fastest per round: $CMP_WINS, labd against it $(fmt "$CMP_STRICT" 3)$MISSING"
}

p99_detail() {
    local n out=""
    for n in $CMP_WHO; do
        [ "$n" = floor ] && continue
        out+=", $n $(fmt "$(cmp_med P "$n")" 0)"
    done
    echo "p99 (us) ${out#, }; ratio to $CMP_BEST's per round; to each round's lowest anchor p99 $(fmt "$CMP_STRICT_P99" 3)"
}

# wrk shares the CPUs with the server, so a server that leaves wrk more
# CPU may answer more req/s than the floor: CPU per request against the
# floor's (ratio of the medians) is in the detail too.
floor_detail() {
    local e=${CMP_E[floor]:-0}
    echo "floor $(fmt "$(cmp_med V floor)" 0) req/s, p99 $(fmt "$(cmp_med P floor)" 0) us," \
        "CPU $(fmt "$(cmp_med C floor)" 1) us/req$([ "$e" -gt 0 ] && echo ", $e wrk errors");" \
        "CPU/req labd/floor $(fmt "$(div "$(cmp_med C labd)" "$(cmp_med C floor)")" 2); $FLOOR_NOTE"
}

# The contenders of a group: labd, the anchors up, and the floor if asked and up.
who() {
    local w="labd $UP"
    [ "${1:-}" = floor ] && [ $FLOOR_OK = 1 ] && w+=" floor"
    echo "$w"
}

# Warm every server (page cache, lazy initialisation) before measuring.
warm_up() {
    local n
    [ "${BENCH_WARMUP:-1}" = 1 ] || return 0
    for n in $(who floor); do
        wrk -t2 -c10 -d1s "http://127.0.0.1:${PORT[$n]}$SMALL_PATH" >/dev/null 2>&1
        [ "$n" = floor ] || wrk -t2 -c4 -d1s "http://127.0.0.1:${PORT[$n]}$BIG_PATH" >/dev/null 2>&1
    done
}

if [ $LABD_OK = 1 ] && { want S1 || want S2 || want S3; }; then
    warm_up
fi

# small_rows ID WHAT REQ_TARGET: the req/s, p99 and floor rows of S1 or S2.
small_rows() {
    local id=$1 what=$2 target=$3
    row "$id" "req/s labd/best anchor, $what" "$(fmt "$CMP_RATIO" 3)" ">= $target" \
        "$(verdict "$CMP_RATIO" ">=" "$target")" "$(rate_detail req/s)"
    row "$id" "p99 latency labd/best anchor, $what" "$(fmt "$CMP_P99_RATIO" 3)" "<= 1.00" \
        "$(verdict "$CMP_P99_RATIO" "<=" 1.00)" "$(p99_detail)"
    if [ $FLOOR_OK = 1 ]; then
        row "$id" "req/s labd/floor, $what" "$(fmt "$CMP_FLOOR_RATIO" 3)" ">= 0.85" \
            "$(verdict "$CMP_FLOOR_RATIO" ">=" 0.85)" "$(floor_detail)"
    else
        row "$id" "req/s labd/floor, $what" n/a ">= 0.85" n/a "$FLOOR_WHY"
    fi
}

if want S1; then
    if [ $LABD_OK = 1 ]; then
        compare_servers S1 "small file keep-alive" rps "$BENCH_SRC/report.lua" "$SMALL_PATH" \
            "$(who floor)" -t2 -c$CONNS -d"${DUR}s" --latency
        small_rows S1 "keep-alive, -c$CONNS" 1.10
    else
        na_rows "$LABD_WHY" S1 "req/s labd/best anchor, keep-alive, -c$CONNS" ">= 1.10" \
            S1 "p99 latency labd/best anchor, keep-alive, -c$CONNS" "<= 1.00" \
            S1 "req/s labd/floor, keep-alive, -c$CONNS" ">= 0.85"
    fi
fi

if want S2; then
    if [ $LABD_OK = 1 ]; then
        compare_servers S2 "small file Connection: close" rps "$BENCH_SRC/report.lua" \
            "$SMALL_PATH" "$(who floor)" -t2 -c$CONNS -d"${DUR}s" --latency -H 'Connection: close'
        small_rows S2 "Connection: close" 1.00
    else
        na_rows "$LABD_WHY" S2 "req/s labd/best anchor, Connection: close" ">= 1.00" \
            S2 "p99 latency labd/best anchor, Connection: close" "<= 1.00" \
            S2 "req/s labd/floor, Connection: close" ">= 0.85"
    fi
fi

if want S3; then
    if [ $LABD_OK = 1 ]; then
        compare_servers S3 "whole MP3" mbps "$BENCH_SRC/report.lua" "$BIG_PATH" "$(who)" \
            -t2 -c$BIG_CONNS -d"${DUR}s"
        row S3 "MB/s labd/best anchor, whole MP3, -c$BIG_CONNS" "$(fmt "$CMP_RATIO" 3)" ">= 0.95" \
            "$(verdict "$CMP_RATIO" ">=" 0.95)" "$(rate_detail MB/s)"
        compare_servers S3r "64 KiB ranges" mbps "$BENCH_SRC/range.lua" "$BIG_PATH" "$(who)" \
            -t2 -c$RANGE_CONNS -d"${DUR}s" --latency
        row S3 "MB/s labd/best anchor, $RANGE_CONNS concurrent 64K ranges" \
            "$(fmt "$CMP_RATIO" 3)" ">= 0.95" "$(verdict "$CMP_RATIO" ">=" 0.95)" "$(rate_detail MB/s)"
    else
        na_rows "$LABD_WHY" S3 "MB/s labd/best anchor, whole MP3, -c$BIG_CONNS" ">= 0.95" \
            S3 "MB/s labd/best anchor, $RANGE_CONNS concurrent 64K ranges" ">= 0.95"
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

# S5: 10 000 keep-alive connections at once on the small file. Every server
# is started again with room for them in one worker (S5_MAXC: labd
# --max-conns-per-worker, nginx worker_connections, lighttpd
# max-connections and twice the descriptors, h2o max-connections times its
# threads); the floor is stopped. wrk waits up to 10 s for a response
# (--timeout), so slow answers count in p99 instead of vanishing as errors.
# A burst of 10 000 connects overflows a 511 backlog (labd, nginx,
# lighttpd; h2o asks for more): the kernel retries the dropped SYNs, so
# opening them takes a second or two of each run, alike for all. RSS and
# open connections are sampled 3/4 into each run (the same for every
# contender); the RSS row divides labd's by nginx's, the sum over master
# and workers as in S4 (h2o's includes its crash-handler helper, perl).
s5_rows_na() {
    na_rows "$1" S5 "req/s labd/best anchor, $S5_CONNS keep-alive conns" ">= 1.00" \
        S5 "p99 latency labd/best anchor, $S5_CONNS conns" "<= 1.00" \
        S5 "RSS master+workers labd/nginx, $S5_CONNS conns" "<= 1.00"
}
if want S5; then
    read -r plo phi </proc/sys/net/ipv4/ip_local_port_range
    somax=$(cat /proc/sys/net/core/somaxconn)
    log "S5: somaxconn $somax, client ports $plo-$phi, open files $(ulimit -n)"
    if [ $LABD_OK != 1 ]; then
        s5_rows_na "$LABD_WHY"
    elif [ $((phi - plo + 1)) -lt $((S5_CONNS + 100)) ]; then
        s5_rows_na "only $((phi - plo + 1)) client ports (net.ipv4.ip_local_port_range)"
    elif [ "$(ulimit -n)" -lt $((S5_CONNS + 200)) ]; then
        s5_rows_na "ulimit -n $(ulimit -n): too few descriptors for $S5_CONNS connections"
    else
        for n in floor lighttpd h2o nginx labd; do stop_server "$n"; done
        FLOOR_OK=0
        FLOOR_WHY="floor stopped for S5"
        start_labd $S5_MAXC || log "$LABD_WHY"
        start_anchors $S5_MAXC
        if [ $LABD_OK = 1 ]; then
            warm_up
            s5_at=$(awk -v d="$S5_DUR" 'BEGIN { print d * 3 / 4 }')
            CMP_SAMPLE_AT=$s5_at
            compare_servers S5 "$S5_CONNS keep-alive connections" rps "$BENCH_SRC/report.lua" \
                "$SMALL_PATH" "$(who)" -t2 -c$S5_CONNS -d"${S5_DUR}s" --timeout 10s --latency
            CMP_SAMPLE_AT=
            conns=
            for n in $CMP_WHO; do conns+=", $n $(fmt "$(cmp_med NCONN "$n")" 0)"; done
            row S5 "req/s labd/best anchor, $S5_CONNS keep-alive conns" "$(fmt "$CMP_RATIO" 3)" \
                ">= 1.00" "$(verdict "$CMP_RATIO" ">=" 1.00)" "$(rate_detail req/s)"
            row S5 "p99 latency labd/best anchor, $S5_CONNS conns" "$(fmt "$CMP_P99_RATIO" 3)" \
                "<= 1.00" "$(verdict "$CMP_P99_RATIO" "<=" 1.00)" \
                "$(p99_detail); connections open at the sample: ${conns#, }"
            rss=
            for n in $CMP_WHO; do rss+=", $n $(fmt "$(cmp_med RSS "$n")" 0)"; done
            ratio=$(div "$(cmp_med RSS labd)" "$(cmp_med RSS nginx)")
            row S5 "RSS master+workers labd/nginx, $S5_CONNS conns" "$(fmt "$ratio" 2)" "<= 1.00" \
                "$(verdict "$ratio" "<=" 1.00)" \
                "VmRSS sum (kB) ${S5_DUR}s runs sampled at ${s5_at}s: ${rss#, }; somaxconn $somax"
        else
            s5_rows_na "$LABD_WHY"
        fi
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

# Of two "WALL CPU" results, the one with less CPU time ("" is none yet; a
# failure stays). M1's runs are short (0.04-0.2 s for labmon and the floor),
# and a neighbour's burst on a shared VM stretched single runs by up to 60 %
# (one 5-round run: labmon 0.13-0.21 s against a steady floor). So each tool
# runs M1_REPEAT times per round, labmon and the floor in turn, and its run
# with the least CPU counts: what the command itself costs.
m1_less() {
    if [ -z "$1" ] || [ "$2" = "fail fail" ] ||
        { [ "$1" != "fail fail" ] && awk -v a="${2#* }" -v b="${1#* }" 'BEGIN { exit !(a < b) }'; }; then
        echo "$2"
    else
        echo "$1"
    fi
}

# m1_shape SHAPE PACKETS SNAPLEN: labmon -r --json, tshark -z conv,tcp,
# tcpdump -nn -r and the read floor (tcpdump -r -w /dev/null) alternated on
# SHAPE's capture, each the best of M1_REPEAT runs per round (m1_less); three rows,
# ratios of CPU time per round (medians).
m1_shape() {
    local shape=$1 packets=$2 snaplen=$3 cap r k l t p f m det lm_ok=0 why=
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
        l= t= p= f=
        for ((k = 0; k < M1_REPEAT; k++)); do
            [ $lm_ok = 1 ] && l=$(m1_less "$l" "$(timed "$LABMON" -r "$cap" --json)")
            f=$(m1_less "$f" "$(timed tcpdump -r "$cap" -w /dev/null)")
        done
        for ((k = 0; k < M1_REPEAT; k++)); do
            t=$(m1_less "$t" "$(timed tshark -r "$cap" -q -z conv,tcp)")
            p=$(m1_less "$p" "$(timed tcpdump -nn -r "$cap")")
        done
        [ $lm_ok = 1 ] || l="n/a n/a"
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
        -t2 -c$CONNS -d"${LIVE_DUR}s")
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
    echo "Run: \`make bench\` ($(date -u '+%Y-%m-%d %H:%M UTC')), CPU: ${CPU_MODEL:-unknown}," \
        "$(nproc) CPUs, $WORKERS workers per server (CPU affinity $AFFINITY, labd accept ${LABD_ACCEPT:-?});" \
        "anchors $VERSIONS, compared with: $UP${MISSING:+ (}${MISSING#; }${MISSING:+)};" \
        "$ROUNDS alternating rounds, ${DUR} s wrk runs (S5 ${S5_DUR} s, live ${LIVE_DUR} s), access logs off for every server;" \
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
