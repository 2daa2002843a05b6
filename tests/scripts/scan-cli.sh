#!/bin/sh
# scan-cli: `tubewatch channels add|rm|ls` and `tubewatch streams` on a
# scratch config: validation, comments kept, duplicates, exit codes, JSON.
set -u
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
TW=$BUILD/bin/tubewatch
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
tw() { "$TW" -c "$T/tw.toml" "$@"; }
printf '# my channels\nUCaaaaaaaaaaaaaaaaaaaaaa  # first\n' >"$T/channels.txt"
chmod 600 "$T/channels.txt"
tw channels add https://www.youtube.com/@SomeOne/streams UCbbbbbbbbbbbbbbbbbbbbbb >"$T/out" ||
    fail "add"
grep -qx '@SomeOne' "$T/channels.txt" || fail "handle not added"
grep -qx 'UCbbbbbbbbbbbbbbbbbbbbbb' "$T/channels.txt" || fail "id not added"
grep -qx '# my channels' "$T/channels.txt" || fail "comment lost"
[ "$(stat -c %a "$T/channels.txt")" = 600 ] || fail "mode not kept"
tw channels add UCaaaaaaaaaaaaaaaaaaaaaa | grep -q 'already listed' || fail "duplicate"
[ "$(grep -c UCaaaa "$T/channels.txt")" = 1 ] || fail "duplicate added"
tw channels add 'not a channel' 2>/dev/null
[ $? = 100 ] || fail "bad input accepted"
tw channels add https://www.youtube.com/c/legacy 2>/dev/null
[ $? = 100 ] || fail "legacy /c/ URL accepted"
tw channels rm @SomeOne >/dev/null || fail "rm"
grep -q SomeOne "$T/channels.txt" && fail "rm kept the line"
tw channels rm @nobody 2>/dev/null
[ $? = 1 ] || fail "rm of an unlisted channel"
tw --json channels ls | jq -e '.channels | length == 2' >/dev/null || fail "ls --json"
tw channels ls | grep -q '^UCbbbbbbbbbbbbbbbbbbbbbb' || fail "ls"
# streams: an empty table, then one written like the scanner does
tw streams | grep -q '^VIDEO' || fail "streams header"
printf 'video_id\tchannel_id\tstate\tscheduled_start\tactual_start\tactual_end\tspawn_not_before\tupdated_at\tchecked_at\treason\ttitle\n' >"$T/state/scanner/streams.tsv"
printf 'abcdefghijk\tUCaaaaaaaaaaaaaaaaaaaaaa\tscheduled\t2030-01-01T10:00:00Z\t\t\t2030-01-01T09:55:00Z\t\t\t\tTab\\there\n' >>"$T/state/scanner/streams.tsv"
printf 'bcdefghijkl\tUCaaaaaaaaaaaaaaaaaaaaaa\tvideo\t\t\t\t\t\t\t\tjust a video\n' >>"$T/state/scanner/streams.tsv"
printf 'garbage line\n' >>"$T/state/scanner/streams.tsv"
tw streams | grep -q '^abcdefghijk scheduled    2030-01-01 10:00Z' || fail "streams row"
tw streams | grep -q bcdefghijkl && fail "video shown without --all"
tw streams --all | grep -q bcdefghijkl || fail "--all"
tw streams --json | jq -e '.streams[0].title == "Tab\there" and .streams[0].chat_not_before == "2030-01-01T09:55:00.000000Z"' \
    >/dev/null || fail "streams --json"
echo "scan-cli: ok"
