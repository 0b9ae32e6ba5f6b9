# Shared helpers for end-to-end tests. Source it first thing in a .test file.
# Every test gets $TEST_TMP (private, removed afterwards); anything started
# under it is stopped by the EXIT trap, so a failing test leaves nothing behind.
set -euo pipefail
: "${TEST_TMP:=$(mktemp -d /tmp/labd-e2e.XXXXXX)}"
: "${LABD:?}" "${LABMON:?}" "${SRC:=$PWD}"
RUN_DIR=$TEST_TMP/run
mkdir -p "$RUN_DIR"

fail() { echo "FAIL: $*" >&2; exit 1; }
skip() { echo "$*"; exit 77; }
note() { echo "# $*"; }

# A TCP port nobody listens on now (bound then released by the kernel's choice).
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

_cleanup_hooks=()
on_exit() { _cleanup_hooks+=("$*"); }
_run_cleanup() {
    local rc=$?
    for h in "${_cleanup_hooks[@]}"; do eval "$h" >/dev/null 2>&1 || true; done
    # Last resort: anything still running from our private directory.
    pkill -9 -f "$TEST_TMP" >/dev/null 2>&1 || true
    exit $rc
}
trap _run_cleanup EXIT

# Assert helpers: expect_eq WHAT GOT WANT
expect_eq() { [ "$2" = "$3" ] || fail "$1: got '$2', want '$3'"; }
expect_match() { [[ $2 =~ $3 ]] || fail "$1: '$2' does not match /$3/"; }

# Wait until CMD succeeds, polling every 0.05 s for at most SECONDS.
wait_for() {
    local secs=$1; shift
    local end=$(( $(date +%s%N) + secs * 1000000000 ))
    until "$@" >/dev/null 2>&1; do
        [ "$(date +%s%N)" -lt $end ] || return 1
        sleep 0.05
    done
}
