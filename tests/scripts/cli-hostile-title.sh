#!/bin/sh
# cli-hostile-title: `tubewatch streams` prints one table row per stream
# whatever the title holds (newlines, tabs, ESC sequences from a hostile
# channel): no forged rows, no terminal control bytes.
set -u
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
TW=$BUILD/bin/tubewatch
[ -x "$TW" ] || { echo "FAIL: build $TW first" >&2; exit 1; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
mkdir -p "$T/state/scanner"
cat >"$T/tw.toml" <<EOC
[supervisor]
runtime_dir = "$T/run"
state_dir = "$T/state"
data_dir = "$T/data"
log_dir = "$T/logs"
[worker.scanner]
channels_file = "$T/channels.txt"
EOC
: >"$T/channels.txt"
printf 'video_id\tchannel_id\tstate\tscheduled_start\tactual_start\tactual_end\tspawn_not_before\tupdated_at\tchecked_at\treason\ttitle\n' >"$T/state/scanner/streams.tsv"
printf 'abcdefghijk\tUCaaaaaaaaaaaaaaaaaaaaaa\tlive\t\t\t\t\t\t\t\tReal\\nzzzzzzzzzzz live FORGED\\r\\t\033[2J\033]0;pwn\007end\n' >>"$T/state/scanner/streams.tsv"
"$TW" -c "$T/tw.toml" streams >"$T/out" || fail "streams failed"
[ "$(wc -l <"$T/out")" -eq 2 ] || { cat -A "$T/out" >&2; fail "a title forged table rows"; }
if LC_ALL=C grep -q "$(printf '[\001-\010\013-\037\177]')" "$T/out"; then
    cat -A "$T/out" >&2
    fail "control bytes in the table"
fi
grep -q 'Real zzzzzzzzzzz live FORGED' "$T/out" || { cat -A "$T/out" >&2; fail "title text lost"; }
"$TW" -c "$T/tw.toml" streams --json | jq -e '.streams[0].title | startswith("Real\nzzz")' >/dev/null ||
    fail "--json must keep the exact title"
echo "cli-hostile-title: ok"
