#!/bin/sh
# ytsim-telegram: the Bot API side of ytsim: token and chat checks, HTML
# validation, length limit, per-chat rate limit with retry_after, getUpdates,
# the received log, and error bodies shaped like the real ones.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/fixtures/ytsim/lib.sh
trap ytsim_cleanup EXIT
T=$YS_TMP
F=$SHARED/fixtures/telegram
TOKEN=123456789:AAEsimulatedTelegramBotTokenForYtsim0
CHAT=664743441
ytsim_start --scenario builtin --speed 0
B=$YS_URL/bot$TOKEN
code() { curl -s -o "$T/$1" -w '%{http_code}' "$@" 2>/dev/null; }
post() { # NAME JSON: POST sendMessage with a JSON body; prints the status
    curl -s -o "$T/$1" -w '%{http_code}' -H 'Content-Type: application/json' \
        -d "$2" "$B/sendMessage"
}

[ "$(curl -s -o "$T/me" -w '%{http_code}' "$B/getMe")" = 200 ] || fail getMe
jq -e '.ok and .result.is_bot and .result.username == "ytsim_bot"' "$T/me" \
    >/dev/null || fail "getMe body"
[ "$(curl -s -o "$T/unauth" -w '%{http_code}' "$YS_URL/bot123:wrong/getMe")" = 401 ] ||
    fail "bad token not 401"
shape_opt '.' "$F/error-unauthorized.json" "$T/unauth" || fail "401 shape"

[ "$(post ok1 "{\"chat_id\":$CHAT,\"text\":\"<b>Live</b> now: Caf&eacute; &amp; friends\",\"parse_mode\":\"HTML\"}")" = 400 ] ||
    fail "unsupported entity accepted"
[ "$(post ok1 "{\"chat_id\":$CHAT,\"text\":\"<b>Live</b> now: Café &amp; \\\"friends\\\" 🎤\",\"parse_mode\":\"HTML\",\"disable_notification\":true}")" = 200 ] ||
    fail "good HTML message refused: $(cat "$T/ok1")"
jq -e '.ok and .result.message_id > 0 and .result.chat.id == '$CHAT "$T/ok1" \
    >/dev/null || fail "sendMessage result"
[ "$(post rl "{\"chat_id\":$CHAT,\"text\":\"again\"}")" = 429 ] ||
    fail "second message within a second not limited"
shape_opt '.' "$F/error-429-retry-after-5.json" "$T/rl" || fail "429 shape"
jq -e '.parameters.retry_after >= 1' "$T/rl" >/dev/null || fail retry_after

# another chat is not limited; form-encoded parameters work too
[ "$(curl -s -o "$T/form" -w '%{http_code}' --data-urlencode "chat_id=-1001234567890" \
    --data-urlencode "text=form & more <x>" "$B/sendMessage")" = 200 ] ||
    fail "form-encoded plain message refused"
[ "$(post nf '{"chat_id":12345,"text":"hi"}')" = 400 ] || fail "unknown chat"
shape_opt '.' "$F/error-bad-request-chat-not-found.json" "$T/nf" || fail "chat not found shape"
[ "$(post bad "{\"chat_id\":-1001234567890,\"text\":\"a <foo>b</foo>\",\"parse_mode\":\"HTML\"}")" = 400 ] ||
    fail "unknown tag accepted"
shape_opt '.' "$F/error-400-cant-parse-entities.json" "$T/bad" || fail "parse error shape"
jq -e '.description | startswith("Bad Request: can'"'"'t parse entities: ")' "$T/bad" \
    >/dev/null || fail "parse error text"
for t in '<b>unclosed' 'x </b>' '<b><i>x</b></i>' 'a < b'; do
    [ "$(post bad2 "{\"chat_id\":-1001234567890,\"text\":\"$t\",\"parse_mode\":\"HTML\"}")" = 400 ] ||
        fail "bad HTML accepted: $t"
done
long=$(head -c 4097 /dev/zero | tr '\0' x)
[ "$(post long "{\"chat_id\":-1001234567890,\"text\":\"$long\"}")" = 400 ] || fail "4097 chars accepted"
jq -e '.description == "Bad Request: message is too long"' "$T/long" >/dev/null || fail "too long text"

curl -s "$B/getUpdates?timeout=0" >"$T/upd"
jq '.result[0]' "$T/upd" >"$T/upd0"
shape_opt '^(update_id|message\.(message_id|date|text|chat\.(id|type)|from\.(id|is_bot)|entities\.\[\]\.(type|offset|length)))$' \
    "$F/update-message-start-command.json" "$T/upd0" || fail "update shape"
last=$(jq '.result[-1].update_id' "$T/upd")
curl -s "$B/getUpdates?offset=$((last + 1))&timeout=0" | jq -e '.result == []' >/dev/null ||
    fail "offset does not confirm updates"
ytsim_stop
n=$(wc -l <"$YS_OUT/received/telegram.jsonl")
[ "$n" = 2 ] || fail "received/telegram.jsonl has $n lines, want 2"
head -n1 "$YS_OUT/received/telegram.jsonl" |
    jq -e '.chat_id == '$CHAT' and .parse_mode == "HTML" and .disable_notification and (.text | contains("Café"))' \
    >/dev/null || fail "received line"
grep -q "$TOKEN" "$YS_OUT/requests.log" && fail "token in requests.log"
echo "ytsim-telegram: ok"
