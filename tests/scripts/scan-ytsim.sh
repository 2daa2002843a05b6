#!/bin/sh
# scan-ytsim: tw-scanner against ytsim (tests/fixtures/ytsim/scan-basic.toml)
# with a fake tubewatchd and notifier (build/tests/fake-sup), three runs in
# parallel: with an API key, without one, and with a key whose quota runs
# out after 3 units. Asserts spawn requests (not_before = scheduled start -
# lead_time, re-requested on reschedule, at once for an unscheduled live),
# stream events (scheduled, rescheduled, live, ended, members_only, deleted,
# none for old videos), the streams.tsv states (cancelled for a premiere
# that never started), hot reload of the channels file, @handle resolution,
# no duplicate requests after a restart, quota units equal to ytsim's count
# and the fall back to watch pages once the quota is exhausted.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/fixtures/ytsim/lib.sh
trap 'kill $(jobs -p) 2>/dev/null; ytsim_cleanup' EXIT
T=$YS_TMP
SCN=tests/fixtures/ytsim/scan-basic.toml
SCANNER=$BUILD/libexec/tubewatch/tw-scanner
FAKE=$BUILD/tests/fake-sup
[ -x "$SCANNER" ] && [ -x "$FAKE" ] || fail "build tw-scanner and fake-sup first"
E=$(date +%s)

# run NAME KEY SECONDS [YTSIM ARGS...]: ytsim + fake-sup + tw-scanner
run() {
    name=$1 key=$2 secs=$3
    shift 3
    d=$T/$name
    mkdir -p "$d/state" "$d/run"
    "$YTSIM" --scenario $SCN --listen 127.0.0.1:0 --out "$d/ys" --epoch "$E" \
        "$@" >"$d/ys.out" 2>&1 &
    yp=$!
    n=0
    while [ ! -s "$d/ys/port" ]; do
        n=$((n + 1)); [ $n -lt 500 ] || { echo "$name: no ytsim" >&2; return 1; }
        sleep 0.01
    done
    p=$(cat "$d/ys/port")
    printf '# test channels\nUCscanAAAAAAAAAAAAAAAAAA\nhttps://www.youtube.com/@scanbeta  # by handle\nnot a channel\n' \
        >"$d/channels.txt"
    cat >"$d/tw.toml" <<EOC
[supervisor]
runtime_dir = "$d/run"
state_dir = "$d/state"
data_dir = "$d/data"
log_dir = "$d/logs"
[youtube]
api_key = "$key"
web_base_url = "http://127.0.0.1:$p"
api_base_url = "http://127.0.0.1:$p/youtube/v3"
quota_per_day = 100000000
http_timeout = "5s"
[worker.scanner]
channels_file = "$d/channels.txt"
scan_interval = "1s"
lead_time = "5s"
[worker.chat]
template = true
[worker.notifier]
EOC
    "$FAKE" "ipc://$d/run/sup.sock" "ipc://$d/run/notifier.sock" >"$d/sup.out" 2>&1 &
    fp=$!
    export TUBEWATCH_CONFIG="$d/tw.toml" TUBEWATCH_WORKER=scanner \
        TUBEWATCH_SUP_ENDPOINT="ipc://$d/run/sup.sock" \
        TUBEWATCH_STATE_DIR="$d/state" TUBEWATCH_RUNTIME_DIR="$d/run"
    "$SCANNER" 2>"$d/scanner.err" &
    sp=$!
    sleep 3
    echo UCscanCCCCCCCCCCCCCCCCCC >>"$d/channels.txt"   # hot reload
    sleep 1
    kill -HUP $sp                                       # forced re-read
    sleep $((secs - 4))
    kill -TERM $sp; wait $sp; echo $? >"$d/scanner.rc"
    # a restart must not repeat requests or events
    "$SCANNER" 2>"$d/scanner2.err" &
    sp=$!
    sleep 2
    kill -TERM $sp; wait $sp; echo $? >"$d/scanner2.rc"
    sleep 0.3
    kill -TERM $fp; wait $fp
    kill -TERM $yp; wait $yp
}

run key scan-test-key 14 &
r1=$!
run nokey "" 14 &
r2=$!
run quota scan-test-key 14 --quota 3 &
r3=$!
wait $r1 $r2 $r3

vid() { # NAME TITLE -> video id from ytsim's truth
    awk -F '\t' -v t="$2" 'NR > 1 && $3 == t { print $1; exit }' "$T/$1/ys/truth/streams.tsv"
}
us() { echo "$(( (E + $1) * 1000000 ))"; }
has() { # NAME REGEX: sup.out has a line matching
    grep -Eq "$2" "$T/$1/sup.out" || { cat "$T/$1/sup.out" "$T/$1/scanner.err" >&2; fail "$1: no line /$2/"; }
}
hasnt() {
    ! grep -Eq "$2" "$T/$1/sup.out" || fail "$1: unexpected line /$2/"
}
state() { # NAME VIDEO -> state in streams.tsv
    awk -F '\t' -v v="$2" '$1 == v { print $3 }' "$T/$1/state/scanner/streams.tsv"
}

