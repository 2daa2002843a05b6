#!/bin/sh
# tubewatch parse-page on every saved page of the shared youtube-2026 and
# innertube fixtures and on the project's own page fixtures: each file's
# kind, video, channel, state, chat token (its decoded video and type) and
# /streams entries must match the table below, established by reading each
# page. A chat token must name the page's video and never be a relative
# (32-character) one. Also: a bad file gets an error on stderr and exit 100
# while the other files are still printed. Skips (77) without the shared
# fixtures, after checking the project's own ones.
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
SHARED=${TW_SHARED:-../shared}
tool="$BUILD/bin/tubewatch"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# file|kind|video_id|channel_id|state|chat video|chat type|streams
# ("-" = null or none; streams = video:state,...)
cat >"$tmp/expect" <<'EOF'
AiraniIofifteen.live.2026-02-17.current.html|watch|c2lb7tb1SEA|UCAoy6rzhSf4ydcYjJw3WoVg|upcoming|c2lb7tb1SEA|top|-
AiraniIofifteen.live.2026-02-17.html|watch|c2lb7tb1SEA|UCAoy6rzhSf4ydcYjJw3WoVg|upcoming|c2lb7tb1SEA|top|-
AiraniIofifteen.streams.2026-02-17.html|streams|-|UCAoy6rzhSf4ydcYjJw3WoVg|-|-|-|c2lb7tb1SEA:upcoming
AkiRosenthal.live.2026-02-17.html|watch|qS50yDHZOx4|UCFTLzh12_nrtzqBPsTCqenA|upcoming|qS50yDHZOx4|top|-
AkiRosenthal.memberlive.qS50yDHZOx4.2026-02-17.html|watch|qS50yDHZOx4|UCFTLzh12_nrtzqBPsTCqenA|members_only|-|-|-
AkiRosenthal.streams.2026-02-17.current.html|streams|-|UCFTLzh12_nrtzqBPsTCqenA|-|-|-|VoWHIX4tp5k:upcoming,qS50yDHZOx4:live
_HakosBaelz.streams.2026-04-23.html|streams|-|UCgmPnx-EEeOrZSg5Tiw7ZRQ|-|-|-|197OEpjj8RI:upcoming
masterchat_watch_upcoming.html|watch|g9KTW9kWGFo|UCL_qhgtOy0dy1Agp8vkySQg|upcoming|g9KTW9kWGFo|live|-
youtubechat_watch_replay.html|watch|dchqdFOW8EI|UCxkOLgdNumvVIQqn5ps_bJA|ended|dchqdFOW8EI|live|-
chatdl_initial_livechat_2020.json|live_chat|7kdepDepMjk|UC9pYOJPB5UYlMlGKKZWo-Bw|-|7kdepDepMjk|live|-
pytchat_membership_reload.json|live_chat|MC3wUJ-BXNE|UCnRQYHTnRLSF0cLJwMnedCg|-|MC3wUJ-BXNE|live|-
watch_2026.html|watch|WATCH202601|UCwatch00000000000000001|live|WATCH202601|top|-
live_chat_2026.html|live_chat|LCVIDEO0001|UCchat000000000000000001|-|LCVIDEO0001|live|-
get_live_chat_2026.json|live_chat|GLCVIDEO002|UCchat000000000000000002|-|GLCVIDEO002|live|-
player_members_unplayable.json|watch|MEMBERS2026|UCmem000000000000000002|members_only|-|-|-
player_members_only.json|watch|MEMBERS0001|UCmem000000000000000000|members_only|-|-|-
streams_lockup.json|streams|-|UCstreams000000000000001|-|-|-|LKUPCOMING1:upcoming,LKLIVENOW01:live,LKOWNUPCOM2:upcoming
streams_video.json|streams|-|UCstreams000000000000001|-|-|-|VRUPCOMING1:upcoming,VRLIVENOW01:live,VRLIVEBADGE:live,VRPREMIERE1:upcoming,VRCONTINUE1:live
EOF

