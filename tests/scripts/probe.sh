#!/bin/sh
# tubewatch probe against ytsim in both eras: a live stream's (and an
# upcoming one's pre-chat) chat can be read (exit 0; era 2026 through the /live_chat page's all-messages token,
# never a relative one), a members-only live cannot (exit 1, the reason),
# a hostile id is a usage error (100), YouTube unreachable is 111; --json
# carries the same facts.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/fixtures/ytsim/lib.sh
trap ytsim_cleanup EXIT
TW=$BUILD/bin/tubewatch
command -v jq >/dev/null || fail "jq is missing"

s_config() {
    cat >"$YS_TMP/tw.toml" <<EOT
[supervisor]
runtime_dir = "$YS_TMP/run"
state_dir = "$YS_TMP/state"
data_dir = "$YS_TMP/data"
log_dir = "$YS_TMP/logs"
[youtube]
web_base_url = "$1"
http_timeout = "5s"
EOT
}

for era in 2026 2022; do
    ytsim_start --scenario tests/fixtures/ytsim/probe.toml --era $era
    s_config "$YS_URL"
    out=$YS_TMP/out
    "$TW" -c "$YS_TMP/tw.toml" probe probeLive01 >"$out" 2>&1
    rc=$?
    [ $rc -eq 0 ] || { cat "$out"; fail "era $era: live stream: exit $rc"; }
    grep -q '^result .*chat can be read$' "$out" || fail "era $era: no result line"
    grep -q '^poll .*HTTP 200, [1-9][0-9]* items' "$out" ||
        { cat "$out"; fail "era $era: the poll read no items"; }
    if [ $era = 2026 ]; then
        grep -q '^page token .*top chat token naming probeLive01' "$out" ||
            { cat "$out"; fail "era 2026: the page's token is not the full Top chat one"; }
        grep -q '^chat token .*live chat token naming probeLive01 (from live_chat' "$out" ||
            { cat "$out"; fail "era 2026: no all-messages token from /live_chat"; }
    else
        grep -q '^page token .*live chat token naming probeLive01' "$out" ||
            { cat "$out"; fail "era 2022: the page's token is not the all-messages one"; }
    fi
    # the same as JSON, via the URL form of the id
    "$TW" -c "$YS_TMP/tw.toml" --json probe "https://www.youtube.com/watch?v=probeLive01" >"$out" ||
        fail "era $era: --json probe failed"
    jq -e '.chat_readable == true and .state == "live" and .poll.items > 0
           and .poll.http_status == 200
           and ((.chat_token // .page_token).chat_type == "live")
           and ((.chat_token // .page_token).video_id == "probeLive01")' "$out" >/dev/null ||
        { cat "$out"; fail "era $era: --json facts"; }

    "$TW" -c "$YS_TMP/tw.toml" probe probeMemb01 >"$out" 2>&1
    rc=$?
    [ $rc -eq 1 ] || { cat "$out"; fail "era $era: members-only: exit $rc, want 1"; }
    grep -q 'chat cannot be read: members-only' "$out" || { cat "$out"; fail "era $era: members-only reason"; }

    # upcoming: its pre-chat can be read already
    "$TW" -c "$YS_TMP/tw.toml" probe probeLater1 >"$out" 2>&1
    rc=$?
    [ $rc -eq 0 ] || { cat "$out"; fail "era $era: upcoming: exit $rc, want 0"; }
    grep -q '^page .*upcoming' "$out" || { cat "$out"; fail "era $era: upcoming state"; }

    ytsim_stop
    # no relative token was ever sent: ytsim answered no 400
    [ -s "$YS_OUT/requests.log" ] || fail "era $era: ytsim logged no requests"
    if grep -q ' 400$' "$YS_OUT/requests.log"; then
        grep ' 400$' "$YS_OUT/requests.log" | head -3
        fail "era $era: a request was refused"
    fi
    grep -q '^POST /youtubei/v1/live_chat/get_live_chat.* 200$' "$YS_OUT/requests.log" ||
        fail "era $era: no successful get_live_chat in the request log"
done

"$TW" -c "$YS_TMP/tw.toml" probe 'bad/id' >/dev/null 2>&1
rc=$?
[ $rc -eq 100 ] || fail "hostile id: exit $rc, want 100"
# nothing listens on the old port now
"$TW" -c "$YS_TMP/tw.toml" probe probeLive01 >"$YS_TMP/out" 2>&1
rc=$?
[ $rc -eq 111 ] || { cat "$YS_TMP/out"; fail "YouTube unreachable: exit $rc, want 111"; }
echo "probe: ok"
