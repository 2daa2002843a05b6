#!/bin/sh
# ytsim-faults: injected faults per endpoint and time window: 5xx with a
# Google error body, 429 with Retry-After, slow answers, truncated bodies,
# connection resets, malformed JSON, outages, and deterministic shares.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/fixtures/ytsim/lib.sh
trap ytsim_cleanup EXIT
T=$YS_TMP
TG=123456789:AAEsimulatedTelegramBotTokenForYtsim0
A=-1e9:1e9

ytsim_start --scenario builtin --time 60 --speed 0 \
    --fault get_live_chat:5xx --fault "videos:429:$A:1:7" \
    --fault "rss:slow:$A:1:300" --fault watch:truncate --fault next:reset \
    --fault updated_metadata:malformed --fault telegram:outage \
    --fault "channels:5xx:100:200" --fault "playlistItems:5xx:$A:0.5:500" \
    --fault drive_files:quota
V=$(stream_id Singing)
C=$(awk -F '\t' 'NR == 2 { print $2 }' "$YS_OUT/truth/streams.tsv")

code=$(curl -s -o "$T/e" -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
    -d '{"context":{},"continuation":"x"}' "$YS_URL/youtubei/v1/live_chat/get_live_chat")
[ "$code" = 503 ] || fail "5xx fault gave $code"
jq -e '.error.code == 503 and .error.errors[0].reason == "backendError"' "$T/e" \
    >/dev/null || fail "5xx body"

code=$(curl -s -D "$T/h" -o "$T/e" -w '%{http_code}' "$YS_URL/youtube/v3/videos?part=id&id=$V&key=ytsim-api-key")
[ "$code" = 429 ] || fail "429 fault gave $code"
tr -d '\r' <"$T/h" | grep -qi '^retry-after: 7$' || fail "no Retry-After: 7"

t=$(curl -s -o /dev/null -w '%{time_total}' "$YS_URL/feeds/videos.xml?channel_id=$C")
awk -v t="$t" 'BEGIN { exit !(t >= 0.3) }' || fail "slow fault took only $t s"

curl -s -o "$T/w" "$YS_URL/watch?v=$V"
rc=$?
[ $rc -ne 0 ] || fail "truncated body read completely"
grep -q '</html>' "$T/w" && fail "truncated page is complete"

curl -s -o /dev/null -X POST -d '{"videoId":"x"}' "$YS_URL/youtubei/v1/next" &&
    fail "reset fault answered"
curl -s -o /dev/null "$YS_URL/bot$TG/getMe" && fail "outage fault answered"

code=$(curl -s -o "$T/m" -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
    -d "{\"videoId\":\"$V\"}" "$YS_URL/youtubei/v1/updated_metadata")
[ "$code" = 200 ] || fail "malformed fault gave $code"
jq . "$T/m" >/dev/null 2>&1 && fail "malformed body parses"

# quota: the service's own quota error body
code=$(curl -s -o "$T/q" -w '%{http_code}' "$YS_URL/drive/v3/files")
[ "$code" = 403 ] || fail "quota fault gave $code"
if [ -d "$SHARED/fixtures" ]; then
    shape_check . "$SHARED/fixtures/drive/error-403-storageQuotaExceeded-global.json" \
        "$T/q" || fail "storageQuotaExceeded shape"
fi

# outside its window (100..200) the channels fault does not fire
code=$(curl -s -o /dev/null -w '%{http_code}' "$YS_URL/youtube/v3/channels?part=id&id=$C&key=ytsim-api-key")
[ "$code" = 200 ] || fail "fault outside its window: $code"

# a 0.5 share hits about half of the calls, the same ones every run
shares() {
    i=0
    while [ $i -lt 40 ]; do
        curl -s -o /dev/null -w '%{http_code}\n' \
            "$YS_URL/youtube/v3/playlistItems?part=id&playlistId=UU${C#UC}&key=ytsim-api-key"
        i=$((i + 1))
    done
}
shares >"$T/s1"
n=$(grep -c 500 "$T/s1")
[ "$n" -ge 8 ] && [ "$n" -le 32 ] || fail "share 0.5 hit $n of 40"
ytsim_stop
grep -q '^GET /feeds/videos.xml?channel_id=UC.* 200$' "$YS_OUT/requests.log" ||
    fail "requests.log line"
grep -q 'key=ytsim-api-key' "$YS_OUT/requests.log" && fail "API key in requests.log"

ytsim_start --scenario builtin --time 60 --speed 0 --fault "playlistItems:5xx:$A:0.5:500"
shares >"$T/s2"
cmp -s "$T/s1" "$T/s2" || fail "fault shares differ between runs"
ytsim_stop
echo "ytsim-faults: ok"
