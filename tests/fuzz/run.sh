#!/usr/bin/env bash
# Build and run the libFuzzer targets tests/fuzz/fuzz_<target>.c with clang
# (-fsanitize=fuzzer,address,undefined).
#
#   run.sh smoke [TARGET...]  replay tests/fuzz/regressions/<target>/, then
#                             FUZZ_RUNS (20000) executions from the seeds, seed
#                             FUZZ_SEED (1): deterministic, for `make check`
#   run.sh long [TARGET...]   each target for FUZZ_TIME (60) seconds, growing
#                             build/fuzz/corpus/<target>/, for `make fuzz`
#   run.sh build [TARGET...]  only build
#
# Seeds come from the unit tests and tests/pcaps/ (tests/fuzz/seeds.py).
# Crashes are written to tests/fuzz/regressions/<target>/: once the bug is
# fixed, commit the file and every smoke run replays it. A target whose
# sources are not in the tree yet is skipped.
set -u
cd "$(dirname "$0")/../.."
mode=${1:-smoke}
shift || true
case $mode in smoke | long | build) ;; *)
    echo "usage: $0 smoke|long|build [TARGET...]" >&2
    exit 2
    ;;
esac

# The sources each target links (besides its harness).
declare -A SRCS=(
    [sniff]="monitor/sniff.c monitor/sniff_line.c monitor/sniff_store.c monitor/objpool.c"
    [sniff_line]="monitor/sniff_line.c"
    [http_parse]="worker/http_parse.c"
    [range]="worker/range.c worker/httpdate.c"
    [cond]="worker/cond.c worker/httpdate.c"
    [path]="worker/path.c"
    [decode]="monitor/decode.c"
    [engine]="monitor/engine.c monitor/decode.c monitor/flow.c monitor/tcp_track.c monitor/sniff.c monitor/sniff_line.c monitor/sniff_store.c monitor/objpool.c"
    [pcapfile]="monitor/capture.c monitor/pcapfile.c monitor/decode.c shared/sandbox.c shared/sandbox_labmon.c shared/clock.c"
    [figures]="monitor/engine.c monitor/decode.c monitor/svg.c monitor/svg_ladder.c monitor/svg_tsg.c monitor/svg_waterfall.c monitor/tsg.c monitor/figure.c monitor/report.c monitor/report_html.c monitor/ladder.c monitor/flow.c monitor/tcp_track.c monitor/ui_flows.c monitor/view_conn.c monitor/sniff.c monitor/sniff_line.c monitor/sniff_store.c monitor/objpool.c"
)
# Libraries a target links besides its sources.
declare -A LIBS=([pcapfile]="-lpcap -lseccomp")
# Inputs longer than this are not tried (streams of segments need more room).
declare -A MAXLEN=([sniff]=65536 [engine]=65536 [pcapfile]=65536 [figures]=65536)

OUT=build/fuzz
CC_FUZZ=${CC_FUZZ:-clang}
CFLAGS_FUZZ="-std=gnu11 -g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined
    -fno-sanitize-recover=undefined -I. -D_GNU_SOURCE -Wall -Wextra -Werror"
