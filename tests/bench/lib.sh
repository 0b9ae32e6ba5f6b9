# Helpers shared by tests/bench/run.sh and profile.sh (sourced).
# shellcheck shell=bash

# A TCP port nobody listens on now, from the range the kernel does not hand
# out to clients (ip_local_port_range starts at 32768 by default).
free_port() {
    local p i
    for ((i = 0; i < 100; i++)); do
        p=$((20000 + RANDOM % 12000))
        [ -z "$(ss -Htln "sport = :$p")" ] && { echo $p; return; }
    done
    return 1
}

# Percent-encode a path (UTF-8 bytes of non-ASCII names included).
url_path() {
    local hex out="" h
    hex=$(printf '%s' "$1" | od -An -tx1 -v)
    for h in $hex; do
        case $h in
        2[d-f] | 3[0-9] | [46][1-9a-f] | [57][0-9a] | 5f) out+=$(printf "\\x$h") ;;
        *) out+="%${h^^}" ;;
        esac
    done
    printf '%s\n' "$out"
}
