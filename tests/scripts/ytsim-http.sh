#!/bin/sh
# ytsim-http: RSS conditional GET (ETag / Last-Modified -> 304), channel
# pages, 404s, videos.list limits, clock speed, and a load-mode smoke run.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/fixtures/ytsim/lib.sh
trap ytsim_cleanup EXIT
T=$YS_TMP

ytsim_start --scenario builtin --time 70 --speed 0
C=$(awk -F '\t' 'NR == 2 { print $2 }' "$YS_OUT/truth/streams.tsv")
F="$YS_URL/feeds/videos.xml?channel_id=$C"
curl -s -D "$T/h" -o "$T/feed" "$F"
ET=$(tr -d '\r' <"$T/h" | awk 'tolower($1) == "etag:" { print $2 }')
LM=$(tr -d '\r' <"$T/h" | sed -n 's/^[Ll]ast-[Mm]odified: //p')
[ -n "$ET" ] && [ -n "$LM" ] || fail "no ETag / Last-Modified"
grep -q '<yt:videoId>' "$T/feed" || fail "feed has no entries"
[ "$(curl -s -o /dev/null -w '%{http_code}' -H "If-None-Match: $ET" "$F")" = 304 ] ||
    fail "If-None-Match not 304"
[ "$(curl -s -o /dev/null -w '%{http_code}' -H "If-Modified-Since: $LM" "$F")" = 304 ] ||
    fail "If-Modified-Since not 304"
[ "$(curl -s -o /dev/null -w '%{http_code}' -H 'If-None-Match: "other"' "$F")" = 200 ] ||
    fail "stale ETag not 200"
grep -q 'Private rehearsal\|Deleted stream' "$T/feed" && fail "private/deleted in feed"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$YS_URL/feeds/videos.xml?channel_id=UCnope")" = 404 ] ||
    fail "unknown channel feed"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$YS_URL/no/such/page")" = 404 ] || fail "404"
curl -s "$YS_URL/channel/$C" | grep -q "\"externalId\":\"$C\"" || fail "channel page by id"
curl -s "$YS_URL/@ryokoch" | grep -q '"upcomingEventData"' || fail "upcomingEventData"
ids=$(seq 1 51 | sed 's/.*/AAAAAAAAAAA/' | paste -sd, -)
[ "$(curl -s -o /dev/null -w '%{http_code}' "$YS_URL/youtube/v3/videos?part=id&id=$ids&key=ytsim-api-key")" = 400 ] ||
    fail "51 ids accepted"
D=$(stream_id Deleted)
P=$(stream_id Private)
curl -s "$YS_URL/youtube/v3/videos?part=id&id=$D,$P,AAAAAAAAAAA&key=ytsim-api-key" |
    jq -e '.items == [] and .pageInfo.totalResults == 0' >/dev/null ||
    fail "deleted/private/unknown ids not omitted"
curl -s "$YS_URL/youtube/v3/videos?part=id&id=x" | jq -e '.error.code == 403' \
    >/dev/null || fail "missing key"
curl -s "$YS_URL/ytsim/status" >"$T/st"
jq -e --arg d "$D" '.now == 70 and (.streams | length == 8) and
    (.streams[] | select(.video_id == $d) | .state == "deleted")' "$T/st" \
    >/dev/null || fail "/ytsim/status"
ytsim_stop
grep -q "^GET /feeds/videos.xml?channel_id=$C 304\$" "$YS_OUT/requests.log" ||
    fail "304 not logged"

# the clock runs at --speed: 20x makes a 25 s stream start within ~1.3 s
ytsim_start --scenario builtin --speed 20
V=$(stream_id Singing)
n=0
until curl -s "$YS_URL/youtube/v3/videos?part=snippet&id=$V&key=ytsim-api-key" |
    jq -e '.items[0].snippet.liveBroadcastContent == "live"' >/dev/null; do
    n=$((n + 1))
    [ $n -lt 300 ] || fail "stream never went live at speed 20"
    sleep 0.02
done
ytsim_stop

# load mode: N extra live streams at R msgs/s each, answers honour backlog 0
ytsim_start --scenario builtin --era 2022 --speed 0 --time 30 --load-streams 3 --load-rate 2000
L=$(stream_id 'Load stream 3')
curl -s "$YS_URL/watch?v=$L" >"$T/w.html"
TOK=$(page_json ytInitialData "$T/w.html" |
    jq -r '.contents.twoColumnWatchNextResults.conversationBar.liveChatRenderer.header.liveChatHeaderRenderer.viewSelector.sortFilterSubMenuRenderer.subMenuItems[1].continuation.reloadContinuationData.continuation')
innertube live_chat/get_live_chat "{\"context\":{},\"continuation\":\"$TOK\"}" >"$T/l.json"
jq -e '.continuationContents.liveChatContinuation | (.actions == null) and .continuations[0].invalidationContinuationData.timeoutMs == 1000' \
    "$T/l.json" >/dev/null || fail "load stream first answer (backlog 0)"
ytsim_stop
[ -e "$YS_OUT/truth/chat/$L.tsv" ] && fail "load stream has a truth file"
echo "ytsim-http: ok"
