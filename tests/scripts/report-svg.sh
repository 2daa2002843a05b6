#!/bin/sh
# report-svg: `tubewatch report` on a DATA tree written here (a stream that
# crosses local midnight, so its rows span two DAY directories; a message
# placeholder and its replacement; deletions; paid items; damaged lines).
# Checks the SVG's values against the generated data, renders it with
# rsvg-convert and finds the chat peak in the PNG's pixels.
set -u
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
TW=$BUILD/bin/tubewatch
PROBE=$BUILD/tests/png-probe
T=$(mktemp -d)
trap '[ -n "${KEEP:-}" ] || rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
for c in rsvg-convert xmllint; do
    command -v $c >/dev/null || fail "$c missing (scripts/deps installs it)"
done

V=rEpOrTvid01
V2=second_vid2
CH=UCrrrrrrrrrrrrrrrrrrrrrr
D=$T/data
cat >"$T/tw.toml" <<EOC
[supervisor]
runtime_dir = "$T/run"
state_dir = "$T/state"
data_dir = "$D"
log_dir = "$T/logs"
timezone = "Europe/Berlin"
EOC
tw() { "$TW" -c "$T/tw.toml" "$@"; }

# Fixture generator. The stream runs 30 minutes from 22:50Z on 2026-03-10:
# Berlin (UTC+1) passes midnight at 23:00Z, so the writer's files roll over
# to DAY 2026-03-11 there. Minute m gets (m*7)%5+1 messages, minute 17 gets
# 25 (the peak). Viewers: 100+10m, 900 at minute 20 (their peak).
# expected.tsv lists "epoch count" per minute.
BASE=$(date -u -d 2026-03-10T22:50:00Z +%s) || fail "date"
MID=$(date -u -d 2026-03-10T23:00:00Z +%s)
HC="received_at	published_at	channel_id	video_id	message_id	kind	author_channel_id	author_name	amount	text	tokens"
HV="sampled_at	channel_id	video_id	concurrent_viewers	views	likes	comments"
HS="sampled_at	channel_id	video_id	title	views	likes	favorites	comments"
for day in 2026-03-10 2026-03-11; do
    mkdir -p "$D/comments/$day/$CH" "$D/viewers/$day/$CH" "$D/stats/$day"
    printf '%s\n' "$HC" >"$D/comments/$day/$CH/$V.tsv"
    printf '%s\n' "$HV" >"$D/viewers/$day/$CH/$V.tsv"
    printf '%s\n' "$HS" >"$D/stats/$day/$CH.tsv"
done
awk -v base="$BASE" -v mid="$MID" -v d="$D" -v ch="$CH" -v v="$V" '
function ts(t) { return strftime("%Y-%m-%dT%H:%M:%S", t, 1) ".000000Z" }
function day(t) { return t < mid ? "2026-03-10" : "2026-03-11" }
function row(t, id, kind, amount, text,   f) {
    f = d "/comments/" day(t) "/" ch "/" v ".tsv"
    printf "%s\t%s\t%s\t%s\t%s\t%s\tUCauthor\tsomeone\t%s\t%s\t%s\n",
        ts(t + 1), ts(t), ch, v, id, kind, amount, text, text >> f
}
BEGIN {
    for (m = 0; m < 30; m++) {
        t = base + 60 * m
        n = (m == 17) ? 25 : (m * 7) % 5 + 1
        for (i = 0; i < n; i++) {
            id = "msg-" m "-" i
            if (m == 3 && i == 0) {        # placeholder, then its replacement
                row(t + i, id, "text", "", "placeholder")
                row(t + i, id, "text", "", "the real message")
            } else if (m == 5 && i == 0) { # a Super Chat later deleted
                row(t + i, id, "superchat", "$5.00", "hi")
                row(t + 40, id, "deleted", "", "")
            } else if (m == 6 && i == 0) {
                row(t + i, id, "superchat", "$5.00", "again")
            } else if (m == 8 && i == 0) {
                row(t + i, id, "superchat", "\302\2451,000", "yen")
            } else if (m == 12 && i == 0) {
                row(t + i, id, "sticker", "\342\202\2542.00", "")
            } else if (m == 20 && i == 0) {
                row(t + i, id, "jewels", "", "sent Rose for 20 Jewels")
            } else {
                row(t + i, id, "text", "", "hello " i)
            }
        }
        printf "%d %d\n", t, n > d "/../expected.tsv"
        vf = d "/viewers/" day(t) "/" ch "/" v ".tsv"
        printf "%s\t%s\t%s\t%d\t\t\t\n", ts(t), ch, v,
            (m == 20 ? 900 : 100 + 10 * m) >> vf
        sf = d "/stats/" day(t) "/" ch ".tsv"
        printf "%s\t%s\t%s\tA <b>&amp; \"stream\"\t1\t2\t\t3\n",
            ts(t), ch, v >> sf
    }
    # a deletion of a message never stored: not a message
    row(base + 300, "never-stored", "deleted", "", "")
}' || fail "fixture"
F2=$D/comments/2026-03-11/$CH/$V.tsv
# damaged lines: bad time, a field missing, unknown kind, bad escape, a
# torn last line; a row of another video in this file
printf 'garbage\tline\n' >>"$F2"
printf 'x\ty\t%s\t%s\tid\ttext\ta\tb\t\tt\tt\n' "$CH" "$V" >>"$F2"
printf '2026-03-10T23:05:00Z\t\t%s\t%s\tid2\tweird\ta\tb\t\tt\tt\n' "$CH" "$V" >>"$F2"
printf '2026-03-10T23:05:00Z\t\t%s\t%s\tid\\q\ttext\ta\tb\t\tt\tt\n' "$CH" "$V" >>"$F2"
printf '2026-03-10T23:05:00Z\t\t%s\tOTHERvideo1\tid3\ttext\ta\tb\t\tt\tt\n' "$CH" >>"$F2"
printf '2026-03-10T23:05:00Z\t\t%s\t%s\ttorn' "$CH" "$V" >>"$F2"
# a second stream of 2026-03-11 with viewers only
mkdir -p "$D/viewers/2026-03-11/$CH"
printf '%s\n2026-03-11T10:00:00.000000Z\t%s\t%s\t42\t\t\t\n2026-03-11T10:01:00.000000Z\t%s\t%s\t44\t\t\t\n' \
    "$HV" "$CH" "$V2" "$CH" "$V2" >"$D/viewers/2026-03-11/$CH/$V2.tsv"

