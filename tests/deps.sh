#!/usr/bin/env bash
# Install what the build (`build`) or the test suite (`test`) needs, through
# apt-get, and only when it is missing: a machine that has everything is
# not touched.
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

[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
    echo "deps: missing ${missing[*]}; install them (sudo apt-get install ${missing[*]}) or run as root" >&2
    exit 1
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; answer no without a prompt.
echo 'wireshark-common wireshark-common/install-setuid boolean false' | debconf-set-selections 2>/dev/null || true
apt-get update -qq >/dev/null || { echo "deps: apt-get update failed" >&2; exit 1; }
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null ||
    { echo "deps: apt-get install ${missing[*]} failed" >&2; exit 1; }
