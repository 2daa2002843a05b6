#!/bin/sh
# scan-fallback: tw-scanner against ytsim (tests/fixtures/ytsim/
# scan-fallback.toml) with broken RSS feeds (ytsim's feed_outage fault),
# three runs in parallel:
#   down     - no key, every feed answers 500: streams are found on the
#              /streams tab (lockups in German for channel A,
#              videoRenderers for channel B) and classified from watch
#              pages;
#   recover  - no key, the feeds answer 404 until t=6, then work: the scanner
#              switches to the fallback and back, each logged once;
#   playlist - a key, feeds and channel pages answer 500: streams are found
#              in the uploads playlists (playlistItems, paced by the quota
#              governor, units equal to ytsim's).
# Also asserts that page requests carry hl=en&gl=US (requests.log); ytsim
# answers pages without the SOCS consent cookie with the consent
# interstitial (scenario consent = true), so nothing would be found
# without it.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/fixtures/ytsim/lib.sh
. tests/fixtures/ytsim/scan-lib.sh
trap 'kill $(jobs -p) 2>/dev/null; [ -n "${KEEP:-}" ] || ytsim_cleanup' EXIT
T=$YS_TMP
[ -z "${KEEP:-}" ] || echo "scan-fallback: files in $T" >&2
SCN=tests/fixtures/ytsim/scan-fallback.toml
SCANNER=$BUILD/libexec/tubewatch/tw-scanner
FAKE=$BUILD/tests/fake-sup
[ -x "$SCANNER" ] && [ -x "$FAKE" ] || fail "build tw-scanner and fake-sup first"
E=$(date +%s)
A=UCfallAAAAAAAAAAAAAAAAAA
B=UCfallBBBBBBBBBBBBBBBBBB
ALWAYS=-100000:100000:1

# ready NAME: true when the run's stop condition (file DIR/until, a list
# of "FILE REGEX" lines, all must match) holds.
ready() {
    while read -r f re; do
        grep -Eq "$re" "$T/$1/$f" 2>/dev/null || return 1
    done <"$T/$1/until"
    return 0
}

# run NAME KEY QUOTA CHANNELS [YTSIM ARGS...]: ytsim + fake-sup + tw-scanner
# until ready NAME (deadline 40 s), then stops them.
run() {
    name=$1 key=$2 qpd=$3 chans=$4
    shift 4
    d=$T/$name
    mkdir -p "$d/state" "$d/run"
    scan_ytsim "$d" $SCN "$@" || { echo "$name: no ytsim" >&2; return 1; }
    printf '%s\n' $chans >"$d/channels.txt"
    {
        scan_toml_head "$d" "$key" "$p" "$qpd"
        cat <<EOC
[worker.scanner]
channels_file = "$d/channels.txt"
scan_interval = "1s"
lead_time = "5s"
[worker.chat]
template = true
EOC
    } >"$d/tw.toml"
    "$FAKE" "ipc://$d/run/sup.sock" "ipc://$d/run/notifier.sock" >"$d/sup.out" 2>&1 &
    fp=$!
    TUBEWATCH_CONFIG="$d/tw.toml" TUBEWATCH_WORKER=scanner \
        TUBEWATCH_SUP_ENDPOINT="ipc://$d/run/sup.sock" \
        TUBEWATCH_STATE_DIR="$d/state" TUBEWATCH_RUNTIME_DIR="$d/run" \
        TUBEWATCH_LOG_LEVEL=debug "$SCANNER" 2>"$d/scanner.err" &
    sp=$!
    n=0
    until ready "$name"; do
        n=$((n + 1))
        [ $n -lt 400 ] || { echo "$name: deadline passed" >"$d/timeout"; break; }
        sleep 0.1
    done
    kill -TERM $sp; wait $sp; echo $? >"$d/scanner.rc"
    kill -TERM $fp; wait $fp
    kill -TERM $yp; wait $yp
}

vid() { # NAME TITLE -> video id from ytsim's truth
    awk -F '\t' -v t="$2" 'NR > 1 && $3 == t { print $1; exit }' "$T/$1/ys/truth/streams.tsv"
}
us() { echo "$(( (E + $1) * 1000000 ))"; }
has() { # NAME FILE REGEX
    grep -Eq "$3" "$T/$1/$2" || { cat "$T/$1/sup.out" "$T/$1/scanner.err" >&2; fail "$1: no line /$3/ in $2"; }
}
hasnt() {
    ! grep -Eq "$3" "$T/$1/$2" || fail "$1: unexpected line /$3/ in $2"
}
count() { grep -Ec "$3" "$T/$1/$2"; }

# The stream ids are a pure function of the seed: ask a checker ytsim.
mkdir -p "$T/ids"
scan_ytsim "$T/ids" $SCN || fail "no ytsim"
kill -TERM $yp; wait $yp
SHOW=$(vid ids "Fallback show") LIVE=$(vid ids "Surprise live")
OLD=$(vid ids "Yesterday") BETA=$(vid ids "Beta show")
MEMB=$(vid ids "Members corner")
[ -n "$SHOW" ] && [ -n "$BETA" ] || fail "no ids in the truth"

