#!/bin/sh
# scan-quota: Data API quota units per channel check of tw-scanner, 100
# channels of tests/fixtures/ytsim/scan-100.toml (114 broadcasts, 214
# videos), scan_interval 2 s for 16 s (8 rounds), with and without an API
# key. Prints rows "name|value|target" for bench/run. "cold+steady" counts
# everything, "steady" leaves out the first round (first sight of every
# video). Needs build/bin/ytsim, build/tests/fake-sup, tw-scanner.
set -u
cd "$(dirname "$0")/.." || exit 1
BUILD=${BUILD:-build}
. tests/fixtures/ytsim/lib.sh
. tests/fixtures/ytsim/scan-lib.sh
trap 'kill $(jobs -p) 2>/dev/null; ytsim_cleanup' EXIT
T=$YS_TMP
SECS=${SCAN_BENCH_SECS:-16}
E=$(date +%s)
for i in $(seq 0 99); do printf 'UCch%020d\n' $i; done >$T/channels.txt
FIRST_ROUND=3 SCAN_IV=2s LEAD=60s scan_run $T/k bench-key $SECS \
    tests/fixtures/ytsim/scan-100.toml $T/channels.txt &
FIRST_ROUND=3 SCAN_IV=2s LEAD=60s scan_run $T/n "" $SECS \
    tests/fixtures/ytsim/scan-100.toml $T/channels.txt &
wait
u=$(our_units $T/k/state/quota.tsv) u1=$(our_units $T/k/quota.1)
c=$(feed_checks $T/k) cn=$(feed_checks $T/n) un=$(ys_units $T/n)
awk -v u=$u -v u1=$u1 -v c=$c -v un=$un -v cn=$cn 'BEGIN {
    printf "scanner quota units/channel check, key (cold+steady)|%.4f (%d/%d)|<= 0.02\n", u / c, u, c
    s = c - 150; if (s < 1) s = 1
    printf "scanner quota units/channel check, key (steady)|%.4f (%d/%d)|<= 0.02\n", (u - u1) / s, u - u1, s
    printf "scanner quota units/channel check, no key|%.4f (%d/%d)|0\n", un / (cn ? cn : 1), un, cn
}'
