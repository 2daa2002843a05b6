#!/bin/sh
# secrets-leak: a real tubewatchd with every worker against ytsim
# (tests/fixtures/secrets/scenario.toml: distinctive API key, bot token,
# OAuth client secret and refresh token, faults on the Data API, Telegram,
# the token endpoint and Drive so the error paths run), debug logging on.
# Once a stream is live, Telegram got a message and stats were sampled, it
# archives a day to the simulated Drive, then asserts that no secret (nor any
# access token ytsim issued, "ya29.sim-...") appears in: the supervisor's and
# the workers' logs, stderr of every command, `tubewatch status --json`,
# `tubewatch streams --json`, `tubewatch logs`, any state/data/runtime file,
# ytsim's requests.log, nor in any worker's argv or environment.
set -u
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
BIN=$BUILD/bin
SCN=tests/fixtures/secrets/scenario.toml
for b in ytsim tubewatchd tubewatch; do
    [ -x "$BIN/$b" ] || { echo "FAIL: build $BIN/$b first" >&2; exit 1; }
done
W=$(mktemp -d /tmp/tw-secrets.XXXXXX)
# The secret files live outside W: everything under W is searched.
S=$(mktemp -d /tmp/tw-secrets-keys.XXXXXX)
YS_PID="" D_PID=""
cleanup() {
    [ -n "$D_PID" ] && kill "$D_PID" 2>/dev/null && wait "$D_PID" 2>/dev/null
    [ -n "$YS_PID" ] && kill "$YS_PID" 2>/dev/null && wait "$YS_PID" 2>/dev/null
    rm -rf "$W" "$S"
}
trap cleanup EXIT
fail() {
    echo "FAIL: $*" >&2
    exit 1
}
now() { date +%s; }

KEY=AIzaLEAKCHECKapiKey0123456789abcdefXYZ
BOT=987654321:LEAKCHECKbotTokenABCDEFGHIJKLMNOPQ
CSEC=LEAKCHECK-client-secret-0123456789
REFRESH=1//LEAKCHECK-refresh-token-abcdef

"$BIN/ytsim" --scenario $SCN --speed 4 --listen 127.0.0.1:0 \
    --out "$W/sim" >"$W/ytsim.out" 2>"$W/ytsim.err" &
YS_PID=$!
t=$(now)
until [ -s "$W/sim/port" ]; do
    kill -0 "$YS_PID" 2>/dev/null || fail "ytsim: $(cat "$W/ytsim.err")"
    [ $(($(now) - t)) -lt 10 ] || fail "ytsim did not start"
    sleep 0.05
done
URL=http://127.0.0.1:$(cat "$W/sim/port")

umask 077
printf '%s\n' "$BOT" >"$S/telegram_token"
printf '%s\n' "$KEY" >"$S/youtube_api_key"
cat >"$S/client_secrets.json" <<EOF
{"installed":{"client_id":"leakcheck-client.apps.googleusercontent.com",
 "client_secret":"$CSEC","token_uri":"$URL/token"}}
EOF
printf '{"refresh_token":"%s"}\n' "$REFRESH" >"$S/drive-token.json"
umask 022
printf '@leakch\n' >"$W/channels.txt"

write_config() { # FILE TZ
    cat >"$1" <<EOF
[supervisor]
runtime_dir = "$W/run"
state_dir = "$W/state"
data_dir = "$W/data"
log_dir = "$W/logs"
libexec_dir = "$(cd "$BUILD/libexec/tubewatch" && pwd)"
timezone = "$2"
status_interval = "1s"

[defaults]
min_uptime = "500ms"
restart_delay = "100ms"
restart_delay_max = "1s"
env = ["TUBEWATCH_LOG_LEVEL=debug"]

[youtube]
api_key_file = "$S/youtube_api_key"
web_base_url = "$URL"
api_base_url = "$URL/youtube/v3"
http_timeout = "5s"

[telegram]
bot_token_file = "$S/telegram_token"
base_url = "$URL"
chat_ids = [664743441]

[drive]
enabled = true
client_secrets_file = "$S/client_secrets.json"
token_file = "$S/drive-token.json"
folder_name = "tubewatch leak check"
oauth_base_url = "$URL"
api_base_url = "$URL"
chunk_size = "256KiB"

[worker.writer]
formats = ["tsv"]

[worker.tokenizer]
after = ["writer"]

[worker.notifier]

[worker.scanner]
after = ["tokenizer", "notifier"]
channels_file = "channels.txt"
scan_interval = "1s"
lead_time = "5m"

[worker.chat]
restart = "transient"
poll_min = "50ms"
poll_max = "1s"

[worker.stats]
after = ["writer", "notifier"]
viewers_interval = "1s"
stats_interval = "1s"

[worker.uploader]
archive_at = "02:00"

[notify]
events = ["scheduled", "live", "ended", "failed", "quota", "upload"]

[[notify.rule]]
metrics = ["likes", "views"]
min_delta = 1
cooldown = "1s"
EOF
}
write_config "$W/supervisor.toml" Etc/GMT+12
write_config "$W/archive.toml" Etc/GMT-14
tw() { "$BIN/tubewatch" -c "$W/supervisor.toml" "$@"; }
tw check-config "$W/supervisor.toml" >"$W/out.check" 2>&1 ||
    fail "config refused: $(cat "$W/out.check")"

