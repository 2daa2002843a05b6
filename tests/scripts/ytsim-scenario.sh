#!/bin/sh
# ytsim-scenario: TOML scenarios: explicit ids and settings, faults and
# load mode from the file, clear errors (exit 100) for bad files.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/fixtures/ytsim/lib.sh
trap ytsim_cleanup EXIT
T=$YS_TMP
if ! "$YTSIM" --check --scenario tests/fixtures/ytsim/demo.toml >"$T/check" 2>&1; then
    if grep -q 'without the TOML parser' "$T/check"; then
        echo "skipped: this ytsim cannot read TOML scenarios"
        exit 77
    fi
    cat "$T/check" >&2
    fail "demo.toml refused"
fi
grep -q 'scenario ok: 2 channels, 8 streams' "$T/check" || fail "check: $(cat "$T/check")"

cat >"$T/s.toml" <<'EOF'
seed = 5
epoch = 2026-01-01T00:00:00Z
api_key = "k"
quota_per_day = 3

[defaults]
rate = 10
timeout_ms = 2000
mix = { text = 1 }

[[channel]]
id = "UCabcdefghijklmnopqrstuv"
handle = "@simone"
title = "Simone"

[[channel.stream]]
id = "abcdefghijk"
title = "Main event"
scheduled = 0
start = 10
duration = 100
views = 42
likes_hidden = true
viewers_curve = [[0, 100], [30, 400], [60, 0]]

[[channel.stream]]
id = "ABCDEFGHIJK"
title = "Never starts"
scheduled = 500

[[fault]]
endpoint = "rss"
kind = "429"
from = 0
to = 1000
retry_after = 9

[telegram]
token = "42:sim"
chats = [1, -2]
blocked = [7]
migrated = [[-5, -1005]]

[load]
streams = 2
rate = 1000
EOF
ytsim_start --scenario "$T/s.toml" --time 50 --speed 0
awk -F '\t' '$1 == "abcdefghijk" && $2 == "UCabcdefghijklmnopqrstuv" && $4 == "live" && $5 == "2026-01-01T00:00:00Z" && $6 == "2026-01-01T00:00:10Z"' \
    "$YS_OUT/truth/streams.tsv" | grep -q . || fail "stream settings"
awk -F '\t' '$1 == "ABCDEFGHIJK" && $4 == "upcoming"' "$YS_OUT/truth/streams.tsv" |
    grep -q . || fail "upcoming stream"
[ "$(grep -c 'Load stream' "$YS_OUT/truth/streams.tsv")" = 2 ] || fail "load streams"
code=$(curl -s -o /dev/null -D "$T/h" -w '%{http_code}' "$YS_URL/feeds/videos.xml?channel_id=UCabcdefghijklmnopqrstuv")
[ "$code" = 429 ] || fail "TOML fault not applied ($code)"
grep -qi '^retry-after: 9' "$T/h" || fail "retry_after from TOML"
curl -s "$YS_URL/youtube/v3/videos?part=statistics,liveStreamingDetails&id=abcdefghijk&key=k" >"$T/v"
jq -e '.items[0].statistics | (has("likeCount") | not) and .viewCount != "0"' "$T/v" \
    >/dev/null || fail "likes_hidden / views"
# 40 s after the start: 400 + (10/30) * (0 - 400)
jq -e '.items[0].liveStreamingDetails.concurrentViewers == "267"' "$T/v" \
    >/dev/null || fail "viewers_curve: $(jq -c .items[0].liveStreamingDetails "$T/v")"
curl -s "$YS_URL/channels/x" >/dev/null
code=$(curl -s -o /dev/null -w '%{http_code}' "$YS_URL/@simone")
[ "$code" = 200 ] || fail "handle page"
curl -s "$YS_URL/@simone" | grep -q '"externalId":"UCabcdefghijklmnopqrstuv"' ||
    fail "externalId on the channel page"
curl -s "$YS_URL/@simone" |
    grep -q '<link rel="canonical" href="https://www.youtube.com/channel/UCabcdefghijklmnopqrstuv">' ||
    fail "canonical link on the channel page"
for i in 1 2 3; do
    curl -s -o /dev/null "$YS_URL/youtube/v3/channels?part=id&forHandle=@simone&key=k"
done
code=$(curl -s -o /dev/null -w '%{http_code}' "$YS_URL/youtube/v3/channels?part=id&forHandle=@simone&key=k")
[ "$code" = 403 ] || fail "quota_per_day = 3 not enforced ($code)"
code=$(curl -s -o "$T/tg" -w '%{http_code}' -d chat_id=7 -d text=hi "$YS_URL/bot42:sim/sendMessage")
[ "$code" = 403 ] || fail "blocked chat gave $code"
code=$(curl -s -o "$T/tg" -w '%{http_code}' -d chat_id=-5 -d text=hi "$YS_URL/bot42:sim/sendMessage")
[ "$code" = 400 ] && jq -e '.parameters.migrate_to_chat_id == -1005' "$T/tg" >/dev/null ||
    fail "migrated chat"
ytsim_stop
ls "$YS_OUT"/truth/chat | grep -q . || fail "no truth files"
[ "$(ls "$YS_OUT"/truth/chat/*.tsv | wc -l)" = 4 ] || fail "load streams have truth files"
awk -F '\t' '$1 == "channels.list" && $2 == 4 && $3 == 2' "$YS_OUT/quota.tsv" |
    grep -q . || fail "quota.tsv: $(cat "$YS_OUT/quota.tsv")"

bad() { # EXPECTED-TEXT: the scenario on stdin must be refused with exit 100
    cat >"$T/bad.toml"
    "$YTSIM" --check --scenario "$T/bad.toml" >/dev/null 2>"$T/err"
    rc=$?
    [ $rc = 100 ] || fail "bad scenario exit $rc, want 100"
    grep -q "$1" "$T/err" || fail "error message: $(cat "$T/err")"
}
printf 'seed = 1\n[[channel]\n' | bad 'bad.toml:2:'
printf '[[channel]]\n[[channel.stream]]\nid = "short"\nstart = 1\n' | bad 'is not 11 id chars'
printf '[[fault]]\nkind = "boom"\n' | bad 'unknown kind'
printf '[[channel]]\n[[channel.stream]]\ntitle = "x"\n' | bad 'needs scheduled'
printf 'seed = "x"\n' | bad 'seed: expected a number'
printf 'era = "2024"\n' | bad 'era: expected "2022" or "2026"'
printf '[[channel]]\nhl = "fr"\n' | bad 'hl must be'
printf '[[channel]]\nstreams_form = "grid"\n' | bad 'streams_form'
"$YTSIM" --scenario builtin --era 2024 --listen 127.0.0.1:0 --out "$T/x" 2>/dev/null
[ $? = 100 ] || fail "--era 2024 accepted"
echo "ytsim-scenario: ok"
