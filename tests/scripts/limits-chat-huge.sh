#!/bin/sh
# limits-chat-huge: a 100 MB chat answer (docs/reliability.md, "Resource
# limits"). ytsim plays limits-huge.toml: one live stream whose
# get_live_chat answers are 100 MB of valid JSON for 7 s. chat@VIDEO under
# tubewatchd (with the tokenizer and the writer) must refuse each with a
# clear error naming the limit (tw_http's 16 MiB body cap), never be
# killed (no signal exit, no restart), keep its peak RSS under 96 MiB,
# `tubewatch status` answers meanwhile, and once the answers are normal
# again the chat reaches DATA/comments. Env: BUILD. Exit 0 pass, 1 fail,
# 77 not built.
set -u
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
[ -x "$BUILD/bin/tubewatchd" ] && [ -x "$BUILD/bin/ytsim" ] &&
    [ -x "$BUILD/libexec/tubewatch/tw-chat" ] || { echo "limits-chat-huge: skipped: not built"; exit 77; }
. tests/fixtures/ytsim/lib.sh
D_PID=""
cleanup() {
    [ -n "$D_PID" ] && kill -KILL "$D_PID" 2>/dev/null
    [ -n "${KEEP:-}" ] && cp -r "$W" /tmp/wtl/huge-keep; ytsim_cleanup
}
trap cleanup EXIT
W=$YS_TMP/w
mkdir -p "$W"
V=limitsHuge1
ytsim_start --scenario tests/fixtures/ytsim/limits-huge.toml
cat >"$W/sup.toml" <<EOF
[supervisor]
runtime_dir = "$W/run"
state_dir = "$W/state"
data_dir = "$W/data"
log_dir = "$W/logs"
libexec_dir = "$PWD/$BUILD/libexec/tubewatch"

[youtube]
api_key = "ytsim-api-key"
web_base_url = "$YS_URL"
api_base_url = "$YS_URL/youtube/v3"
quota_per_day = 100000000

[worker.writer]
fsync_interval = "0s"

[worker.tokenizer]
after = ["writer"]

[worker.chat]
restart = "transient"
poll_min = "100ms"
poll_max = "1s"
EOF
TW="$BUILD/bin/tubewatch -c $W/sup.toml"
"$BUILD/bin/tubewatchd" -c "$W/sup.toml" 2>"$W/daemon.err" &
D_PID=$!
state_of() { $TW --json status 2>/dev/null | jq -r --arg n "$1" '.workers[]? | select(.name == $n) | .state'; }
n=0
until [ "$(state_of tokenizer)" = running ]; do
    n=$((n + 1)); [ $n -lt 500 ] || fail "the pipeline did not start: $(cat "$W/daemon.err")"; sleep 0.02
done
$TW spawn chat $V >/dev/null || fail "spawn refused"
LOG=$W/logs/chat@$V.log
# the huge answers: refused with the limit in the message
peak=0
n=0
until grep -q 'get_live_chat: .*response larger than 16777216 bytes' "$LOG" 2>/dev/null &&
      [ "$(grep -c 'response larger than' "$LOG")" -ge 3 ]; do
    n=$((n + 1)); [ $n -lt 1500 ] || fail "no clear error for the huge answers: $(tail -5 "$LOG")"
    pid=$($TW --json status 2>/dev/null | jq -r --arg n "chat@$V" '.workers[]? | select(.name == $n) | .pid')
    if [ -n "$pid" ] && [ "$pid" != 0 ]; then
        hwm=$(awk '/^VmHWM/ { print $2 }' /proc/$pid/status 2>/dev/null)
        [ -n "$hwm" ] && [ "$hwm" -gt "$peak" ] && peak=$hwm
    fi
    sleep 0.02
done
t0=$(date +%s%N)
$TW status >"$W/status.txt" || fail "status did not answer during the huge answers"
st_us=$((($(date +%s%N) - t0) / 1000))
# after the window (10 s of ytsim time) the chat flows into DATA/comments
# again: the stored chat grows past what it held when the window closed
stored() { cat "$W/data/comments"/*/*/$V.tsv 2>/dev/null | wc -l; }
n=0
until [ "$(curl -s "$YS_URL/ytsim/status" | jq '.now >= 10.2')" = true ]; do
    n=$((n + 1)); [ $n -lt 1500 ] || fail "ytsim time does not pass 10 s"; sleep 0.02
done
s0=$(stored)
e0=$(grep -c 'response larger than' "$LOG")
n=0
until [ "$(stored)" -gt "$s0" ]; do
    n=$((n + 1)); [ $n -lt 1500 ] || fail "no chat stored after the huge answers: $(tail -5 "$LOG")"
    pid=$($TW --json status 2>/dev/null | jq -r --arg n "chat@$V" '.workers[]? | select(.name == $n) | .pid')
    if [ -n "$pid" ] && [ "$pid" != 0 ]; then
        hwm=$(awk '/^VmHWM/ { print $2 }' /proc/$pid/status 2>/dev/null)
        [ -n "$hwm" ] && [ "$hwm" -gt "$peak" ] && peak=$hwm
    fi
    sleep 0.02
done
j=$($TW --json status | jq -c --arg n "chat@$V" '.workers[] | select(.name == $n)')
[ "$(echo "$j" | jq -r .state)" = running ] || fail "chat@$V is not running: $j"
[ "$(echo "$j" | jq -r .restarts)" = 0 ] || fail "chat@$V restarted: $j"
grep -q 'killed\|signal' "$LOG" && fail "chat@$V was killed: $(grep 'killed\|signal' "$LOG")"
[ "$peak" -gt 0 ] || fail "chat@$V RSS never read"
# ASan's shadow memory and quarantine multiply RSS: four times as wide
# in the sanitizer run
lim=98304
[ "${TW_SAN:-}" = 1 ] && lim=$((lim * 4))
[ "$peak" -lt "$lim" ] || fail "chat@$V peak RSS $peak KiB (limit $lim KiB)"
refused=$(grep -c 'response larger than' "$LOG")
[ "$refused" = "$e0" ] || fail "huge answers refused after the window: $e0 then $refused"
kill -TERM "$D_PID"; wait "$D_PID" || fail "tubewatchd exit $?"; D_PID=""
echo "limits-chat-huge: ok: $refused answers of 100 MB refused at the 16 MiB cap; chat@ peak RSS $peak KiB, not restarted, chat stored afterwards ($s0 then $(stored) lines); status ${st_us} us"
