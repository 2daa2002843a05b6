#!/bin/sh
# kafka-shards: the several-hosts deployment of docs/kafka.md end to end.
# Two tubewatchd (own runtime, state, data and log dirs; [worker.scanner]
# shard = "1/2" and "2/2"; the same channels file with four channels and
# the same pinned [worker.stats] videos) against one ytsim and one mock
# Kafka cluster. Checks: every stream of ytsim's scenario is watched by
# exactly one host, the one its channel id hashes to (no overlap, full
# coverage); every chat item of ytsim's truth is in yt_chat, nothing else,
# a repeated (key, message_id) only as the same record; every yt_videos
# record (key, sampled_at_us) is a sample stored by the host owning that
# video (its channel's shard, or the video id's shard when pinned) and by
# no other host. Skips (77) without kcat outside CI, or when the kafka
# worker is not built.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/fixtures/ytsim/lib.sh
. tests/fixtures/kafka/lib.sh
cleanup() {
    tw_host_cleanup
    [ -n "${TW_KEEP:-}" ] && cp -r "$H1" "$H2" "$YS_OUT" "$TW_KEEP"/ 2>/dev/null
    kafka_cleanup
}
trap cleanup EXIT
kafka_need_kcat
if [ ! -x "$BUILD/libexec/tubewatch/tw-kafka" ]; then
    echo "SKIP: $BUILD/libexec/tubewatch/tw-kafka is not built"
    exit 77
fi
T=$YS_TMP
H1=$T/host1
H2=$T/host2
now() { date +%s; }

# shard of an id among 2: 1 + FNV-1a-64(id) mod 2, computed here apart from
# tubewatch (perl core's Math::BigInt)
shard_of() {
    perl -MMath::BigInt -e '
        my $h = Math::BigInt->new("14695981039346656037");
        my $m = Math::BigInt->new(2)**64;
        $h = (($h ^ $_) * 1099511628211) % $m for unpack("C*", $ARGV[0]);
        print 1 + ($h % 2), "\n";' "$1"
}

kmock_start
ytsim_start --scenario tests/fixtures/kafka/shards.toml
PINNED='["kshardPinA1", "kshardPinB1"]'
tw_host_config "$H1" 1/2 tubewatch-host1 "$PINNED"
tw_host_config "$H2" 2/2 tubewatch-host2 "$PINNED"
for h in "$H1" "$H2"; do
    printf '%s\n' UCkafkaShardChannel00001 UCkafkaShardChannel00002 \
        UCkafkaShardChannel00003 UCkafkaShardChannel00004 >"$h/channels.txt"
done
tw_host_start "$H1"
tw_host_start "$H2"

# which host owns what, from the hash (not from tubewatch)
awk -F'\t' 'NR > 1 && $2 != "UCkafkaShardPinned000005" { print $1 "\t" $2 }' \
    "$YS_OUT/truth/streams.tsv" >"$T/streams"
[ "$(wc -l <"$T/streams")" -eq 4 ] || fail "ytsim lists $(wc -l <"$T/streams") streams of listed channels, not 4"
: >"$T/owner"
while IFS="$(printf '\t')" read -r vid ch; do
    printf '%s\t%s\n' "$vid" "$(shard_of "$ch")" >>"$T/owner"
done <"$T/streams"
for vid in kshardPinA1 kshardPinB1; do
    printf '%s\t%s\n' "$vid" "$(shard_of "$vid")" >>"$T/owner"
done
for k in 1 2; do
    [ "$(awk -F'\t' -v k=$k '$2 == k' "$T/owner" | wc -l)" -ge 2 ] ||
        fail "the scenario gives host $k fewer than 2 videos: $(cat "$T/owner")"
done

# wait until every stream ended in ytsim and in the tubewatch that owns it,
# and its chat worker is gone
stream_done() { # HOST VIDEO
    [ "$(tw_host "$1" streams --json 2>/dev/null |
        jq -r --arg v "$2" '.streams[]? | select(.video_id == $v) | .state')" = ended ] &&
        ! tw_host "$1" status --json 2>/dev/null | grep -q "\"chat@$2\""
}
t=$(now)
while :; do
    left=0
    while IFS="$(printf '\t')" read -r vid ch; do
        st=$(awk -F'\t' -v v="$vid" '$1 == v { print $4 }' "$YS_OUT/truth/streams.tsv")
        k=$(awk -F'\t' -v v="$vid" '$1 == v { print $2 }' "$T/owner")
        eval "h=\$H$k"
        { [ "$st" = ended ] && stream_done "$h" "$vid"; } || left=$((left + 1))
    done <"$T/streams"
    [ $left -eq 0 ] && break
    if [ $(($(now) - t)) -ge 90 ]; then
        fail "$left stream(s) not ended in their host: $(tail -3 "$H1/daemon.err" "$H2/daemon.err")"
    fi
    sleep 0.5