for n in down recover playlist; do mkdir -p "$T/$n"; done
cat >"$T/down/until" <<EOU
sup.out ^event scanner $SHOW ended
sup.out ^spawn scanner chat $LIVE 0
sup.out ^event scanner $MEMB members_only
sup.out ^spawn scanner chat $BETA
EOU
cat >"$T/recover/until" <<EOU
scanner.err feed of $A is back
scanner.err feed of $B is back
sup.out ^spawn scanner chat $SHOW
sup.out ^spawn scanner chat $BETA
EOU
cat >"$T/playlist/until" <<EOU
sup.out ^event scanner $SHOW ended
sup.out ^event scanner $MEMB members_only
sup.out ^spawn scanner chat $LIVE 0
sup.out ^spawn scanner chat $BETA
EOU

run down "" 100000000 "$A @fallbeta" --fault "rss:feed_outage:$ALWAYS:500" &
r1=$!
run recover "" 100000000 "$A @fallbeta" --fault rss:feed_outage:-100000:6:1:404 &
r2=$!
run playlist scan-test-key 10000 "$A $B" --fault "rss:feed_outage:$ALWAYS:500" \
    --fault "channel_page:5xx:$ALWAYS:500" &
r3=$!
wait $r1 $r2 $r3

for n in down recover playlist; do
    [ ! -e "$T/$n/timeout" ] || { cat "$T/$n/sup.out" "$T/$n/scanner.err" >&2; fail "$n: $(cat $T/$n/timeout)"; }
    [ "$(cat $T/$n/scanner.rc)" = 0 ] || fail "$n: scanner exit $(cat $T/$n/scanner.rc)"
    R=ys/requests.log
    # the switch is logged once per channel, never on every cycle
    for c in $A $B; do
        [ "$(count $n scanner.err "feed of $c failed 2 times in a row")" = 1 ] ||
            fail "$n: switch of $c not logged exactly once"
    done
    # every page request asks for English / US
    ! grep -E '^GET /(watch|@|channel/)' "$T/$n/$R" | grep -vq 'hl=en&gl=US' ||
        fail "$n: a page request without hl=en&gl=US"
    hasnt $n sup.out "^event scanner $OLD "
    hasnt $n sup.out "^spawn scanner chat $MEMB "
done

# down: the /streams tab of both channels (by id and by handle) found the
# scheduled, live and members-only streams; watch pages followed them to
# the end
n=down
has $n ys/requests.log "^GET /channel/$A/streams\?hl=en&gl=US 200$"
has $n ys/requests.log "^GET /@fallbeta/streams\?hl=en&gl=US 200$"
has $n ys/requests.log "^GET /@fallbeta\?hl=en&gl=US 200$"
has $n scanner.err "new video $SHOW on the streams of $A"
has $n scanner.err "new video $BETA on the streams of $B"
has $n scanner.err "new video $LIVE on the streams of $A"
has $n sup.out "^spawn scanner chat $LIVE 0$"
has $n sup.out "^event scanner $LIVE live 0 "
has $n sup.out "^spawn scanner chat $SHOW $(us 3)$"
has $n sup.out "^spawn scanner chat $BETA $(us 3595)$"
has $n sup.out "^event scanner $SHOW scheduled $(us 8) "
has $n sup.out "^event scanner $SHOW live $(us 8) $(us 9) 0 "
hasnt $n scanner.err "is back"
hasnt $n ys/requests.log "^GET /youtube/v3/"
# the feed is still probed each cycle while down
[ "$(count $n ys/requests.log "^GET /feeds/videos.xml\?channel_id=$A 500$")" -ge 4 ] ||
    fail "$n: feed of $A not probed while down"

# recover: fallback, then back to the feed; no /streams request after the
# first feed that worked
n=recover
for c in $A $B; do
    [ "$(count $n scanner.err "feed of $c is back")" = 1 ] || fail "$n: recovery of $c not logged once"
done
has $n ys/requests.log "^GET /channel/$A/streams\?hl=en&gl=US 200$"
has $n ys/requests.log "^GET /feeds/videos.xml\?channel_id=$A 404$"
awk -v a="$A" '
    index($2, "/feeds/videos.xml?channel_id=" a) && ($3 == 200 || $3 == 304) { ok = 1 }
    ok && index($2, "/channel/" a "/streams") { bad = 1 }
    END { exit !(ok && !bad) }' "$T/$n/ys/requests.log" ||
    fail "$n: /streams of $A requested after the feed recovered"
has $n sup.out "^spawn scanner chat $SHOW $(us 3)$"

# playlist: channel pages down too; the uploads playlists found everything,
# one playlistItems call per channel (paced by the quota governor)
n=playlist
has $n ys/requests.log "^GET /channel/$A/streams\?hl=en&gl=US 500$"
has $n ys/requests.log "^GET /channel/$A/live\?hl=en&gl=US 500$"
has $n scanner.err "new video $SHOW on the uploads playlist of $A"
has $n sup.out "^spawn scanner chat $SHOW $(us 3)$"
has $n sup.out "^spawn scanner chat $LIVE 0$"
has $n sup.out "^event scanner $SHOW ended "
pl_calls=$(count $n ys/requests.log "^GET /youtube/v3/playlistItems\?")
[ "$pl_calls" = 2 ] || fail "$n: $pl_calls playlistItems calls, want 1 per channel"
ys_pl=$(awk -F '\t' '$1 == "playlistItems.list" { print $3 }' "$T/$n/ys/quota.tsv")
our_pl=$(awk -F '\t' '$1 == "method" && $2 == "playlistItems.list" { print $4 }' "$T/$n/state/quota.tsv")
[ "$ys_pl" = 2 ] && [ "$our_pl" = 2 ] || fail "$n: playlistItems units ytsim $ys_pl, ours $our_pl"
echo "scan-fallback: ok"