# --- usage and missing data
tw report >/dev/null 2>&1; [ $? = 100 ] || fail "no argument: want 100"
tw report ../../etc/pa >/dev/null 2>"$T/err"; [ $? = 100 ] || fail "hostile id: want 100"
grep -q 'invalid video id' "$T/err" || fail "hostile id message"
tw report --day 2026-03-11 >/dev/null 2>&1; [ $? = 100 ] || fail "--day without -o"
tw report --day 2026-13-40 -o "$T/x" >/dev/null 2>&1; [ $? = 100 ] || fail "bad day"
tw report NoSuchVideo >/dev/null 2>"$T/err"; [ $? = 1 ] || fail "unknown video: want 1"
grep -q 'no chat or viewer rows of video NoSuchVideo' "$T/err" || fail "no-data message"
tw report --day 2026-01-01 -o "$T/x" >/dev/null 2>&1; [ $? = 1 ] || fail "empty day: want 1"

# --- one SVG
tw report "$V" -o "$T/r.svg" 2>"$T/err" || fail "report: $(cat "$T/err")"
grep -q '6 damaged lines skipped' "$T/err" || fail "damaged lines not counted: $(cat "$T/err")"
xmllint --noout "$T/r.svg" || fail "SVG is not well-formed XML"
grep -q '<title>A &lt;b&gt;&amp;amp; &quot;stream&quot; - rEpOrTvid01</title>' "$T/r.svg" ||
    fail "title not escaped"
tw report "$V" 2>/dev/null | cmp -s - "$T/r.svg" || fail "stdout differs from -o"

# every bar matches the data: one bar per minute, its data-v the count
awk -F'"' '/<rect id="chat-bar-/ { for (i = 1; i < NF; i++) {
        if ($i ~ /data-x=$/) x = $(i + 1); if ($i ~ /data-v=$/) v = $(i + 1) }
        print x, v }' "$T/r.svg" >"$T/bars"
cmp -s "$T/bars" "$T/expected.tsv" || { diff "$T/expected.tsv" "$T/bars" >&2; fail "bars differ from the data"; }
PEAK=$(date -u -d 2026-03-10T23:07:00Z +%s)
TALL=$(awk -F'"' '/<rect id="chat-bar-/ { for (i = 1; i < NF; i++) {
        if ($i ~ /data-x=$/) x = $(i + 1); if ($i ~ /height=$/) h = $(i + 1) }
        if (h + 0 > best) { best = h + 0; bx = x } } END { print bx }' "$T/r.svg")
[ "$TALL" = "$PEAK" ] || fail "tallest bar at $TALL, want $PEAK"
VPEAK=$(awk -F'"' '/<circle id="viewers-pt-/ { for (i = 1; i < NF; i++) {
        if ($i ~ /data-x=$/) x = $(i + 1); if ($i ~ /cy=$/) y = $(i + 1) }
        if (best == "" || y + 0 < best) { best = y + 0; bx = x } } END { print bx }' "$T/r.svg")
