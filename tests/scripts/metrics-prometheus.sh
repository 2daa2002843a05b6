#!/bin/sh
# metrics-prometheus: tubewatchd serves GET /metrics in the Prometheus text
# format (promtool check metrics accepts it); the real Prometheus server
# scrapes it and, through its query API, sees a worker's restart and exit
# cause after a SIGKILL, heartbeat counters and drift reports; values
# workers set with tw_worker_gauge appear (a chat@VIDEO's with its video);
# the alert rules in packaging/prometheus pass promtool, evaluate cleanly
# and raise the chat and quota alerts from those values.
# Needs the prometheus package (scripts/deps); exits 77 without it.
set -u
cd "$(dirname "$0")/../.." || exit 1
B=${BUILD:-build}
RULES=packaging/prometheus/tubewatch.rules.yml
if ! command -v prometheus >/dev/null 2>&1 ||
    ! command -v promtool >/dev/null 2>&1; then
    echo "metrics-prometheus: skipped: prometheus/promtool not installed" \
        "(Debian package prometheus, see scripts/deps)"
    exit 77
fi
for f in "$B/bin/tubewatchd" "$B/tests/tw-test-worker"; do
    [ -x "$f" ] || { echo "metrics-prometheus: $f missing; run make" >&2; exit 1; }
done
T=$(mktemp -d /tmp/tw-metrics-XXXXXX) || exit 1
DPID=""
PPID_PROM=""
cleanup() {
    [ -n "$PPID_PROM" ] && kill "$PPID_PROM" 2>/dev/null
    if [ -n "$DPID" ] && kill -0 "$DPID" 2>/dev/null; then
        kill "$DPID" 2>/dev/null
        i=0
        while kill -0 "$DPID" 2>/dev/null && [ $i -lt 50 ]; do
            sleep 0.1
            i=$((i + 1))
        done
        kill -9 "$DPID" 2>/dev/null
    fi
    [ -n "$PPID_PROM" ] && wait "$PPID_PROM" 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT
fail() {
    echo "metrics-prometheus: FAIL: $*" >&2
    for f in "$T/daemon.err" "$T/prom.err"; do
        [ -f "$f" ] && { echo "--- $f" >&2; tail -15 "$f" >&2; }
    done
    exit 1
}
# until SECONDS CMD...: runs CMD every 0.1 s until it succeeds; false when
# SECONDS pass first.
until_ok() {
    end=$(($(date +%s) + $1))
    shift
    while ! "$@"; do
        [ "$(date +%s)" -lt "$end" ] || return 1
        sleep 0.1
    done
}

promtool check rules "$RULES" >"$T/rules.out" 2>&1 ||
    fail "promtool check rules: $(cat "$T/rules.out")"

W=$(realpath "$B/tests/tw-test-worker")
cat >"$T/sup.toml" <<TOML
[supervisor]
runtime_dir = "$T/run"
state_dir = "$T/state"
data_dir = "$T/data"
log_dir = "$T/logs"
libexec_dir = "$T"
metrics_listen = "127.0.0.1:0"

[defaults]
restart_delay = "20ms"
min_uptime = "200ms"
watchdog_timeout = "2s"
env = ["TW_TEST_DIR=$T"]

[worker.alpha]
command = ["$W", "ready"]

[worker.drifter]
command = ["$W", "drift", "5", "chat.actions"]

[worker.quota]
command = ["$W", "gauge", "quota_used_units", "9500", "quota_remaining_units", "500"]

[worker.chat]
command = ["$W", "gauge", "chat_items_total", "42", "chat_last_poll_unix_seconds", "1000", "writer_lag_seconds", "1500"]
template = true
restart = "transient"

[worker.spawner]
command = ["$W", "spawn", "chat", "vid1", "0"]
TOML
"$B/bin/tubewatchd" -c "$T/sup.toml" 2>"$T/daemon.err" &
DPID=$!

port_known() { grep -q 'GET /metrics on .*(port [0-9]*)' "$T/daemon.err" 2>/dev/null; }
until_ok 10 port_known || fail "tubewatchd did not report its metrics port"
MPORT=$(sed -n 's/.*GET \/metrics on .*(port \([0-9]*\)).*/\1/p' "$T/daemon.err" | head -1)
M="http://127.0.0.1:$MPORT/metrics"

# The page itself: content type, the format, and both workers up.
scraped_up() {
    curl -s -D "$T/headers" -o "$T/page" "$M" &&
        grep -q '^tubewatch_worker_up{worker="alpha"} 1$' "$T/page" &&
        grep -q '^tubewatch_drift_total{worker="drifter",source="chat.actions"} [1-9]' "$T/page"
}
until_ok 10 scraped_up || fail "alpha not up or no drift on $M: $(cat "$T/page")"
grep -qi '^content-type: text/plain; version=0.0.4' "$T/headers" ||
    fail "content type: $(cat "$T/headers")"
promtool check metrics <"$T/page" >"$T/lint" 2>&1 ||
    fail "promtool check metrics: $(cat "$T/lint")"
grep -q '^# TYPE tubewatch_worker_restarts_total counter$' "$T/page" ||
    fail "no TYPE line for the restart counter"
# Values the workers set with tw_worker_gauge, with their HELP/TYPE; a
# chat@VIDEO worker's carry its video; milliseconds render as seconds.
values_seen() {
    curl -s -o "$T/page" "$M" &&
        grep -q '^tubewatch_chat_items_total{worker="chat@vid1",video="vid1"} 42$' "$T/page" &&
        grep -q '^tubewatch_quota_remaining_units{worker="quota"} 500$' "$T/page"
}
until_ok 10 values_seen || fail "heartbeat values not on $M: $(cat "$T/page")"
grep -q '^tubewatch_writer_lag_seconds{worker="chat@vid1",video="vid1"} 1.500$' "$T/page" ||
    fail "writer_lag_seconds not scaled to seconds"
grep -q '^# TYPE tubewatch_chat_items_total counter$' "$T/page" ||
    fail "no TYPE line for chat_items_total"
grep -q '^# TYPE tubewatch_quota_used_units gauge$' "$T/page" ||
    fail "no TYPE line for quota_used_units"
promtool check metrics <"$T/page" >"$T/lint" 2>&1 ||
    fail "promtool check metrics (with values): $(cat "$T/lint")"
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$MPORT/")" = 404 ] ||
    fail "/ is not 404"
