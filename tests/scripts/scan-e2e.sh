#!/bin/sh
# scan-e2e: tw-scanner and tw-stats under the real tubewatchd against ytsim
# (scan-basic.toml; chat@VIDEO is the test worker): spawn requests become
# scheduled or running chat@VIDEO children (the rescheduled one at its new
# time), none for the members-only stream, stream events reach tubewatchd,
# `tubewatch streams` shows the table, and everything stops with exit 0.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/fixtures/ytsim/lib.sh
trap 'kill $(jobs -p) 2>/dev/null; ytsim_cleanup' EXIT
D=$YS_TMP/e2e
mkdir -p $D
E=$(date +%s)
ytsim_start --scenario tests/fixtures/ytsim/scan-basic.toml --epoch $E
echo UCscanAAAAAAAAAAAAAAAAAA >$D/channels.txt
cat >$D/tw.toml <<EOC
[supervisor]
runtime_dir = "$D/run"
state_dir = "$D/state"
data_dir = "$D/data"
log_dir = "$D/logs"
libexec_dir = "$PWD/$BUILD/libexec/tubewatch"
[youtube]
api_key = "scan-test-key"
web_base_url = "$YS_URL"
api_base_url = "$YS_URL/youtube/v3"
quota_per_day = 100000000
[worker.scanner]
channels_file = "$D/channels.txt"
scan_interval = "1s"
lead_time = "5s"
[worker.chat]
template = true
command = ["$PWD/$BUILD/tests/tw-test-worker", "ready"]
[worker.stats]
viewers_interval = "2s"
stats_interval = "3s"
EOC
"$BUILD/bin/tubewatchd" -c $D/tw.toml 2>$D/daemon.err &
DP=$!
TW="$BUILD/bin/tubewatch -c $D/tw.toml"
vid() { awk -F '\t' -v t="$1" 'NR > 1 && $3 == t { print $1; exit }' "$YS_OUT/truth/streams.tsv"; }
# truth/streams.tsv appears with ytsim's first flush
n=0
until [ -s "$YS_OUT/truth/streams.tsv" ] && [ -n "$(vid 'Moved show')" ]; do
    n=$((n + 1)); [ $n -lt 500 ] || fail "no ytsim truth"; sleep 0.02
done
SCHED=$(vid "Scheduled show") MOVED=$(vid "Moved show") LIVE=$(vid "Surprise live")
MEMB=$(vid "Members corner")
state_of() { $TW --json status | jq -r --arg n "chat@$1" '.workers[] | select(.name == $n) | .state'; }
n=0
until [ "$(state_of $LIVE)" = running ] && [ "$(state_of $MOVED)" = scheduled ] &&
      grep -q "$MOVED: rescheduled" $D/daemon.err; do
    n=$((n + 1))
    [ $n -lt 300 ] || { cat $D/daemon.err >&2; $TW status >&2; fail "chat children not as expected"; }
    sleep 0.05
done
s=$(state_of $SCHED)
[ "$s" = scheduled ] || [ "$s" = running ] || [ "$s" = exited ] || fail "chat@$SCHED is '$s'"
[ -z "$(state_of $MEMB)" ] || fail "members-only stream spawned"
nb=$($TW --json status | jq -r --arg n "chat@$MOVED" '.workers[] | select(.name == $n) | .not_before')
[ "$nb" = "$(date -u -d @$((E + 20)) +%Y-%m-%dT%H:%M:%S.000000Z)" ] || fail "chat@$MOVED not_before $nb"
grep -q "stream.event from scanner: $LIVE live" $D/daemon.err || fail "no live event"
$TW streams | grep -q "^$MEMB members_only" || fail "streams: members-only row"
[ "$($TW --json status | jq -r '.workers[] | select(.name == "stats") | .state')" = running ] ||
    fail "stats not running"
kill -TERM $DP
wait $DP || fail "tubewatchd exit $?"
grep -q 'stopped: .* feed checks' $D/logs/scanner.log || fail "scanner did not stop cleanly"
echo "scan-e2e: ok"
