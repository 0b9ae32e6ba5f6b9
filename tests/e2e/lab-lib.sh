# Helpers for the lab- end-to-end tests (source after lib.sh): the lab_probe
# test program (tests/e2e/lab_probe.c) started in the background, what it
# says it made, and checks that nothing of it is left. Traffic goes only to
# the probe's own namespaces: curl is bound to the lab interface.
[ "$(id -u)" = 0 ] || skip "needs root (network namespaces, veth, packet capture)"
PROBE=${LAB_PROBE:-$(dirname "$LABD")/tests/e2e/lab_probe}
[ -x "$PROBE" ] || fail "no $PROBE (make $(dirname "$LABD")/tests/e2e/lab_probe)"
for t in ip curl tcpdump tshark; do
    command -v $t >/dev/null || skip "$t not installed"
done
WWW=$TEST_TMP/www
mkdir -p "$WWW"

# The host's lab interfaces and its named namespaces, to compare before and
# after. Other suites may run at the same time on this machine: interfaces
# other than labd* are not ours, nor are rel-labmon-live's labd-rel-* names.
host_state() {
    ip -o link show | awk -F': ' '{sub(/@.*/, "", $2); print $2}' | grep '^labd' | sort || true
    ip netns list | grep -v '^labd-rel-' || true
}
HOST_BEFORE=$(host_state)

# probe_start NAME ARGS...: run lab_probe, wait for "ready"; its lines land in
# $TEST_TMP/NAME.out, and P_PID, P_IF, P_URL, P_LAB_INO, P_WIRE_INO, P_WIRE_PID
# describe it. The EXIT trap kills it (and its wire) if the test does not.
probe_start() {
    local name=$1
    shift
    "$PROBE" --port 8080 --root "$WWW" "$@" >"$TEST_TMP/$name.out" 2>"$TEST_TMP/$name.err" &
    P_PID=$!
    on_exit "kill -9 $P_PID"
    wait_for 20 grep -qx ready "$TEST_TMP/$name.out" ||
        fail "$name did not start: $(cat "$TEST_TMP/$name.err")"
    P_IF=$(probe_field "$name" host_if)
    P_URL=$(probe_field "$name" url)
    P_LAB_INO=$(probe_field "$name" lab_ns_ino)
    P_WIRE_INO=$(probe_field "$name" wire_ns_ino)
    P_WIRE_PID=$(probe_field "$name" wire_pid)
    [ "$P_WIRE_PID" = 0 ] || on_exit "kill -9 $P_WIRE_PID"
    note "$name: pid $P_PID, $P_URL via $P_IF, lab ns $P_LAB_INO, wire ns $P_WIRE_INO (pid $P_WIRE_PID)"
}
probe_field() { awk -v k="$2" '$1 == k {print $2; exit}' "$TEST_TMP/$1.out"; }
probe_stat() { awk -v d="$2" -v f="$3" '$1 == "stat" && $2 == d && $3 == f {print $4}' "$TEST_TMP/$1.out"; }

# probe_stop NAME: SIGTERM, wait for the exit and its counters.
probe_stop() {
    kill -TERM "$P_PID"
    wait_for 20 grep -qx bye "$TEST_TMP/$1.out" || fail "$1 did not stop on SIGTERM"
    wait "$P_PID" || fail "$1 exited with $?"
}

# curl over the lab link only: bound to the interface, it cannot go anywhere else.
lab_curl() { curl --interface "$P_IF" --max-time 30 -s "$@"; }

# A namespace is gone when no process is in it and no descriptor names it
# (a socket keeps its namespace too, but every process holding one is gone).
ns_unused() {
    [ "$1" = 0 ] && return 0
    # find complains about processes it may not read; what it found is what counts.
    [ -z "$(find /proc/[0-9]*/ns /proc/[0-9]*/fd -maxdepth 1 -lname "net:\[$1\]" 2>/dev/null || true)" ]
}

# After the probe ended: its interface, its namespaces and its processes are gone.
expect_gone() { # IFNAME LAB_INO WIRE_INO PID...
    local ifname=$1 lab=$2 wire=$3
    shift 3
    wait_for 20 bash -c "! ip link show '$ifname'" || fail "$ifname still there: $(ip -br link show "$ifname")"
    for pid in "$@"; do
        [ "$pid" = 0 ] || wait_for 10 bash -c "! kill -0 $pid 2>/dev/null" || fail "pid $pid still alive"
    done
    ns_unused "$lab" || fail "lab namespace $lab still referenced"
    ns_unused "$wire" || fail "wire namespace $wire still referenced"
}

# The host as before the test: same interfaces, same named namespaces.
expect_host_unchanged() {
    local now
    now=$(host_state)
    [ "$now" = "$HOST_BEFORE" ] || fail "host changed: before [$HOST_BEFORE] now [$now]"
}

# tshark over a capture file with a display filter, one field per line.
fields() { # FILE FILTER FIELD...
    local f=$1 y=$2
    shift 2
    tshark -r "$f" -Y "$y" -T fields $(printf -- '-e %s ' "$@") 2>/dev/null
}

# capture_start NAME [FILTER]: tcpdump on $P_IF (the link's host end) into $TEST_TMP/NAME.pcap.
capture_start() {
    tcpdump -i "$P_IF" -B 65536 --immediate-mode -U -w "$TEST_TMP/$1.pcap" ${2:+"$2"} \
        2>"$TEST_TMP/$1.tcpdump" &
    CAP_PID=$!
    on_exit "kill $CAP_PID"
    wait_for 10 grep -q 'listening on' "$TEST_TMP/$1.tcpdump" || fail "tcpdump did not start"
}
capture_stop() {
    sleep 0.3
    kill -INT "$CAP_PID"
    wait "$CAP_PID" || true
}
