#!/bin/sh
# ytsim-determinism: the same seed (and a frozen clock) gives byte-identical
# responses and truth files; another seed gives other ones.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/fixtures/ytsim/lib.sh
trap ytsim_cleanup EXIT
T=$YS_TMP

session() { # SEED DIR [SCENARIO]: a fixed sequence of requests, answers
    mkdir -p "$2"
    ytsim_start --scenario "${3:-builtin}" --seed "$1" --time 150 --speed 0 \
        --epoch 1767225600
    ids=$(awk -F '\t' 'NR > 1 { print $1 }' "$YS_OUT/truth/streams.tsv")
    for c in $(awk -F '\t' 'NR > 1 { print $2 }' "$YS_OUT/truth/streams.tsv" | sort -u); do
        curl -s "$YS_URL/feeds/videos.xml?channel_id=$c" >"$2/rss-$c"
    done
    all=""
    for v in $ids; do
        all="$all,$v"
        curl -s "$YS_URL/watch?v=$v" >"$2/watch-$v"
        tok=$(page_json ytInitialData "$2/watch-$v" |
            jq -r '.contents.twoColumnWatchNextResults.conversationBar.liveChatRenderer.continuations[0].reloadContinuationData.continuation // empty')
        [ -n "$tok" ] || continue
        case $tok in
        op2w*) p=live_chat/get_live_chat_replay ;;
        *) p=live_chat/get_live_chat ;;
        esac
        innertube "$p" "{\"context\":{},\"continuation\":\"$tok\"}" >"$2/chat-$v"
        innertube updated_metadata "{\"context\":{},\"videoId\":\"$v\"}" >"$2/meta-$v"
    done
    curl -s "$YS_URL/youtube/v3/videos?part=snippet,statistics,liveStreamingDetails&id=${all#,}&key=ytsim-api-key" >"$2/videos"
    ytsim_stop
    cp -r "$YS_OUT" "$2/out"
    rm -f "$2/out/port"
}

session 7 "$T/a"
session 7 "$T/b"
session 8 "$T/c"
diff -r "$T/a" "$T/b" >"$T/diff" || { head -c 2000 "$T/diff"; fail "same seed, different bytes"; }
[ "$(ls "$T/a" | wc -l)" -gt 15 ] || fail "too few answers"
[ -s "$T/a/out/truth/stats.tsv" ] || fail "no stats truth"
n=$(cat "$T"/a/out/truth/chat/*.tsv | wc -l)
[ "$n" -gt 500 ] || fail "only $n truth rows"
diff -rq "$T/a" "$T/c" >/dev/null && fail "seeds 7 and 8 gave the same answers"
# demo.toml describes the built-in scenario: same bytes
session 7 "$T/d" tests/fixtures/ytsim/demo.toml
diff -r "$T/a" "$T/d" >"$T/diff" ||
    { head -c 2000 "$T/diff"; fail "demo.toml differs from builtin"; }
echo "ytsim-determinism: ok"