RUNS=${FUZZ_RUNS:-20000}
TIME=${FUZZ_TIME:-60}
results=${RESULTS:-build/results.log}
mkdir -p "$OUT" "$(dirname "$results")"

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    for f in tests/fuzz/fuzz_*.c; do
        t=${f#tests/fuzz/fuzz_}
        targets+=("${t%.c}")
    done
fi

pass=0 fail=0 skip=0 execs=0 failed=()
if ! command -v "$CC_FUZZ" >/dev/null; then
    echo "fuzz: $CC_FUZZ not installed, ${#targets[@]} targets skipped"
    [ "$mode" = build ] || echo "fuzz 0 0 ${#targets[@]}" >>"$results"
    exit 0
fi

# Rebuild when the harness or a listed source (or its header) is newer.
build() {
    local t=$1 bin=$OUT/fuzz_$1 srcs=${SRCS[$1]} f deps=(tests/fuzz/fuzz_$1.c)
    for f in $srcs; do
        deps+=("$f")
        [ -f "${f%.c}.h" ] && deps+=("${f%.c}.h")
    done
    if [ -x "$bin" ]; then
        local newer=0
        for f in "${deps[@]}"; do [ "$f" -nt "$bin" ] && newer=1; done
        [ $newer -eq 0 ] && return 0
    fi
    # shellcheck disable=SC2086
    $CC_FUZZ $CFLAGS_FUZZ -o "$bin" "tests/fuzz/fuzz_$t.c" $srcs ${LIBS[$t]:-} 2>"$OUT/fuzz_$t.build.log" || {
        cat "$OUT/fuzz_$t.build.log"
        return 1
    }
}

# Seeds: regenerated when seeds.py, a unit test or a capture changed.
seeds() {
    local stamp=$OUT/seeds/.stamp
    if [ ! -f "$stamp" ] || [ -n "$(find tests/fuzz/seeds.py tests/unit tests/pcaps -newer "$stamp" \
        -type f 2>/dev/null | head -n 1)" ]; then
        rm -rf "$OUT/seeds"
        python3 tests/fuzz/seeds.py "$OUT/seeds" && touch "$stamp"
    fi
}

# Sum of executions reported by libFuzzer in a log.
count_execs() {
    awk '/stat::number_of_executed_units:/ { n += $2 } END { print n + 0 }' "$1"
}

[ "$mode" = build ] || seeds
for t in "${targets[@]}"; do
    srcs=${SRCS[$t]:-}
    missing=
    for f in tests/fuzz/fuzz_$t.c $srcs; do [ -f "$f" ] || missing=$f; done
    if [ -z "$srcs" ] || [ -n "$missing" ]; then
        skip=$((skip + 1))
        echo "skip $t: ${missing:-no source list in run.sh} not in the tree"
        continue
    fi
    if ! build "$t"; then
        fail=$((fail + 1)) failed+=("$t (build)")
        echo "FAIL $t: build"
        continue
    fi
    [ "$mode" = build ] && { pass=$((pass + 1)); continue; }

    bin=$OUT/fuzz_$t
    log=$OUT/fuzz_$t.log
    reg=tests/fuzz/regressions/$t
    mkdir -p "$reg" "$OUT/seeds/$t"
    opts=(-print_final_stats=1 -timeout=10 -rss_limit_mb=2048 "-artifact_prefix=$reg/")
    [ -n "${MAXLEN[$t]:-}" ] && opts+=("-max_len=${MAXLEN[$t]}")
    : >"$log"
    ok=1
    # Known crashes first: each file is run once.
    mapfile -t regs < <(find "$reg" -type f ! -name '.*' | sort)
    if [ ${#regs[@]} -gt 0 ]; then
        "$bin" "${opts[@]}" "${regs[@]}" >>"$log" 2>&1 || ok=0
    fi
    if [ $ok -eq 1 ]; then
        if [ "$mode" = smoke ]; then
            work=$(mktemp -d "$OUT/smoke.XXXXXX")
            "$bin" "${opts[@]}" -runs="$RUNS" -seed="${FUZZ_SEED:-1}" "$work" "$OUT/seeds/$t" \
                >>"$log" 2>&1 || ok=0
            rm -rf "$work"
        else
            mkdir -p "$OUT/corpus/$t"
            "$bin" "${opts[@]}" -max_total_time="$TIME" "$OUT/corpus/$t" "$OUT/seeds/$t" \
                >>"$log" 2>&1 || ok=0
        fi
    fi
    n=$(count_execs "$log")
    execs=$((execs + n))
    if [ $ok -eq 1 ]; then
        pass=$((pass + 1))
        echo "ok   $t ($n executions)"
    else
        fail=$((fail + 1)) failed+=("$t")
        echo "FAIL $t ($n executions; log $log, reproducers in $reg/)"
        grep -E '^(==[0-9]+==ERROR|SUMMARY|.*runtime error|artifact_prefix|Test unit written)' "$log" |
            head -n 8 | sed 's/^/    /'
    fi
done

if [ "$mode" = build ]; then
    echo "fuzz: $pass built, $fail failed, $skip skipped"
else
    echo "fuzz: $pass passed, $fail failed ($skip skipped, $execs executions)"
    echo "fuzz $pass $fail $skip" >>"$results"
fi
[ $fail -eq 0 ] || {
    printf 'failed: %s\n' "${failed[@]}"
    exit 1
}
