#!/bin/sh
# kafka: the Kafka test harness end to end: librdkafka's mock cluster
# (tw-kafka-mock), ytsim's Schema Registry and kcat. Records encoded with
# the registry's ksqlDB schema of yt_videos (Confluent framing) and JSON
# records go in with kcat, come back with kcat and tw-kafka-decode, equal
# to what went in; brokers down and injected request errors lose nothing;
# malformed input and registry failures are clear errors. With the kafka
# worker built, tubewatchd's own topics are checked against ytsim's truth
# (tests/scripts/kafka-worker.sh). Skips (77) only when kcat is missing
# outside CI.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/fixtures/ytsim/lib.sh
. tests/fixtures/kafka/lib.sh
trap kafka_cleanup EXIT
kafka_need_kcat
T=$YS_TMP
DEC=$BUILD/tests/tw-kafka-decode
ytsim_start --scenario tests/fixtures/kafka/registry.toml --speed 0
(umask 077 && printf 'sr-key:sr-secret-0123\n' >"$T/sr.auth")
REG="--registry $YS_URL --registry-auth $T/sr.auth"
kmock_start --topic yt_videos:1 --topic yt_chat:1
kmock_cmd ping
[ "$KM_REPLY" = "ok pong" ] || fail "ping answered $KM_REPLY"

# 1. Avro with the registry's ksqlDB schema: in with kcat, back equal
curl -s -u sr-key:sr-secret-0123 "$YS_URL/subjects/yt_videos-value/versions/latest" >"$T/latest"
ID=$(jq -r .id "$T/latest")
jq -r .schema "$T/latest" >"$T/ksql.avsc"
cat >"$T/videos.jsonl" <<'JSON'
{"VIDEO_TIMESTAMP":"2026-01-01T20:00:00Z","TITLE":"Live \"now\"\nline two\ttab \\ ünï 🎤 涼子","DESCRIPTION":"x\u0000y","VIEWS":2147483647,"LIKES":null,"FAVORITES":0,"COMMENTS":null}
{"VIDEO_TIMESTAMP":"2026-01-01T20:00:00Z","TITLE":"","DESCRIPTION":null,"VIEWS":0,"LIKES":10,"FAVORITES":0,"COMMENTS":-2147483648}
{"VIDEO_TIMESTAMP":null,"TITLE":null,"DESCRIPTION":null,"VIEWS":null,"LIKES":11,"FAVORITES":null,"COMMENTS":3}
JSON
mkdir -p "$T/v"
perl tests/fixtures/kafka/avro-frame.pl "$ID" "$T/ksql.avsc" "$T/v" <"$T/videos.jsonl" ||
    fail "avro-frame.pl"
kcat -P -b "$KM_BOOTSTRAP" -t yt_videos -k kafkaVideo1 "$T/v/1.bin" "$T/v/2.bin" "$T/v/3.bin" ||
    fail "kcat could not produce"
kconsume yt_videos $REG >"$T/videos.out"
jq -s -e --slurpfile want "$T/videos.jsonl" --argjson id "$ID" '
    [.[].value] == $want and ([.[].offset] == [0,1,2]) and
    all(.[]; .key == "kafkaVideo1" and .format == "avro" and .schema_id == $id and .topic == "yt_videos")' \
    "$T/videos.out" >/dev/null || fail "yt_videos round trip: $(cat "$T/videos.out")"

# 2. JSON values (and a null key) pass through
mkdir -p "$T/j"
printf '{"MESSAGE_ID":"m1","TEXT":"a\\tb"}' >"$T/j/1.json"
printf '{"MESSAGE_ID":"m2",\n "AMOUNT":null}' >"$T/j/2.json"
kcat -P -b "$KM_BOOTSTRAP" -t yt_chat -k kafkaVideo1 "$T/j/1.json" "$T/j/2.json" ||
    fail "kcat could not produce JSON"
printf '[1]' | kcat -P -b "$KM_BOOTSTRAP" -t yt_chat || fail "kcat could not produce"
kconsume yt_chat >"$T/chat.out"
jq -s -e '[.[] | [.key, .format, .value]] ==
    [["kafkaVideo1","json",{"MESSAGE_ID":"m1","TEXT":"a\tb"}],
     ["kafkaVideo1","json",{"MESSAGE_ID":"m2","AMOUNT":null}],
     [null,"json",[1]]]' "$T/chat.out" >/dev/null || fail "yt_chat round trip: $(cat "$T/chat.out")"

# 3. brokers down: metadata fails; a producer started meanwhile delivers
# everything, in order, once they are up again
for b in 1 2 3; do kmock_cmd "down $b"; done
if kcat -L -b "$KM_BOOTSTRAP" -m 2 >/dev/null 2>&1; then
    fail "metadata answered with every broker down"
fi
mkdir -p "$T/d"
seq 1 40 | awk -v d="$T/d" '{ printf "{\"n\":%d}", $1 > (d "/" $1 ".json") }'
files=$(seq 1 40 | sed "s|.*|$T/d/&.json|")
# shellcheck disable=SC2086
kcat -P -b "$KM_BOOTSTRAP" -t down_topic -k k -X message.timeout.ms=120000 \
    $files 2>"$T/down.err" &
