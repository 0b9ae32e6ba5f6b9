#!/usr/bin/env bash
# Regenerate the bundled site's media: the spoken lab introduction
# (audio/intro.mp3 and its copy cn/实验二.mp3), the profile picture and the
# favicon. Everything is synthesised from free tools, nothing is downloaded.
#
# Needs (Debian packages): espeak-ng, sox, lame, python3.
# Usage: www/.tools/make-media.sh        (from anywhere; writes into www/)
#
# The output is deterministic for a given set of tool versions: espeak-ng,
# sox (run with -R, no dither) and lame embed no time stamps or random data.
set -euo pipefail

tools=$(cd "$(dirname "$0")" && pwd)
www=$(dirname "$tools")
for t in espeak-ng sox lame python3; do
    command -v "$t" >/dev/null || { echo "make-media: $t is missing (apt-get install $t)" >&2; exit 1; }
done
tmp=$(mktemp -d /tmp/make-media.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

rate=44100
slot=40          # one spoken part every 40 s, so seeking lands on a new part
lead=2           # seconds of tone bed before the first word
total=225        # 3 min 45 s at 128 kbit/s: about 3.6 MB

# The introduction, one part per line. Each part starts at lead + i*slot.
parts=(
"Hello, and welcome to the networking lab. My name is Ada Student, and this is my lab page, served by labd, a small pre-fork web server. While you listen, start labmon in another terminal, and watch this very audio file travel across the network."
"Part one. The handshake. Before a single byte of this page arrives, your browser and the server exchange three segments: a SYN, a SYN ACK, and an ACK. Look at the options they carry: the maximum segment size, selective acknowledgement, window scaling, and time stamps."
"Part two. The request. Your browser asked for the page with a GET request, and the server answered two hundred, OK. Reload the page, and the answer becomes three hundred and four, Not Modified, because nothing has changed since your last visit."
"Part three. Streaming. This file is a few megabytes long, so it travels in many segments. When you move the slider of the player, the browser asks for a range of bytes, and the server answers two hundred and six, Partial Content. Watch the window updates as the buffers drain."
"Part four. The goodbye. When the connection has been idle for five seconds, the server closes it with a FIN. Follow the four-way close: FIN wait, close wait, last ACK, and time wait. If the browser gives up early, it sends a reset instead."
"That is the end of the introduction. Thank you for listening, and enjoy the lab."
)

# Speech: each part rendered by espeak-ng, padded so it starts in its slot.
speech_files=()
for i in "${!parts[@]}"; do
    espeak-ng -v en-us -s 145 -p 45 -w "$tmp/part$i.wav" "${parts[$i]}"
    len=$(soxi -D "$tmp/part$i.wav")
    if ! awk -v l="$len" -v s="$slot" 'BEGIN { exit !(l < s - 2) }'; then
        echo "make-media: part $i lasts ${len}s, longer than its ${slot}s slot" >&2
        exit 1
    fi
    sox -R -D "$tmp/part$i.wav" -r $rate -c 2 "$tmp/speech$i.wav" \
        rate -v $rate gain -6 highpass 80 gain -n -4 pad $((lead + i * slot))
    speech_files+=(-v 1 "$tmp/speech$i.wav")
done
# The parts never overlap, so mix at full volume (sox -m would divide by n).
sox -R -D -m "${speech_files[@]}" "$tmp/speech.wav"

# Tone bed: a slow Am-F-C-G pad of soft sines, each chord breathing in and
# out, a little reverb for width, far below the voice.
chord() { # name seconds freq...
    local name=$1 secs=$2 f1=$3
    shift 3
    local spec=(sine "$f1")
    for f in "$@"; do spec+=(sine mix "$f"); done
    sox -R -D -n -r $rate -c 1 "$tmp/$name.wav" synth "$secs" "${spec[@]}" \
        tremolo 0.2 20 fade q 3 "$secs" 3
}
beat=9
chord am $beat 110.00 220.00 261.63 329.63
chord f $beat 87.31 174.61 220.00 261.63
chord c $beat 130.81 196.00 261.63 329.63
chord g $beat 98.00 196.00 246.94 293.66
seq=()
for ((t = 0; t < total; t += 4 * beat)); do
    seq+=("$tmp/am.wav" "$tmp/f.wav" "$tmp/c.wav" "$tmp/g.wav")
done
# The fade-out ends at $total seconds and cuts the rest.
sox -R -D "${seq[@]}" -c 2 "$tmp/bed.wav" lowpass 1200 reverb 60 50 80 \
    gain -n -30 fade t 2 $total 6

# Voice peaks at -4 dBFS, the bed at -30 dBFS: their sum cannot clip.
sox -R -D -m -v 1 "$tmp/speech.wav" -v 1 "$tmp/bed.wav" "$tmp/mix.wav" gain -n -1

mkdir -p "$www/audio" "$www/cn" "$www/img"
lame --quiet -b 128 --cbr -m j -q 2 --id3v2-only \
    --tt "Welcome to the networking lab" --ta "Ada Student" \
    --tl "labd lab site" --ty 2026 --tg Speech \
    --tc "espeak-ng + sox + lame, www/.tools/make-media.sh" \
    "$tmp/mix.wav" "$www/audio/intro.mp3"
# A real copy, not a symlink: a server may refuse to follow symlinks.
cp "$www/audio/intro.mp3" "$www/cn/实验二.mp3"

python3 "$tools/draw-images.py" "$www"
ls -l "$www/audio/intro.mp3" "$www/cn/实验二.mp3" "$www/img/profile.png" "$www/favicon.ico"
