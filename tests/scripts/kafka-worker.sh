#!/bin/sh
# kafka-worker: tubewatchd with [kafka] enabled (format avro, the Schema
# Registry of ytsim with basic auth and ksqlDB's yt_videos-value) writes to
# librdkafka's mock cluster; every topic is consumed back with kcat and
# decoded with tw-kafka-decode: each chat item ytsim served is in yt_chat
# (and nothing else), each stats and viewers sample the writer stored is in
# yt_videos / yt_viewers with the seed's field names and values ytsim
# served, and stream events are in yt_stream_events. Chaos: brokers down
# and Produce errors while the kafka and chat workers are SIGKILLed: nothing
# lost, duplicates only as whole records again (same key and message_id /
# sampled_at, docs/kafka.md). Skips (77) without kcat outside CI, or when
# the kafka worker is not built.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/fixtures/ytsim/lib.sh
. tests/fixtures/kafka/lib.sh
W=$YS_TMP/w
cleanup() {
    tw_host_cleanup
    kafka_cleanup
}
trap cleanup EXIT
kafka_need_kcat
if [ ! -x "$BUILD/libexec/tubewatch/tw-kafka" ]; then
    echo "SKIP: $BUILD/libexec/tubewatch/tw-kafka is not built"
    exit 77
fi
CHAOS=${1:-}
T=$YS_TMP
tw() { tw_host "$W" "$@"; }
now() { date +%s; }

kmock_start
ytsim_start --scenario tests/fixtures/kafka/worker.toml
tw_host_config "$W"
printf 'UCkafkaWorkerChannel0001\n' >"$W/channels.txt"
tw_host_start "$W"

# chaos while the stream is live: brokers down, Produce errors, SIGKILLs
pid_of() { tw status --json 2>/dev/null | jq -r --arg n "$1" '.workers[]? | select(.name == $n) | .pid // empty' | head -1; }
if [ "$CHAOS" = chaos ]; then
    t=$(now)
    until [ "$(awk -F'\t' '$1 == "kafkaLive01" { print $4 }' "$YS_OUT/truth/streams.tsv")" = live ] &&
        [ -n "$(pid_of chat@kafkaLive01)" ]; do
        [ $(($(now) - t)) -lt 30 ] || fail "chat@kafkaLive01 did not start"
        sleep 0.2
    done
    kmock_cmd "down 1"
    kmock_cmd "down 2"
    kmock_cmd "down 3"
    p=$(pid_of kafka); [ -n "$p" ] || fail "no pid for the kafka worker"
    kill -9 "$p"
    p=$(pid_of chat@kafkaLive01); [ -n "$p" ] || fail "no pid for chat@kafkaLive01"
    kill -9 "$p"
    t=$(now)
    while [ $(($(now) - t)) -lt 5 ]; do sleep 0.5; done # an outage of 5 s
    kmock_cmd "errors Produce 20 NOT_LEADER_FOR_PARTITION"
    kmock_cmd "errors Produce 5 REQUEST_TIMED_OUT"
    for b in 1 2 3; do kmock_cmd "up $b"; done
    t=$(now)
    until p=$(pid_of kafka) && [ -n "$p" ]; do
        [ $(($(now) - t)) -lt 20 ] || fail "the kafka worker was not restarted"
        sleep 0.2
    done
    kill -9 "$p"
fi

# wait for the stream to end and its chat to be reconciled
t=$(now)
while :; do
    st=$(awk -F'\t' '$1 == "kafkaLive01" { print $4 }' "$YS_OUT/truth/streams.tsv")
    seen=$(tw streams --json 2>/dev/null | jq -r '.streams[]? | select(.video_id == "kafkaLive01") | .state')
    if [ "$st" = ended ] && [ "$seen" = ended ] &&
        ! tw status --json 2>/dev/null | grep -q '"chat@kafkaLive01"'; then
        break
    fi
    if [ $(($(now) - t)) -ge 120 ]; then
        [ -n "${TW_KEEP:-}" ] && cp -r "$W" "$YS_OUT" "$TW_KEEP"/
        fail "the stream did not end in tubewatch (state $seen): $(tail -5 "$W/daemon.err")"
    fi
    sleep 0.5
done

# everything the writer stored must reach Kafka: wait (deadline) until the
# chat topic holds every served item
count_chat() { kconsume yt_chat --registry "$YS_URL" --registry-auth "$W/sr.auth" | jq -r .value.message_id | sort -u | wc -l; }
want=$(cut -f1 "$YS_OUT/truth/chat/kafkaLive01.tsv" | sort -u | wc -l)
[ "$want" -gt 50 ] || fail "only $want chat items served"
t=$(now)
until [ "$(count_chat)" -ge "$want" ]; do
    [ $(($(now) - t)) -lt 60 ] || fail "yt_chat holds $(count_chat) of $want items"
    sleep 0.5
done
tw_host_stop "$W"
REG="--registry $YS_URL --registry-auth $W/sr.auth"
for t in yt_videos yt_chat yt_viewers yt_stream_events; do
    kconsume "$t" $REG >"$T/$t.jsonl"
done