prod=$!
for b in 1 2 3; do kmock_cmd "up $b"; done
wait $prod || fail "producer lost messages across the outage: $(cat "$T/down.err")"
kconsume down_topic >"$T/down.out"
jq -s -e '[.[].value.n] == [range(1;41)]' "$T/down.out" >/dev/null ||
    fail "after the outage: $(jq -c -s '[.[].value.n]' "$T/down.out")"

# 4. injected request errors: retriable ones are retried (nothing lost),
# a fatal one reaches the producer
kmock_cmd "create err_topic 1"
kmock_cmd "errors Produce 4 NOT_LEADER_FOR_PARTITION"
kmock_cmd "errors Metadata 2 _TRANSPORT"
# shellcheck disable=SC2086
kcat -P -b "$KM_BOOTSTRAP" -t err_topic -k k $files 2>"$T/err.err" ||
    fail "retriable errors lost messages: $(cat "$T/err.err")"
kconsume err_topic >"$T/err.out"
jq -s -e '[.[].value.n] == [range(1;41)]' "$T/err.out" >/dev/null ||
    fail "after retriable errors: $(jq -c -s '[.[].value.n]' "$T/err.out")"
kmock_cmd "errors Produce 1 MSG_SIZE_TOO_LARGE"
if kcat -P -b "$KM_BOOTSTRAP" -t err_topic "$T/d/1.json" 2>"$T/fatal.err"; then
    fail "an injected fatal error did not reach the producer"
fi
grep -q 'Message size too large' "$T/fatal.err" || fail "fatal error text: $(cat "$T/fatal.err")"
# bad commands are refused with a reason
for c in "down 9" "errors NoSuchApi 1 1" "errors Produce 1 NO_SUCH_ERROR" "create t 0" "frobnicate"; do
    echo "$c" >&7
    KM_LINES=$((KM_LINES + 1))
    n=0
    while [ "$(wc -l <"$KM_OUT")" -lt "$KM_LINES" ]; do
        n=$((n + 1)); [ $n -gt 1000 ] && fail "no answer to '$c'"; sleep 0.01
    done
    sed -n "${KM_LINES}p" "$KM_OUT" | grep -q '^error: ' || fail "'$c' was not refused"
done

# 5. malformed input and registry failures: clear errors, no output
decode_err() { # EXPECTED-EXIT REGEX INPUT [ARGS...]: runs the decoder
    want=$1 re=$2 in=$3
    shift 3
    "$DEC" "$@" <"$in" >"$T/de.out" 2>"$T/de.err"
    rc=$?
    [ $rc -eq "$want" ] || fail "decode of $in: exit $rc, not $want ($(cat "$T/de.err"))"
    grep -Eq "$re" "$T/de.err" || fail "decode of $in: message: $(cat "$T/de.err")"
}
head -c $(($(wc -c <"$T/kc.yt_videos") - 7)) "$T/kc.yt_videos" >"$T/cut"
decode_err 100 'record 3: .*cut off' "$T/cut" $REG
[ "$(wc -l <"$T/de.out")" -eq 2 ] || fail "records before the cut are not printed"
printf 'yt_videos 0 0 1 3\nkabcX' >"$T/nonl"
decode_err 100 'not followed by a newline' "$T/nonl"
printf 'yt_videos 0 0 1\nk\n' >"$T/hdr"
decode_err 100 'header at byte 0' "$T/hdr"
printf 'yt_chat 0 0 1 5\nk{bad}\n' >"$T/notjson"
decode_err 100 'neither Confluent-framed Avro .* nor JSON' "$T/notjson"
printf 'yt_videos 0 0 1 7\nk\000\000\000\003\347\002\000\n' >"$T/unknown"
decode_err 100 'schema 999.*(404|40403)' "$T/unknown" $REG
decode_err 100 'no --registry' "$T/unknown"
printf 'yt_videos 0 0 1 4\nk\000\000\000\001\n' >"$T/short"
decode_err 100 'Confluent-framed' "$T/short" $REG
(umask 077 && printf 'sr-key:wrong\n' >"$T/bad.auth")
decode_err 100 'schema .*401' "$T/kc.yt_videos" --registry "$YS_URL" --registry-auth "$T/bad.auth"
# an Avro value cut inside a string, and one with bytes left over
for cut in trunc extra; do
    if [ $cut = trunc ]; then head -c 30 "$T/v/1.bin" >"$T/val"; else cat "$T/v/2.bin" >"$T/val"; printf 'Z' >>"$T/val"; fi
    { printf 'yt_videos 0 0 1 %d\nk' "$(wc -c <"$T/val")"; cat "$T/val"; printf '\n'; } >"$T/$cut"
done
decode_err 100 'bad Avro string' "$T/trunc" $REG
decode_err 100 '1 bytes after the Avro value' "$T/extra" $REG
ytsim_stop
decode_err 111 'unable to fetch schema' "$T/kc.yt_videos" $REG

# 6. the mock stops cleanly on EOF and on SIGTERM
kmock_stop
kmock_start
kill -TERM "$KM_PID"
wait "$KM_PID" || fail "tw-kafka-mock did not stop cleanly on SIGTERM"
KM_PID=""
exec 7>&-

if [ -x "$BUILD/libexec/tubewatch/tw-kafka" ] && [ -f tests/scripts/kafka-worker.sh ]; then
    echo "kafka: harness ok; the worker is checked by kafka-worker.sh"
else
    echo "kafka: harness ok (no kafka worker built: tubewatchd's topics are not checked here)"
fi
