#!/bin/sh
# ytsim-chat: the web client chat protocol of ytsim: pre-chat, overlapping
# re-sent continuations, the end without continuation, the replay walk to
# playerSeekContinuationData, the Data API pages, and truth files equal to
# what was served (rows as fixtures' expected_chat.jq derives them).
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/fixtures/ytsim/lib.sh
trap ytsim_cleanup EXIT
T=$YS_TMP
need_shared
JQ=$SHARED/fixtures/innertube/expected_chat.jq
CC='.continuationContents.liveChatContinuation'
body() { printf '{"context":{"client":{"clientName":"WEB"}},"continuation":"%s"}' "$1"; }
live_token() { # VIDEO -> "Live chat" continuation of its watch page
    curl -s "$YS_URL/watch?v=$1" >"$T/w.html"
    page_json ytInitialData "$T/w.html" |
        jq -r '.contents.twoColumnWatchNextResults.conversationBar.liveChatRenderer.header.liveChatHeaderRenderer.viewSelector.sortFilterSubMenuRenderer.subMenuItems[] | select(.title == "Live chat") | .continuation.reloadContinuationData.continuation'
}

# 1. pre-chat: an upcoming stream has an empty chat with a continuation
ytsim_start --scenario builtin --era 2022 --time 22 --speed 0 --epoch 1767225600
V=$(stream_id 'Singing')
TOK=$(live_token "$V")
[ -n "$TOK" ] || fail "no live chat continuation before the start"
innertube live_chat/get_live_chat "$(body "$TOK")" >"$T/pre.json"
jq -e "$CC | (.actions == null) and (.continuations[0].invalidationContinuationData.timeoutMs > 0)" \
    "$T/pre.json" >/dev/null || fail "pre-chat answer"
ytsim_stop

# 2. live, frozen at t=60: re-sending a continuation repeats its items
ytsim_start --scenario builtin --era 2022 --time 60 --speed 0 --epoch 1767225600
TOK=$(live_token "$V")
innertube live_chat/get_live_chat "$(body "$TOK")" >"$T/l1.json"
innertube live_chat/get_live_chat "$(body "$TOK")" >"$T/l2.json"
cmp -s "$T/l1.json" "$T/l2.json" || fail "re-sent continuation differs"
N1=$(jq -r -f "$JQ" "$T/l1.json" | wc -l)
[ "$N1" -gt 50 ] || fail "only $N1 items at t=60"
# "Top chat" hides some messages: a worker must follow "Live chat"
TOP=$(page_json ytInitialData "$T/w.html" |
    jq -r '.contents.twoColumnWatchNextResults.conversationBar.liveChatRenderer.header.liveChatHeaderRenderer.viewSelector.sortFilterSubMenuRenderer.subMenuItems[] | select(.title == "Top chat") | .continuation.reloadContinuationData.continuation')
innertube live_chat/get_live_chat "$(body "$TOP")" >"$T/top.json"
NT=$(jq -r -f "$JQ" "$T/top.json" | wc -l)
[ "$NT" -lt "$N1" ] && [ "$NT" -gt $((N1 * 3 / 4)) ] || fail "top chat has $NT of $N1"
jq -e "$CC.continuations[0].timedContinuationData.timeoutMs > 0" "$T/top.json" \
    >/dev/null || fail "top chat continuation"
NEXT=$(jq -r "$CC.continuations[0].invalidationContinuationData.continuation" "$T/l1.json")
innertube live_chat/get_live_chat "$(body "$NEXT")" >"$T/l3.json"
jq -e "$CC | (.actions == null) and (.continuations | length == 1)" "$T/l3.json" \
    >/dev/null || fail "caught-up answer"
# the members-only stream is refused, a bad continuation is a 400
M=$(stream_id 'Members')
curl -s "$YS_URL/watch?v=$M" >"$T/m.html"
page_json ytInitialPlayerResponse "$T/m.html" |
    jq -e '.playabilityStatus.status == "LOGIN_REQUIRED"' >/dev/null ||
    fail "members-only watch page"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST \
    -H 'Content-Type: application/json' -d "$(body 0ofMyANbogus)" \
    "$YS_URL/youtubei/v1/live_chat/get_live_chat")
[ "$code" = 400 ] || fail "bad continuation answered $code"
ytsim_stop
# polls sooner than the timeoutMs given are counted
awk -F '\t' -v v="$V" '$1 == v && $2 == 4 && $3 == 3' "$YS_OUT/truth/polls.tsv" |
    grep -q . || fail "polls.tsv: $(grep "$V" "$YS_OUT/truth/polls.tsv")"
sort "$YS_OUT/truth/chat/$V.tsv" >"$T/truth2"
jq -r -f "$JQ" "$T/l1.json" | sort >"$T/served2"
cmp -s "$T/truth2" "$T/served2" || fail "truth differs from served rows (live)"