# yt_chat: exactly the served items (by message_id), each with the seed's
# columns; duplicates only as the same record again
cut -f1 "$YS_OUT/truth/chat/kafkaLive01.tsv" | sort -u >"$T/truth.ids"
jq -r 'select(.value.kind != "deleted") | .value.message_id' "$T/yt_chat.jsonl" | sort -u >"$T/chat.ids"
comm -23 "$T/truth.ids" "$T/chat.ids" >"$T/missing"
comm -13 "$T/truth.ids" "$T/chat.ids" >"$T/extra"
[ ! -s "$T/missing" ] || fail "$(wc -l <"$T/missing") served chat items missing from yt_chat, e.g. $(head -3 "$T/missing" | tr '\n' ' ')"
[ ! -s "$T/extra" ] || fail "yt_chat has items ytsim never served: $(head -3 "$T/extra" | tr '\n' ' ')"
jq -s -e 'all(.[]; .key == "kafkaLive01" and .format == "avro" and .value.video_id == "kafkaLive01" and
    (.value | has("message_id") and has("kind") and has("text") and has("author_channel_id")))' \
    "$T/yt_chat.jsonl" >/dev/null || fail "yt_chat record shape: $(head -1 "$T/yt_chat.jsonl")"
# a repeated (key, message_id, kind, content) is a duplicate delivery; two
# different contents under one id are only a replaced placeholder
jq -s -e 'group_by([.key, .value.message_id, .value.kind, .value.text, .value.replaces]) |
    all(.[]; (map(.value | del(.received_at, .tokens)) | unique | length) == 1)' \
    "$T/yt_chat.jsonl" >/dev/null || fail "yt_chat: one (key, message_id) with different records"
# every text of ytsim's truth, byte for byte
awk -F'\t' '$2 == "text" { print $1 "\t" $7 }' "$YS_OUT/truth/chat/kafkaLive01.tsv" | sort -u >"$T/truth.text"
jq -r 'select(.value.kind == "text") | [.value.message_id, (.value.text // "")] | @tsv' "$T/yt_chat.jsonl" |
    sort -u >"$T/chat.text"
comm -23 "$T/truth.text" "$T/chat.text" | head -3 >"$T/textdiff"
[ ! -s "$T/textdiff" ] || fail "chat texts differ from ytsim's: $(cat "$T/textdiff")"

# yt_videos: the seed's record (ksqlDB's registered schema), one per stats
# sample the writer stored; the values are ones ytsim served
jq -s -e 'length > 0 and all(.[]; .key == "kafkaLive01" and .schema_id == 100001 and
    (.value | keys == ["COMMENTS","DESCRIPTION","FAVORITES","LIKES","TITLE","VIDEO_TIMESTAMP","VIEWS"]) and
    .value.TITLE == "Kafka live \"stream\" ünï")' "$T/yt_videos.jsonl" >/dev/null ||
    fail "yt_videos records: $(head -2 "$T/yt_videos.jsonl")"
awk -F'\t' 'NR > 1 && $4 == "kafkaLive01" { print $6 "\t" $7 "\t" $9 }' "$YS_OUT/truth/stats.tsv" | sort -u >"$T/truth.stats"
jq -r '[.value.VIEWS, .value.LIKES, .value.COMMENTS] | map(tostring) | @tsv' "$T/yt_videos.jsonl" | sort -u >"$T/videos.stats"
comm -13 "$T/truth.stats" "$T/videos.stats" | head -3 >"$T/statdiff"
[ ! -s "$T/statdiff" ] || fail "yt_videos values ytsim never served: $(cat "$T/statdiff")"
stored=$(find "$W/data" -path '*stats*' -name '*.tsv' -exec cat {} + 2>/dev/null | grep -c kafkaLive01)
got=$(jq -s 'length' "$T/yt_videos.jsonl")
[ "$got" -ge "$stored" ] || fail "yt_videos has $got records, the writer stored $stored stats samples"

# yt_viewers and yt_stream_events
jq -s -e 'length > 0 and all(.[]; .key == "kafkaLive01" and .value.video_id == "kafkaLive01" and
    (.value.concurrent_viewers | type == "number"))' "$T/yt_viewers.jsonl" >/dev/null ||
    fail "yt_viewers: $(head -2 "$T/yt_viewers.jsonl")"
awk -F'\t' 'NR > 1 && $4 == "kafkaLive01" && $5 != "" { print $5 }' "$YS_OUT/truth/stats.tsv" | sort -u >"$T/truth.viewers"
jq -r '.value.concurrent_viewers' "$T/yt_viewers.jsonl" | sort -u >"$T/viewers"
[ -z "$(comm -13 "$T/truth.viewers" "$T/viewers")" ] || fail "yt_viewers values ytsim never served"
jq -s -e '[.[].value.state] | index("live") != null and index("ended") != null' "$T/yt_stream_events.jsonl" >/dev/null ||
    fail "yt_stream_events: $(jq -c -s '[.[].value.state]' "$T/yt_stream_events.jsonl")"
grep -q 'Sanitizer\|runtime error' "$W"/logs/* 2>/dev/null && fail "sanitizer report in a worker log"
grep -rq 'sr-secret-0123' "$W/logs" "$W/daemon.err" && fail "the registry password is in a log"
echo "kafka-worker${CHAOS:+ ($CHAOS)}: ok: $(wc -l <"$T/truth.ids") chat items, $got stats, $(jq -s length "$T/yt_viewers.jsonl") viewers samples, $(jq -s length "$T/yt_stream_events.jsonl") events"
