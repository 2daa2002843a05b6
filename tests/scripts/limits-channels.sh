#!/bin/sh
# limits-channels: a channels file of 100,000 lines (docs/reliability.md,
# "Resource limits"). tw-scanner under tubewatchd loads 100,000 generated
# channel ids (its feeds point at a closed port, the checks are spread over
# an hour), stays under 256 MiB peak RSS, `tubewatch status` answers, a
# changed file (1,000 channels replaced) is reloaded with exactly those
# 1,000 new, and a file of channels_max + 50 lines gives the error naming
# the file and the cap while the first channels_max are kept. Timings are
# printed only. Env: BUILD. Exit 0 pass, 1 fail, 77 not built.
set -u
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
[ -x "$BUILD/bin/tubewatchd" ] && [ -x "$BUILD/libexec/tubewatch/tw-scanner" ] ||
    { echo "limits-channels: skipped: not built"; exit 77; }
fail() { echo "FAIL: limits-channels: $*" >&2; exit 1; }
W=$(mktemp -d)
D_PID=""
cleanup() { [ -n "$D_PID" ] && kill -KILL "$D_PID" 2>/dev/null; rm -rf "$W"; }
trap cleanup EXIT
N=100000
gen() { # gen FROM COUNT: channel ids UC + 22 characters (24 in all)
    awk -v a="$1" -v n="$2" 'BEGIN { for (i = a; i < a + n; i++) printf "UClim%019d\n", i }'
}
gen 0 $N >"$W/channels.txt"
cat >"$W/sup.toml" <<EOF
[supervisor]
runtime_dir = "$W/run"
state_dir = "$W/state"
data_dir = "$W/data"
log_dir = "$W/logs"
libexec_dir = "$(cd "$BUILD/libexec/tubewatch" && pwd)"

[youtube]
web_base_url = "http://127.0.0.1:9"
api_base_url = "http://127.0.0.1:9/youtube/v3"

[worker.scanner]
channels_file = "$W/channels.txt"
scan_interval = "1h"
channels_max = $N
EOF
TW="$BUILD/bin/tubewatch -c $W/sup.toml"
LOG=$W/logs/scanner.log
t0=$(date +%s%N)
"$BUILD/bin/tubewatchd" -c "$W/sup.toml" 2>"$W/daemon.err" &
D_PID=$!
loaded() { grep -c "^.*$1 channel(s) from $W/channels.txt ($2 new)" "$LOG" 2>/dev/null; }
n=0
until [ "$(loaded $N $N)" = 1 ]; do
    n=$((n + 1)); [ $n -lt 3000 ] || fail "100,000 channels not loaded: $(tail -3 "$LOG" 2>/dev/null) $(cat "$W/daemon.err")"
    sleep 0.01
done
load_ms=$((($(date +%s%N) - t0) / 1000000))
pid_of() { $TW --json status 2>/dev/null | jq -r '.workers[]? | select(.name == "scanner") | .pid'; }
t1=$(date +%s%N)
$TW status >"$W/status.txt" || fail "status did not answer"
st_us=$((($(date +%s%N) - t1) / 1000))
grep -q scanner "$W/status.txt" || fail "status does not list the scanner: $(cat "$W/status.txt")"
pid=$(pid_of)
[ -n "$pid" ] && [ "$pid" != 0 ] || fail "no scanner pid"
# a changed file: the first 1,000 channels replaced by new ones
{ gen $N 1000; gen 1000 $((N - 1000)); } >"$W/channels.txt"
t2=$(date +%s%N)
n=0
until [ "$(loaded $N 1000)" = 1 ]; do
    n=$((n + 1)); [ $n -lt 3000 ] || fail "changed file not reloaded: $(tail -3 "$LOG")"
    sleep 0.01
done
reload_ms=$((($(date +%s%N) - t2) / 1000000))
# above the cap: the error names the file and the cap; the first N are kept
{ gen $N 1000; gen 1000 $((N - 1000)); gen 200000 50; } >"$W/channels.txt"
n=0
until grep -q "$W/channels.txt: more than channels_max = $N channels: only the first $N are scanned, 50 line(s) after them ignored" "$LOG"; do
    n=$((n + 1)); [ $n -lt 3000 ] || fail "no clear error above the cap: $(tail -3 "$LOG")"
    sleep 0.01
done
n=0
until [ "$(loaded $N 0)" = 1 ]; do
    n=$((n + 1)); [ $n -lt 300 ] || fail "capped file not loaded as the first $N: $(tail -3 "$LOG")"
    sleep 0.01
done
[ "$(pid_of)" = "$pid" ] || fail "the scanner restarted ($pid then $(pid_of))"
j=$($TW --json status | jq -c '.workers[] | select(.name == "scanner")')
[ "$(echo "$j" | jq -r .state)" = running ] || fail "scanner not running: $j"
hwm=$(awk '/^VmHWM/ { print $2 }' /proc/$pid/status)
rss=$(awk '/^VmRSS/ { print $2 }' /proc/$pid/status)
# ASan's shadow memory and quarantine multiply RSS: four times as wide
# in the sanitizer run
lim=262144
[ "${TW_SAN:-}" = 1 ] && lim=$((lim * 4))
[ -n "$hwm" ] && [ "$hwm" -lt "$lim" ] || fail "scanner peak RSS ${hwm:-?} KiB (limit $lim KiB)"
t3=$(date +%s%N)
$TW status >/dev/null || fail "status did not answer at the end"
st2_us=$((($(date +%s%N) - t3) / 1000))
kill -TERM "$D_PID"; wait "$D_PID" || fail "tubewatchd exit $?"; D_PID=""
echo "limits-channels: ok: $N channels loaded in ${load_ms} ms (daemon start included), reload of 1,000 changed in ${reload_ms} ms (1 s file check included), cap error given; scanner RSS $rss KiB, peak $hwm KiB; status ${st_us} us, ${st2_us} us"