# 3. after the end: items without a continuation, then the replay
ytsim_start --scenario builtin --era 2022 --time 150 --speed 0 --epoch 1767225600
curl -s "$YS_URL/live_chat?v=$V" >"$T/lc.html"
page_json ytInitialData "$T/lc.html" >"$T/lc.json"
jq -e '.contents.liveChatRenderer.actions | length > 100' "$T/lc.json" \
    >/dev/null || fail "live_chat page of an ended stream"
TOK=$(jq -r '.contents.liveChatRenderer.header.liveChatHeaderRenderer.viewSelector.sortFilterSubMenuRenderer.subMenuItems[1].continuation.reloadContinuationData.continuation' "$T/lc.json")
innertube live_chat/get_live_chat "$(body "$TOK")" >"$T/end.json"
jq -e "$CC | (.continuations == null) and (.actions | length > 100)" \
    "$T/end.json" >/dev/null || fail "last live answer has a continuation"
jq -r -f "$JQ" "$T/end.json" >"$T/live-rows"
# the project's own parser reads ytsim's answers like the reference jq
if [ -x "$BUILD/bin/tubewatch" ]; then
    "$BUILD/bin/tubewatch" parse-chat "$T/end.json" | cmp -s - "$T/live-rows" ||
        fail "tubewatch parse-chat disagrees with expected_chat.jq"
fi
curl -s "$YS_URL/watch?v=$V" >"$T/w.html"
RTOK=$(page_json ytInitialData "$T/w.html" |
    jq -r '.contents.twoColumnWatchNextResults.conversationBar.liveChatRenderer.continuations[0].reloadContinuationData.continuation')
: >"$T/replay-rows"
n=0
while [ -n "$RTOK" ]; do
    n=$((n + 1))
    [ $n -lt 100 ] || fail "replay does not end"
    innertube live_chat/get_live_chat_replay "$(body "$RTOK")" >"$T/r.json"
    jq -r -f "$JQ" "$T/r.json" >>"$T/replay-rows"
    RTOK=$(jq -r "$CC.continuations[] | .liveChatReplayContinuationData.continuation // empty" "$T/r.json")
done
jq -e "$CC.continuations | length == 1 and .[0].playerSeekContinuationData.continuation" \
    "$T/r.json" >/dev/null || fail "replay end lacks playerSeekContinuationData"
L=$(wc -l <"$T/live-rows")
R=$(wc -l <"$T/replay-rows")
[ "$R" -lt "$L" ] && [ "$R" -gt $((L * 80 / 100)) ] ||
    fail "replay holds $R of $L items (replay_miss 0.05)"
sort "$T/replay-rows" | comm -23 - "$(sort "$T/live-rows" >"$T/ls"; echo "$T/ls")" |
    grep -q . && fail "replay rows not in the live rows"
# Data API paging over the same chat
C=$(curl -s "$YS_URL/youtube/v3/videos?part=liveStreamingDetails&id=$(stream_id unscheduled)&key=ytsim-api-key" |
    jq -r '.items[0].liveStreamingDetails.activeLiveChatId')
curl -s "$YS_URL/youtube/v3/liveChat/messages?liveChatId=$C&part=snippet,authorDetails&maxResults=200&key=ytsim-api-key" >"$T/a1.json"
P=$(jq -r .nextPageToken "$T/a1.json")
curl -s "$YS_URL/youtube/v3/liveChat/messages?liveChatId=$C&part=snippet,authorDetails&maxResults=200&pageToken=$P&key=ytsim-api-key" >"$T/a2.json"
jq -e '(.items | length) == 200 and .pollingIntervalMillis > 0' "$T/a1.json" \
    >/dev/null || fail "liveChatMessages page 1"
jq -s -e '(.[0].items[0].id) != (.[1].items[0].id)' "$T/a1.json" "$T/a2.json" \
    >/dev/null || fail "liveChatMessages page 2 repeats page 1"
ytsim_stop
sort "$YS_OUT/truth/chat/$V.tsv" >"$T/truth3"
sort -u "$T/live-rows" "$T/replay-rows" >"$T/served3"
cmp -s "$T/truth3" "$T/served3" || fail "truth differs from served rows (end)"
U=$(stream_id unscheduled)
# (moderation events are kind "other"; expected_chat.jq cannot parse the
# "+00:00" publishedAt of the real API, so only id, kind, author and
# message are compared)
cols() { awk -F '\t' -v OFS='\t' '$2 != "other" { print $1, $2, $3, $4, $NF }'; }
jq -r -f "$JQ" "$T/a1.json" "$T/a2.json" | cols | sort >"$T/api-rows"
cols <"$YS_OUT/truth/chat_api/$U.tsv" | sort >"$T/api-truth"
cmp -s "$T/api-truth" "$T/api-rows" ||
    fail "chat_api truth differs from the Data API rows"
echo "ytsim-chat: ok"
