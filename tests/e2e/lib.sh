# Shared helpers for end-to-end tests. Source it first thing in a .test file.
# Every test gets $TEST_TMP (private, removed afterwards); anything started
# under it is stopped by the EXIT trap, so a failing test leaves nothing behind.
set -euo pipefail
: "${TEST_TMP:=$(mktemp -d /tmp/labd-e2e.XXXXXX)}"
: "${LABD:?}" "${LABMON:?}" "${SRC:=$PWD}"
RUN_DIR=$TEST_TMP/run
mkdir -p "$RUN_DIR"

fail() { echo "FAIL: $*" >&2; exit 1; }
note() { echo "# $*"; }

# Skips. A test that cannot run (or cannot run one of its parts) says why,
# and the kind of reason decides what `make check` makes of it:
#   skip_machine REASON  the machine lacks what the test needs: a kernel
#                        feature, hardware, or the privilege to use them (no
#                        network namespaces, one CPU, not root). Allowed, and
#                        listed with its reason in the closing line of
#                        `make check`.
#   skip REASON          anything else: a tool not installed, a build step,
#                        a server that did not start. A FAILURE in `make
#                        check`; a plain skip in `make e2e`.
# skip_part and skip_part_machine record the same for one part of a test and
# let the rest run. The reasons go to $TEST_TMP/skips, read by run.sh.
_skip_record() { printf '%s %s\n' "$1" "$2" >>"$TEST_TMP/skips"; }
skip() { _skip_record other "$*"; echo "skip: $*"; exit 77; }
skip_machine() { _skip_record machine "$*"; echo "skip (machine): $*"; exit 77; }
skip_part() { _skip_record part "$*"; note "part skipped: $*"; }
skip_part_machine() { _skip_record part-machine "$*"; note "part skipped (machine): $*"; }

# as_unprivileged CMD...: run CMD as an unprivileged user (nobody, 65534)
# when we are root, so checks that need "permission denied" hold in a
# root-only CI too; as is otherwise. "${AS_UNPRIVILEGED[@]}" CMD & is the
# same for a background process ($! is then the command itself).
AS_UNPRIVILEGED=()
[ "$(id -u)" != 0 ] || AS_UNPRIVILEGED=(setpriv --reuid=65534 --regid=65534 --clear-groups --)
as_unprivileged() { "${AS_UNPRIVILEGED[@]}" "$@"; }
# open_to_unprivileged: let that user into $TEST_TMP (mktemp made it 0700)
# and write to $RUN_DIR.
open_to_unprivileged() { chmod 755 "$TEST_TMP" && chmod 777 "$RUN_DIR"; }

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
    # ...and wait for it to be gone: a killed process with a full socket
    # takes a moment to exit, and the runner then counts it as leaked.
    local i
    for ((i = 0; i < 50; i++)); do
        pgrep -f "$TEST_TMP" >/dev/null 2>&1 || break
        sleep 0.1
    done
    # Whatever the test checked, a worker or labmon that died of a system
    # call outside its sandbox's list is a failure: every test's traffic
    # doubles as a check of the lists (labd's error logs, labmon's stderr).
    local forbidden
    forbidden=$(grep -rhs --include='*.log' --include='*.err' --include='out' \
        "is not in the sandbox's allow-list" "$TEST_TMP" 2>/dev/null | head -n 3 || true)
    if [ $rc = 0 ] && [ -n "$forbidden" ]; then
        echo "FAIL: a sandboxed process made a forbidden call: $forbidden"
        rc=1
    fi
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
