#!/bin/sh
# scan-100: tw-scanner with 100 channels (tests/fixtures/ytsim/scan-100.toml,
# half of them listed by @handle) and an API key: every planned stream gets
# its spawn request at scheduled start - lead_time, every live one at once,
# quota units equal ytsim's count and stay at or below 0.05 per feed check
# even with the cold start included.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/fixtures/ytsim/lib.sh
. tests/fixtures/ytsim/scan-lib.sh
trap 'kill $(jobs -p) 2>/dev/null; ytsim_cleanup' EXIT
T=$YS_TMP
[ -x "$BUILD/libexec/tubewatch/tw-scanner" ] || fail "build tw-scanner first"
E=$(date +%s)
for i in $(seq 0 99); do
    if [ $((i % 2)) = 0 ]; then printf 'UCch%020d\n' $i; else printf '@ch%03d\n' $i; fi
done >$T/channels.txt
SCAN_IV=2s LEAD=60s scan_run $T/k bench-key 9 tests/fixtures/ytsim/scan-100.toml $T/channels.txt
d=$T/k
[ "$(cat $d/scanner.rc)" = 0 ] || fail "scanner exit $(cat $d/scanner.rc)"
truth=$d/ys/truth/streams.tsv
bad=$(awk -F '\t' -v E=$E 'NR == FNR { if ($1 == "spawn") nb[$4] = $5; next }
    FNR > 1 && $3 ~ /^Plan / { n++; split($5, a, /[-T:Z.]/);
        if (!($1 in nb)) { print "no spawn for " $3; bad++ } }
    FNR > 1 && $3 ~ /^Live / { if (nb[$1] != "0") { print "no live spawn for " $3; bad++ } }
    END { print bad + 0 }' FS=' ' $d/sup.out FS='\t' $truth | tee $T/bad.txt | tail -n1)
[ "$bad" = 0 ] || { grep -v '^rx' $d/sup.out | head >&2; cat $T/bad.txt >&2; grep -v "info:" $d/scanner.err >&2; fail "$bad streams without a correct spawn"; }
# not_before of every planned stream = epoch + scheduled - 60 s
for i in 0 37 99; do
    v=$(awk -F '\t' -v t="Plan $i" '$3 == t { print $1 }' $truth)
    want=$(( (E + 7200 + i * 60 - 60) * 1000000 ))
    grep -q "^spawn scanner chat $v $want\$" $d/sup.out || fail "Plan $i: not_before"
done
[ "$(grep -c '^spawn scanner chat' $d/sup.out)" = 114 ] || fail "$(grep -c '^spawn' $d/sup.out) spawns, want 114"
[ "$(grep -c '^event scanner [A-Za-z0-9_-]* live ' $d/sup.out)" = 10 ] || fail "live events"
ys=$(ys_units $d) ours=$(our_units $d/state/quota.tsv) checks=$(feed_checks $d)
[ "$ys" -gt 0 ] && [ "$ys" = "$ours" ] || fail "ytsim charged $ys units, we counted $ours"
[ "$checks" -ge 300 ] || fail "only $checks feed checks"
awk -v u=$ys -v c=$checks 'BEGIN { exit !(u / c <= 0.05) }' || fail "$ys units for $checks checks"
echo "scan-100: ok ($ys units, $checks feed checks)"
