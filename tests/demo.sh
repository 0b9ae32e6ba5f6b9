#!/usr/bin/env bash
# `make demo`: start labd on the bundled site and show where to browse.
set -eu
labd=$1
port=${PORT:-8080}
"$labd" start --port "$port"
echo "labd is serving the bundled site: http://localhost:$port/"
echo "stop it with: $labd stop"