[ "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$M")" = 405 ] ||
    fail "POST /metrics is not 405"

# The real Prometheus: scrape every second, evaluate the rules every second.
cp "$RULES" "$T/rules.yml"
cat >"$T/prometheus.yml" <<YML
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - $T/rules.yml
scrape_configs:
  - job_name: tubewatch
    static_configs:
      - targets: ["127.0.0.1:$MPORT"]
YML
prom_ready() {
    [ "$(curl -s -o /dev/null -w '%{http_code}' "$P/-/ready")" = 200 ]
}
prom_gone() { ! kill -0 "$PPID_PROM" 2>/dev/null; }
prom_ready_or_gone() { prom_ready || prom_gone; }
# Prometheus needs an explicit port: try a few until one binds.
try=0
while :; do
    try=$((try + 1))
    [ $try -le 8 ] || fail "prometheus did not start on any port"
    PPORT=$((20000 + ($$ * 7 + try * 7919) % 40000))
    P="http://127.0.0.1:$PPORT"
    prometheus --config.file="$T/prometheus.yml" \
        --storage.tsdb.path="$T/tsdb" --web.listen-address="127.0.0.1:$PPORT" \
        --log.level=warn >"$T/prom.err" 2>&1 &
    PPID_PROM=$!
    until_ok 30 prom_ready_or_gone || fail "prometheus not ready in 30 s"
    prom_ready && break
    wait "$PPID_PROM" 2>/dev/null
    PPID_PROM=""
done