TUBEWATCH_LOG_LEVEL=debug "$BIN/tubewatchd" -c "$W/supervisor.toml" \
    >"$W/tubewatchd.out" 2>"$W/tubewatchd.err" &
D_PID=$!

# Live, announced on Telegram, sampled by stats, chat written.
t=$(now)
while :; do
    kill -0 "$D_PID" 2>/dev/null || fail "tubewatchd died: $(tail -5 "$W/tubewatchd.err")"
    if [ -s "$W/sim/received/telegram.jsonl" ] &&
        [ -n "$(find "$W/data" -path '*stats*' -name '*.tsv' 2>/dev/null)" ] &&
        [ -n "$(find "$W/data" -path '*comments*' -name '*.tsv' 2>/dev/null)" ]; then
        break
    fi
    [ $(($(now) - t)) -lt 60 ] || fail "no Telegram message/stats/chat within 60 s"
    sleep 0.2
done

# Every worker's argv and environment, while they run.
: >"$W/procs.txt"
for p in $(pgrep -s 0 2>/dev/null) $(ps -eo pid=,ppid= | awk -v d="$D_PID" '$2 == d { print $1 }'); do
    [ -r "/proc/$p/cmdline" ] || continue
    {
        tr '\0' ' ' <"/proc/$p/cmdline"
        echo
        tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null
    } >>"$W/procs.txt"
done
grep -q 'tw-stats' "$W/procs.txt" || fail "no worker process seen"

tw status --json >"$W/out.status" 2>&1
tw streams --json >"$W/out.streams" 2>&1
tw logs >"$W/out.logs" 2>&1
"$BIN/tubewatch" -c "$W/archive.toml" archive --now >"$W/out.archive" 2>&1
tw shutdown >"$W/out.shutdown" 2>&1 || kill "$D_PID"
wait "$D_PID"
D_PID=""
kill "$YS_PID" && wait "$YS_PID"
YS_PID=""
[ -s "$W/sim/requests.log" ] || fail "ytsim wrote no requests.log"
grep -q '/bot' "$W/sim/requests.log" || fail "no Telegram request in requests.log"
grep -q 'key=' "$W/sim/requests.log" || fail "no Data API request in requests.log"

if grep -rlE 'AddressSanitizer|runtime error:|LeakSanitizer' "$W" >/dev/null 2>&1; then
    grep -rhE -m3 'AddressSanitizer|runtime error:|LeakSanitizer' "$W" >&2
    fail "sanitizer report in a log"
fi

bad=0
for s in "$KEY" "$BOT" "${BOT#*:}" "$CSEC" "$REFRESH" "${REFRESH#1//}" 'ya29\.sim-'; do
    hits=$(grep -rlaF -- "$s" "$W" 2>/dev/null)
    [ "$s" = 'ya29\.sim-' ] && hits=$(grep -rla -- "$s" "$W" 2>/dev/null)
    if [ -n "$hits" ]; then
        bad=1
        for f in $hits; do
            echo "LEAK of '$s' in ${f#"$W"/}:" >&2
            grep -a -m3 -- "$s" "$f" | cut -c1-300 >&2
        done
    fi
done
[ $bad -eq 0 ] || fail "secrets leaked"
n=$(find "$W" -type f | wc -l)
echo "secrets-leak: ok ($n files and every worker's argv/env checked)"