own="tests/fixtures/youtube/watch_2026.html
tests/fixtures/youtube/live_chat_2026.html
tests/fixtures/youtube/get_live_chat_2026.json
tests/fixtures/youtube/player_members_unplayable.json
tests/fixtures/youtube/player_members_only.json
tests/fixtures/youtube/streams_lockup.json
tests/fixtures/youtube/streams_video.json"
shared=
if [ -d "$SHARED/fixtures/youtube-2026/pages" ]; then
    # Every file of pages/, so a new capture without an expectation fails.
    shared=$(find "$SHARED/fixtures/youtube-2026/pages" -type f |
        LC_ALL=C sort)
    shared="$shared
$SHARED/fixtures/innertube/pages/masterchat_watch_upcoming.html
$SHARED/fixtures/innertube/pages/youtubechat_watch_replay.html
$SHARED/fixtures/innertube/live/chatdl_initial_livechat_2020.json
$SHARED/fixtures/innertube/live/pytchat_membership_reload.json"
fi

n=0 bad=0
for f in $own $shared; do
    name=$(basename "$f")
    want=$(grep -F "$name|" "$tmp/expect" | head -1 | cut -d'|' -f2-)
    if [ -z "$want" ]; then
        echo "FAIL: no expectation for $f"
        bad=$((bad + 1))
        continue
    fi
    n=$((n + 1))
    if ! "$tool" parse-page "$f" >"$tmp/out" 2>"$tmp/err"; then
        echo "FAIL: parse-page $f failed: $(cat "$tmp/err")"
        bad=$((bad + 1))
        continue
    fi
    if [ "$(wc -l <"$tmp/out")" -ne 1 ]; then
        echo "FAIL: $f: not one line"
        bad=$((bad + 1))
        continue
    fi
    got=$(jq -r '[.kind, (.video_id // "-"), (.channel_id // "-"),
        (.state // "-"), (.chat.video_id // "-"), (.chat.chat_type // "-"),
        ([.streams[] | .video_id + ":" + .state] | join(",")
         | if . == "" then "-" else . end)] | join("|")' "$tmp/out")
    if [ "$got" != "$want" ]; then
        echo "FAIL: $name"
        echo "  want $want"
        echo "  got  $got"
        bad=$((bad + 1))
    fi
    # Never a relative token; the file name matches its own object.
    if ! jq -e --arg name "$name" '.file == $name and
        (.chat == null or ((.chat.continuation | length) > 32
         and .chat.video_id == .video_id))' "$tmp/out" >/dev/null; then
        echo "FAIL: $name: file name or chat token wrong: $(cat "$tmp/out")"
        bad=$((bad + 1))
    fi
done

# A bad file: a clear error, exit 100, the good file still printed.
printf '<html>no data</html>' >"$tmp/bad.html"
"$tool" parse-page "$tmp/bad.html" tests/fixtures/youtube/watch_2026.html \
    >"$tmp/out" 2>"$tmp/err"
rc=$?
if [ "$rc" -ne 100 ] || ! grep -q "bad.html" "$tmp/err" ||
    [ "$(jq -r .video_id "$tmp/out")" != WATCH202601 ]; then
    echo "FAIL: bad file: exit $rc, stderr $(cat "$tmp/err")"
    bad=$((bad + 1))
fi
"$tool" parse-page "$tmp/missing.html" >/dev/null 2>"$tmp/err"
rc=$?
if [ "$rc" -ne 111 ] || ! grep -q "missing.html" "$tmp/err"; then
    echo "FAIL: missing file: exit $rc"
    bad=$((bad + 1))
fi

echo "parse-page-fixtures: $n files, $bad failures"
[ "$bad" -eq 0 ] || exit 1
if [ -z "$shared" ]; then
    echo "parse-page-fixtures: skipped: no shared fixtures at $SHARED/fixtures"
    exit 77
fi
[ "$n" -ge 18 ]