# query EXPR: prints the first sample's value ("" when none)
query() {
    curl -s -G --data-urlencode "query=$1" "$P/api/v1/query" >"$T/q" &&
        jq -r '.data.result[0].value[1] // ""' "$T/q"
}
# at_least EXPR MIN: the value of EXPR is >= MIN
at_least() {
    v=$(query "$1")
    [ -n "$v" ] && awk -v v="$v" -v m="$2" 'BEGIN { exit !(v + 0 >= m + 0) }'
}
until_ok 15 at_least 'up{job="tubewatch"}' 1 || fail "Prometheus never scraped tubewatchd"
until_ok 15 at_least 'tubewatch_worker_messages_in_total{worker="alpha"}' 1 ||
    fail "no heartbeat counters for alpha in Prometheus"
[ "$(query 'tubewatch_worker_restarts_total{worker="alpha"}')" = 0 ] ||
    fail "alpha restarted before the kill"

# Kill alpha's process (its latest "start PID ..." event) with SIGKILL.
apid=$(awk '$1 == "start" { p = $2 } END { print p }' "$T/alpha.events")
[ -n "$apid" ] || fail "no start event for alpha"
kill -9 "$apid" || fail "unable to kill alpha ($apid)"
until_ok 20 at_least 'tubewatch_worker_restarts_total{worker="alpha"}' 1 ||
    fail "restart counter not >= 1 after the kill: $(cat "$T/q")"
until_ok 10 at_least 'tubewatch_worker_exits_total{worker="alpha",cause="killed"}' 1 ||
    fail "exit cause 'killed' not counted: $(cat "$T/q")"
until_ok 10 at_least 'tubewatch_worker_up{worker="alpha"}' 1 ||
    fail "alpha not back up"
until_ok 10 at_least 'tubewatch_drift_total{worker="drifter",source="chat.actions"}' 1 ||
    fail "drift not counted"

# Every rule evaluated without error against the real series.
rules_ok() {
    curl -s "$P/api/v1/rules" >"$T/rules.json" &&
        jq -e '[.data.groups[].rules[]] | length == 9 and
               all(.health == "ok")' "$T/rules.json" >/dev/null
}
until_ok 10 rules_ok || fail "rules unhealthy: $(cat "$T/rules.json")"
# TubewatchDrift fires for the drifter (pending or firing).
drift_alert() {
    curl -s "$P/api/v1/alerts" >"$T/alerts.json" &&
        jq -e '.data.alerts | any(.labels.alertname == "TubewatchDrift" and
               .labels.worker == "drifter")' "$T/alerts.json" >/dev/null
}
until_ok 15 drift_alert || fail "TubewatchDrift not raised: $(cat "$T/alerts.json")"
# The chat worker last polled in 1970 and the quota is 95 % spent: both
# alerts are pending (their "for" has not passed).
alert_for() {
    curl -s "$P/api/v1/alerts" >"$T/alerts.json" &&
        jq -e --arg a "$1" --arg w "$2" '.data.alerts | any(.labels.alertname == $a and
               .labels.worker == $w)' "$T/alerts.json" >/dev/null
}
until_ok 15 alert_for TubewatchChatNoProgress chat@vid1 ||
    fail "TubewatchChatNoProgress not raised: $(cat "$T/alerts.json")"
until_ok 15 alert_for TubewatchQuotaNearlySpent quota ||
    fail "TubewatchQuotaNearlySpent not raised: $(cat "$T/alerts.json")"
alert_for TubewatchChatNoProgress alpha && fail "chat alert for a non-chat worker"
# tubewatchd stops cleanly with the endpoint open (and, in sanitizer
# builds, reports nothing).
kill "$DPID"
dgone() { ! kill -0 "$DPID" 2>/dev/null; }
until_ok 15 dgone || fail "tubewatchd did not stop"
wait "$DPID"
drc=$?
DPID=""
[ "$drc" = 0 ] || fail "tubewatchd exited $drc"
! grep -q 'Sanitizer\|runtime error' "$T/daemon.err" || fail "sanitizer report"
echo "metrics-prometheus: ok"
