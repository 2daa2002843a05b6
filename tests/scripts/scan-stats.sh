#!/bin/sh
# scan-stats: tw-stats (with tw-scanner providing the live set) against
# ytsim (tests/fixtures/ytsim/scan-stats.toml), with a fake tubewatchd,
# writer and notifier (build/tests/fake-sup); two runs in parallel, with and
# without an API key. Asserts: viewers samples of both live streams, counts
# of the old upload (found through channels.list + playlistItems with a
# key, through the scanner's table without), every sampled value equal to
# what ytsim served (truth/stats.tsv), hidden likes/comments absent (never
# 0), the same samples to the writer and the notifier, and quota units equal
# to ytsim's count per method.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/fixtures/ytsim/lib.sh
. tests/fixtures/ytsim/scan-lib.sh
trap 'kill $(jobs -p) 2>/dev/null; ytsim_cleanup' EXIT
T=$YS_TMP
SCN=tests/fixtures/ytsim/scan-stats.toml
X=$BUILD/libexec/tubewatch
FAKE=$BUILD/tests/fake-sup
[ -x "$X/tw-stats" ] && [ -x "$X/tw-scanner" ] && [ -x "$FAKE" ] ||
    fail "build tw-stats, tw-scanner and fake-sup first"
E=$(date +%s)

run() { # NAME KEY SECONDS [YTSIM ARGS]
    name=$1 key=$2 secs=$3
    shift 3
    d=$T/$name
    mkdir -p "$d/state" "$d/run"
    scan_ytsim "$d" $SCN "$@" || return 1
    echo "@statalpha" >"$d/channels.txt"
    {
        scan_toml_head "$d" "$key" "$p" 100000000
        cat <<EOC
[worker.scanner]
channels_file = "$d/channels.txt"
scan_interval = "1s"
[worker.stats]
viewers_interval = "1s"
stats_interval = "2s"
watch_uploads = true
[worker.writer]
[worker.notifier]
EOC
    } >"$d/tw.toml"
    "$FAKE" "ipc://$d/run/sup.sock" "ipc://$d/run/writer.sock" \
        "ipc://$d/run/notifier.sock" >"$d/sup.out" 2>&1 &
    fp=$!
    export TUBEWATCH_CONFIG="$d/tw.toml" TUBEWATCH_SUP_ENDPOINT="ipc://$d/run/sup.sock" \
        TUBEWATCH_STATE_DIR="$d/state" TUBEWATCH_RUNTIME_DIR="$d/run"
    TUBEWATCH_WORKER=scanner "$X/tw-scanner" 2>"$d/scanner.err" &
    sp=$!
    TUBEWATCH_WORKER=stats "$X/tw-stats" 2>"$d/stats.err" &
    tp=$!
    sleep "$secs"
    kill -TERM $tp; wait $tp; echo $? >"$d/stats.rc"
    kill -TERM $sp; wait $sp
    sleep 0.3
    kill -TERM $fp; wait $fp
    kill -TERM $yp; wait $yp
}

run key stats-test-key 8 &
r1=$!
run nokey "" 8 &
r2=$!
run quota stats-test-key 8 --quota 4 &
r3=$!
wait $r1 $r2 $r3

vid() { awk -F '\t' -v t="$2" 'NR > 1 && $3 == t { print $1; exit }' "$T/$1/ys/truth/streams.tsv"; }
for n in key nokey quota; do
    d=$T/$n
    [ "$(cat $d/stats.rc)" = 0 ] || { cat $d/stats.err >&2; fail "$n: tw-stats exit $(cat $d/stats.rc)"; }
    OPEN=$(vid $n "Open live") SHY=$(vid $n "Shy live") OLD=$(vid $n "Old upload")
    # rx NAME stats.sample VIDEO CHANNEL SAMPLED VIEWERS VIEWS LIKES FAVS COMMENTS
    grep '^rx writer.sock stats.sample ' $d/sup.out | cut -d' ' -f4- >$d/w.txt
    grep '^rx notifier.sock stats.sample ' $d/sup.out | cut -d' ' -f4- >$d/n.txt
    cmp -s $d/w.txt $d/n.txt || fail "$n: writer and notifier got different samples"
    for v in $OPEN $SHY; do
        c=$(awk -v v=$v '$1 == v && $4 != "-"' $d/w.txt | wc -l)
        [ "$c" -ge 3 ] || { cat $d/stats.err >&2; fail "$n: $c viewers samples of $v"; }
    done
    awk -v v=$SHY '$1 == v && ($6 != "-" || $8 != "-") { exit 1 }' $d/w.txt ||
        fail "$n: hidden likes/comments of $SHY not absent"
    [ $n = nokey ] || awk -v v=$OPEN '$1 == v && $5 != "-" && $6 == "-" { exit 1 }' $d/w.txt ||
        fail "$n: likes of $OPEN missing"
    c=$(awk -v v=$OLD '$1 == v && $5 != "-"' $d/w.txt | wc -l)
    [ "$c" -ge 2 ] || { cat $d/stats.err >&2; fail "$n: $c count samples of the old upload"; }
    grep -q "UCstatAAAAAAAAAAAAAAAAAA" $d/w.txt || fail "$n: channel id missing"
    # every sampled value was served by ytsim: truth/stats.tsv columns are
    # time source channel video viewers views likes favorites comments
    awk -F '\t' 'NR == FNR { k = ++nr[$4]; vw[$4, k] = $5; vs[$4, k] = $6;
                  lk[$4, k] = $7; cm[$4, k] = $9; next }
        {
            ok = 0
            for (k = 1; k <= nr[$1] && !ok; k++)
                ok = ($4 == "-" || $4 == vw[$1, k]) && ($5 == "-" || $5 == vs[$1, k]) &&
                     ($6 == "-" || $6 == lk[$1, k]) && ($8 == "-" || $8 == cm[$1, k])
            if (!ok) { print "no truth for " $0; bad = 1 }
        }
        END { exit bad }' $d/ys/truth/stats.tsv FS=' ' $d/w.txt >&2 ||
        fail "$n: samples differ from what ytsim served"
done
# quota: ours equals ytsim's per method
for m in videos.list channels.list playlistItems.list; do
    ys=$(awk -F '\t' -v m=$m '$1 == m { print $3 }' $T/key/ys/quota.tsv)
    ours=$(awk -F '\t' -v m=$m '$1 == "method" && $2 == m { print $4 }' $T/key/state/quota.tsv)
    [ "$ys" = "${ours:-0}" ] || fail "key: $m ytsim $ys units, ours ${ours:-0}"
done
[ "$(awk -F '\t' '$1 == "channels.list" { print $3 }' $T/key/ys/quota.tsv)" -ge 1 ] || fail "key: no channels.list"
[ "$(awk -F '\t' 'NR > 1 { s += $3 } END { print s + 0 }' $T/nokey/ys/quota.tsv)" = 0 ] ||
    fail "nokey: Data API used"
# quota: exhausted after 4 units, then the web client goes on sampling
grep -q 'quota exhausted' $T/quota/stats.err $T/quota/scanner.err || fail "quota: not exhausted"
[ "$(awk -F '\t' 'NR > 1 { s += $3 } END { print s + 0 }' $T/quota/ys/quota.tsv)" = 4 ] ||
    fail "quota: ytsim charged more than 4 units"
echo "scan-stats: ok ($(wc -l <$T/key/w.txt) samples with a key, $(wc -l <$T/nokey/w.txt) without)"