done

# every chat item the hosts stored reaches yt_chat (deadline), then both
# hosts stop; what ytsim served is compared afterwards
find "$H1/data/comments" "$H2/data/comments" -name '*.tsv' -exec cat {} + |
    awk -F'\t' '$1 != "received_at" { print $5 }' | sort -u >"$T/stored.ids"
want=$(wc -l <"$T/stored.ids")
[ "$want" -gt 100 ] || fail "only $want chat items stored"
count_chat() { kconsume yt_chat --registry "$YS_URL" --registry-auth "$H1/sr.auth" | jq -r .value.message_id | sort -u | wc -l; }
t=$(now)
until [ "$(count_chat)" -ge "$want" ]; do
    [ $(($(now) - t)) -lt 30 ] || fail "yt_chat holds $(count_chat) of $want items"
    sleep 0.5
done
tw_host_stop "$H1"
tw_host_stop "$H2"
REG="--registry $YS_URL --registry-auth $H1/sr.auth"
for topic in yt_videos yt_chat yt_viewers yt_stream_events; do
    kconsume "$topic" $REG >"$T/$topic.jsonl"
done
ytsim_stop # its truth files are complete now
cat "$YS_OUT"/truth/chat/kshardLive?.tsv | cut -f1 | sort -u >"$T/truth.ids"
want=$(wc -l <"$T/truth.ids")

# 1. each stream watched by exactly one host, the one owning it
for k in 1 2; do
    eval "h=\$H$k"
    find "$h/data/comments" -name '*.tsv' 2>/dev/null | sed 's|.*/||; s|\.tsv$||' | sort -u >"$T/chat.host$k"
    awk -F'\t' -v k=$k '$2 == k { print $1 }' "$T/owner" | grep -v kshardPin | sort >"$T/own.host$k"
    [ "$(cat "$T/chat.host$k")" = "$(cat "$T/own.host$k")" ] ||
        fail "host $k recorded the chat of [$(tr '\n' ' ' <"$T/chat.host$k")], it owns [$(tr '\n' ' ' <"$T/own.host$k")]"
    grep -q "shard $k/2" "$h"/logs/scanner* 2>/dev/null ||
        grep -rq "shard $k/2" "$h/logs" "$h/daemon.err" || fail "host $k never logged its shard"
done
[ -z "$(comm -12 "$T/chat.host1" "$T/chat.host2")" ] || fail "a stream was watched by both hosts"
cut -f1 "$T/streams" | sort >"$T/all.streams"
sort -u "$T/chat.host1" "$T/chat.host2" >"$T/watched"
[ "$(cat "$T/all.streams")" = "$(cat "$T/watched")" ] || fail "streams watched: $(tr '\n' ' ' <"$T/watched")"

# 2. yt_chat: every served item, nothing else; duplicates only as the same
# record again (key + message_id, docs/kafka.md)
jq -r 'select(.value.kind != "deleted") | .value.message_id' "$T/yt_chat.jsonl" | sort -u >"$T/chat.ids"
comm -23 "$T/truth.ids" "$T/chat.ids" >"$T/missing"
comm -13 "$T/truth.ids" "$T/chat.ids" >"$T/extra"
[ ! -s "$T/missing" ] || fail "$(wc -l <"$T/missing") served chat items missing from yt_chat, e.g. $(head -3 "$T/missing" | tr '\n' ' ')"
[ ! -s "$T/extra" ] || fail "yt_chat has items ytsim never served: $(head -3 "$T/extra" | tr '\n' ' ')"
jq -s -e 'all(.[]; .key == .value.video_id)' "$T/yt_chat.jsonl" >/dev/null || fail "yt_chat: a key is not the video id"
jq -s -e 'group_by([.key, .value.message_id, .value.kind, .value.text, .value.replaces]) |
    all(.[]; (map(.value | del(.received_at, .tokens)) | unique | length) == 1)' \
    "$T/yt_chat.jsonl" >/dev/null || fail "yt_chat: one (key, message_id) with different records"