[ "$VPEAK" = "$(date -u -d 2026-03-10T23:10:00Z +%s)" ] || fail "viewer peak at $VPEAK"
[ "$(grep -c '<circle id="viewers-pt-' "$T/r.svg")" = 30 ] || fail "viewer samples"
grep -q '30 messages\|[0-9]* messages' "$T/r.svg" || fail "subtitle"
# 2 + 25 + ... : the total is the sum of the data; 1 of them deleted
TOTAL=$(awk '{ s += $2 } END { print s }' "$T/expected.tsv")
grep -q "$TOTAL messages, 1 deleted" "$T/r.svg" || fail "message total (want $TOTAL, 1 deleted)"
# axes in local time: the tick "00:05" (Berlin) sits where the bar of
# 23:05Z starts
B5=$(date -u -d 2026-03-10T23:05:00Z +%s)
BX=$(awk -F'"' -v want="$B5" '/<rect id="chat-bar-/ { for (i = 1; i < NF; i++) {
        if ($i ~ /data-x=$/) x = $(i + 1); if ($i ~ / x=$/) px = $(i + 1) }
        if (x == want) print px }' "$T/r.svg")
TX=$(grep -o '<text class="xl" x="[0-9.]*" y="[0-9.]*">00:05</text>' "$T/r.svg" | head -1 |
    sed 's/.* x="\([0-9.]*\)".*/\1/')
[ -n "$BX" ] && [ -n "$TX" ] || fail "no bar or tick for 00:05 local"
awk -v a="$BX" -v b="$TX" 'BEGIN { d = a - b; exit !(d < 0.01 && d > -0.01) }' ||
    fail "tick 00:05 at $TX, bar of 23:05Z at $BX"
grep -q '>23:50<' "$T/r.svg" || fail "first local tick 23:50"
# paid items by currency
for cells in 'superchat</text><text [^>]*>USD</text><text [^>]*>2</text><text [^>]*>10.00' \
    'superchat</text><text [^>]*>JPY</text><text [^>]*>1</text><text [^>]*>1000.00' \
    'sticker</text><text [^>]*>EUR</text><text [^>]*>1</text><text [^>]*>2.00' \
    'jewels</text><text [^>]*>Jewels</text><text [^>]*>1</text><text [^>]*>20<'; do
    grep -q "$cells" "$T/r.svg" || fail "money row: $cells"
done

# --- the picture: size, and the chat peak drawn at its minute
rsvg-convert -o "$T/r.png" "$T/r.svg" || fail "rsvg-convert"
SW=$(sed -n 's/.*<svg [^>]* width="\([0-9]*\)" height="\([0-9]*\)".*/\1 \2/p' "$T/r.svg")
[ "$("$PROBE" "$T/r.png" size)" = "$SW" ] || fail "PNG size $("$PROBE" "$T/r.png" size), SVG $SW"
set -- $SW
[ "$1" -ge 800 ] && [ "$2" -ge 500 ] || fail "picture too small: $SW"
# the chat panel ends at the bars' baseline; the topmost bar-coloured pixel
# above it must lie within the peak minute's bar
BASEY=$(awk -F'"' '/<rect id="chat-bar-0"/ { for (i = 1; i < NF; i++) {
        if ($i ~ / y=$/) y = $(i + 1); if ($i ~ /height=$/) h = $(i + 1) }
        printf "%d", y + h }' "$T/r.svg")
set -- $("$PROBE" "$T/r.png" top 2f6db5 0 "$1" 0 "$BASEY") || fail "no bar pixels"
PX=$1
awk -F'"' -v want="$PEAK" -v px="$PX" '/<rect id="chat-bar-/ {
        for (i = 1; i < NF; i++) { if ($i ~ /data-x=$/) x = $(i + 1)
            if ($i ~ / x=$/) l = $(i + 1); if ($i ~ /width=$/) w = $(i + 1) }
        if (x == want) ok = (px >= l - 1 && px <= l + w + 1) }
    END { exit !ok }' "$T/r.svg" || fail "PNG peak at column $PX is not the bar of 23:07Z"

# --- a day's index
tw report --day 2026-03-11 -o "$T/day" >"$T/out" 2>/dev/null || fail "--day"
[ -s "$T/day/$V.svg" ] && [ -s "$T/day/$V2.svg" ] || fail "--day SVGs"
grep -q "href=\"$V.svg\"" "$T/day/index.html" || fail "index link $V"
grep -q "href=\"$V2.svg\"" "$T/day/index.html" || fail "index link $V2"
grep -q '&lt;b&gt;' "$T/day/index.html" || fail "index title escaped"
grep -q '<b>' "$T/day/index.html" && fail "raw markup in index"
xmllint --noout "$T/day/$V2.svg" || fail "viewers-only SVG"
grep -q 'chat-bar-' "$T/day/$V2.svg" && fail "bars without messages"
rsvg-convert -o "$T/v2.png" "$T/day/$V2.svg" || fail "render viewers-only SVG"
grep -q "$T/day/index.html" "$T/out" || fail "--day output"
echo "report-svg: ok"