for n in key nokey quota; do
    [ "$(cat $T/$n/scanner.rc)" = 0 ] || fail "$n: scanner exit $(cat $T/$n/scanner.rc)"
    [ "$(cat $T/$n/scanner2.rc)" = 0 ] || fail "$n: restarted scanner exit"
    SCHED=$(vid $n "Scheduled show") MOVED=$(vid $n "Moved show")
    LIVE=$(vid $n "Surprise live") MEMB=$(vid $n "Members corner")
    NEVER=$(vid $n "Forgotten premiere") DOOM=$(vid $n "Doomed show")
    OLD=$(vid $n "Yesterday") FAR=$(vid $n "Far future") LATE=$(vid $n "Late channel show")
    has $n "^hello scanner scanner$"
    has $n "^spawn scanner chat $SCHED $(us 3)$"
    has $n "^spawn scanner chat $MOVED $(us 15)$"
    has $n "^spawn scanner chat $MOVED $(us 20)$"
    has $n "^spawn scanner chat $LIVE 0$"
    has $n "^spawn scanner chat $FAR $(us 7195)$"
    has $n "^spawn scanner chat $LATE $(us 3595)$"
    hasnt $n "^spawn scanner chat ($MEMB|$NEVER|$OLD) "
    has $n "^event scanner $SCHED scheduled $(us 8) "
    has $n "^event scanner $SCHED live $(us 8) $(us 9) 0 "
    has $n "^event scanner $SCHED ended $(us 8) $(us 9) $(us 12) Scheduled show$"
    [ "$(grep -c "^event scanner $MOVED scheduled" $T/$n/sup.out)" = 2 ] || fail "$n: reschedule events"
    has $n "^event scanner $LIVE live 0 $(us 2) 0 Surprise live$"
    has $n "^event scanner $MEMB members_only "
    has $n "^event scanner $DOOM deleted "
    hasnt $n "^event scanner ($OLD|$NEVER) "
    has $n "^rx notifier.sock stream.event $MOVED scheduled rescheduled$"
    [ "$(state $n $NEVER)" = cancelled ] || fail "$n: never-started premiere is $(state $n $NEVER)"
    [ "$(state $n $OLD)" = ended ] || fail "$n: old stream is $(state $n $OLD)"
    [ "$(state $n $SCHED)" = ended ] || fail "$n: scheduled show is $(state $n $SCHED)"
    ev=$(grep -c '^event scanner [A-Za-z0-9_-]\{11\} ' $T/$n/sup.out)
    rx=$(grep -c '^rx notifier.sock stream.event [A-Za-z0-9_-]\{11\} ' $T/$n/sup.out)
    [ "$ev" = "$rx" ] || fail "$n: $ev events to tubewatchd but $rx to the notifier"
    # the restart asked for nothing again
    n1=$(grep -c '^spawn\|^event' $T/$n/sup.out)
    grep -q 'handles.tsv\|is UCscanBBBB' $T/$n/scanner.err || fail "$n: handle not resolved"
    grep -q 'is UCscanBBBB' $T/$n/scanner2.err && fail "$n: handle resolved again after restart"
    [ "$(grep -c "^spawn scanner chat $SCHED " $T/$n/sup.out)" = 1 ] || fail "$n: spawn repeated"
    [ "$(grep -c "^event scanner $LIVE live" $T/$n/sup.out)" = 1 ] || fail "$n: live event repeated"
    : "$n1"
    grep -q 'SIGHUP: reloading' $T/$n/scanner.err || fail "$n: SIGHUP not handled"
    # conditional GET: most feed checks are answered 304, validators kept
    c304=$(grep -c '^GET /feeds/videos.xml?channel_id=UCscan[A-C]* 304$' $T/$n/ys/requests.log)
    [ "$c304" -ge 10 ] || fail "$n: only $c304 feed answers were 304"
    [ -s $T/$n/state/scanner/feeds.tsv ] || fail "$n: feeds.tsv empty"
    ! grep -q '/youtube/v3/search' $T/$n/ys/requests.log || fail "$n: search.list called"
    # search.list never
    awk -F '\t' '$1 == "search.list" && $2 != 0 { exit 1 }' $T/$n/ys/quota.tsv || fail "$n: search.list used"
done

ys_units() { awk -F '\t' '$1 == "videos.list" { print $3 }' "$T/$1/ys/quota.tsv"; }
our_units() { awk -F '\t' '$1 == "method" && $2 == "videos.list" { print $4 }' "$T/$1/state/quota.tsv"; }
[ "$(ys_units key)" -gt 0 ] || fail "key: no videos.list"
[ "$(ys_units key)" = "$(our_units key)" ] || fail "key: ytsim counted $(ys_units key) units, we $(our_units key)"
[ "$(ys_units nokey)" = 0 ] || fail "nokey: videos.list used"
[ "$(ys_units quota)" = 3 ] && [ "$(our_units quota)" = 3 ] || fail "quota: units $(ys_units quota)/$(our_units quota)"
has quota "^event scanner - quota_exhausted "
has quota "^rx notifier.sock stream.event - unavailable quota_exhausted$"
grep -q '^blocked_until	20' $T/quota/state/quota.tsv || fail "quota: block not persisted"
echo "scan-ytsim: ok (key: $(ys_units key) units)"