dups=$(($(jq -s length "$T/yt_chat.jsonl") - $(jq -r '[.key, .value.message_id, .value.kind, (.value.replaces | tostring)] | @tsv' "$T/yt_chat.jsonl" | sort -u | wc -l)))

# 3. yt_videos: each (key, sampled_at) is a sample its owner stored, and no
# other host stored a sample of that video
kcat -C -b "$KM_BOOTSTRAP" -t yt_videos -e -o beginning -q -f '%k\t%h\n' >"$T/videos.hdr" 2>"$T/kc.err" ||
    fail "kcat: $(cat "$T/kc.err")"
[ "$(wc -l <"$T/videos.hdr")" -eq "$(jq -s length "$T/yt_videos.jsonl")" ] || fail "kcat read yt_videos twice differently"
sed -n 's/^\([^\t]*\)\t.*sampled_at_us=\([0-9]*\).*/\1\t\2/p' "$T/videos.hdr" |
    jq -R -r 'split("\t") | .[0] + "\t" + ((.[1] | tonumber) as $us |
        (($us / 1000000 | floor | strftime("%Y-%m-%dT%H:%M:%S")) + "." +
        (($us % 1000000 | tostring) | ("000000" + .)[-6:]) + "Z"))' | sort -u >"$T/kafka.samples"
[ "$(wc -l <"$T/kafka.samples")" -gt 0 ] || fail "no yt_videos record with a sampled_at_us header"
for k in 1 2; do
    eval "h=\$H$k"
    find "$h/data/stats" -name '*.tsv' -exec cat {} + 2>/dev/null |
        awk -F'\t' '$1 != "sampled_at" { print $3 "\t" $1 }' | sort -u >"$T/stored.host$k"
    cut -f1 "$T/stored.host$k" | sort -u >"$T/statvids.host$k"
    awk -F'\t' -v k=$k '$2 == k { print $1 }' "$T/owner" | sort >"$T/ownall.host$k"
    [ -z "$(comm -23 "$T/statvids.host$k" "$T/ownall.host$k")" ] ||
        fail "host $k sampled videos it does not own: $(comm -23 "$T/statvids.host$k" "$T/ownall.host$k" | tr '\n' ' ')"
    [ "$(cat "$T/statvids.host$k")" = "$(cat "$T/ownall.host$k")" ] ||
        fail "host $k sampled [$(tr '\n' ' ' <"$T/statvids.host$k")], it owns [$(tr '\n' ' ' <"$T/ownall.host$k")]"
done
sort -u "$T/stored.host1" "$T/stored.host2" >"$T/stored"
comm -13 "$T/stored" "$T/kafka.samples" >"$T/foreign"
[ ! -s "$T/foreign" ] || fail "yt_videos records no host stored: $(head -3 "$T/foreign" | tr '\n' ' ')"
comm -23 "$T/stored" "$T/kafka.samples" >"$T/unsent"
[ ! -s "$T/unsent" ] || fail "stored samples missing from yt_videos: $(head -3 "$T/unsent" | tr '\n' ' ')"
jq -s -e 'all(.[]; .schema_id == 100001 and
    (.value | keys == ["COMMENTS","DESCRIPTION","FAVORITES","LIKES","TITLE","VIDEO_TIMESTAMP","VIEWS"]))' \
    "$T/yt_videos.jsonl" >/dev/null || fail "yt_videos records: $(head -2 "$T/yt_videos.jsonl")"

# yt_stream_events: each stream's live and ended, from its owner only
jq -r '.key + "\t" + .value.state' "$T/yt_stream_events.jsonl" | sort -u >"$T/events"
while IFS="$(printf '\t')" read -r vid ch; do
    grep -q "^$vid	live\$" "$T/events" && grep -q "^$vid	ended\$" "$T/events" ||
        fail "yt_stream_events lacks live/ended of $vid: $(grep "^$vid" "$T/events" | tr '\n' ' ')"
done <"$T/streams"
grep -rq 'Sanitizer\|runtime error' "$H1/logs" "$H2/logs" 2>/dev/null && fail "sanitizer report in a worker log"
grep -rq 'sr-secret-0123' "$H1/logs" "$H2/logs" "$H1/daemon.err" "$H2/daemon.err" && fail "the registry password is in a log"
echo "kafka-shards: ok: host 1 watched $(tr '\n' ' ' <"$T/chat.host1")and host 2 $(tr '\n' ' ' <"$T/chat.host2")(no overlap); $want chat items ($dups duplicates), $(wc -l <"$T/kafka.samples") stats samples each from its owner"
