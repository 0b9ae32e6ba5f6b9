#!/usr/bin/env bash
# Install what the build (`build`), the test suite (`test`) or the
# benchmarks' extra anchors (`bench`) need, through apt-get, and only when it
# is missing: a machine that has everything is not touched.
set -u
what=${1:-build}
missing=()

have_header() { printf '#include <%s>\n' "$1" | cc -E -x c - >/dev/null 2>&1; }
have_cmd() { command -v "$1" >/dev/null 2>&1; }

command -v cc >/dev/null 2>&1 || missing+=(gcc libc6-dev)
have_cmd make || missing+=(make)
have_cmd pkg-config || missing+=(pkg-config)
if have_cmd cc; then
    have_header pcap.h || missing+=(libpcap-dev)
    have_header ncurses.h || missing+=(libncurses-dev)
    have_header cmocka.h || missing+=(libcmocka-dev)
    have_header libmnl/libmnl.h || missing+=(libmnl-dev)
    have_header seccomp.h || missing+=(libseccomp-dev)
fi

if [ "$what" = test ]; then
    have_cmd curl || missing+=(curl)
    have_cmd clang-format || missing+=(clang-format)
    have_cmd clang || missing+=(clang)
    have_cmd valgrind || missing+=(valgrind)
    have_cmd strace || missing+=(strace)
    have_cmd tcpdump || missing+=(tcpdump)
    have_cmd tshark || missing+=(tshark)
    have_cmd wrk || missing+=(wrk)
    have_cmd nginx || missing+=(nginx-light)
    have_cmd tmux || missing+=(tmux)
    have_cmd ip || missing+=(iproute2)
    have_cmd chromium || missing+=(chromium)
    have_cmd python3 || missing+=(python3)
    have_cmd ss || missing+=(iproute2)
    have_cmd setpriv || missing+=(util-linux)
    have_cmd file || missing+=(file)
    [ -f /etc/mime.types ] || missing+=(media-types)
fi

# make bench: h2o and lighttpd beside nginx (tests/bench/run.sh runs them
# on their own ports with their own configs; the packages' services stay off).
services=()
if [ "$what" = bench ]; then
    have_cmd h2o || { missing+=(h2o); services+=(h2o); }
    have_cmd lighttpd || [ -x /usr/sbin/lighttpd ] || { missing+=(lighttpd); services+=(lighttpd); }
fi

[ ${#missing[@]} -eq 0 ] && exit 0
# The bench's extra anchors are optional: run.sh compares with those present.
fail=1
[ "$what" = bench ] && fail=0
if [ "$(id -u)" != 0 ]; then
    echo "deps: missing ${missing[*]}; install them (sudo apt-get install ${missing[*]}) or run as root" >&2
    exit $fail
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; answer no without a prompt.
echo 'wireshark-common wireshark-common/install-setuid boolean false' | debconf-set-selections 2>/dev/null || true
apt-get update -qq >/dev/null || { echo "deps: apt-get update failed" >&2; exit $fail; }
# A server package starts its service on install (lighttpd's would take
# port 80): a policy-rc.d that refuses every start while apt runs, unless
# the machine has one already (containers often do).
policy=/usr/sbin/policy-rc.d
own_policy=0
if [ ${#services[@]} -gt 0 ] && [ ! -e $policy ]; then
    trap 'rm -f $policy' EXIT # also when apt-get is interrupted
    printf '#!/bin/sh\n# deps.sh: no service starts during apt-get install\nexit 101\n' >$policy &&
        chmod 755 $policy && own_policy=1
fi
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
rc=$?
[ $own_policy = 1 ] && rm -f $policy
[ $rc = 0 ] || { echo "deps: apt-get install ${missing[*]} failed" >&2; exit $fail; }
# ... and not at the next boot either.
for s in "${services[@]}"; do
    if [ -d /run/systemd/system ]; then
        systemctl disable --now "$s" >/dev/null 2>&1
    elif command -v update-rc.d >/dev/null; then
        update-rc.d "$s" disable >/dev/null 2>&1
    fi
done
exit 0
