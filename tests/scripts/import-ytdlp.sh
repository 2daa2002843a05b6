#!/bin/sh
# import-ytdlp: `tubewatch import` of every yt-dlp capture of
# ${TW_SHARED:-../shared}/fixtures/youtube-2026/ytdlp/ (*.json, *.jsonl) into
# a real tubewatchd with tw-tokenizer and tw-writer, one video per file: the
# chat rows stored (kind != deleted) must be exactly the file's
# .expected.tsv (id, kind, author channel, author name, amount, text; the
# same line twice is one row), and a second import of all files adds no
# byte. Skips (77) without the shared fixtures.
set -u
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
SHARED=${TW_SHARED:-../shared}
SRC="$SHARED/fixtures/youtube-2026/ytdlp"
if [ ! -d "$SRC" ]; then
    echo "import-ytdlp: skipped: no shared fixtures at $SRC"
    exit 77
fi
fail() { echo "import-ytdlp: FAIL: $*"; exit 1; }
D=$(mktemp -d /tmp/tw-import-ytdlp-XXXXXX)
DP=
trap '[ -n "$DP" ] && kill $DP 2>/dev/null; rm -rf "$D"' EXIT
cat >$D/tw.toml <<EOC
[supervisor]
runtime_dir = "$D/run"
state_dir = "$D/state"
data_dir = "$D/data"
log_dir = "$D/logs"
libexec_dir = "$PWD/$BUILD/libexec/tubewatch"
[worker.writer]
fsync_interval = "0s"
[worker.tokenizer]
after = ["writer"]
EOC
"$BUILD/bin/tubewatchd" -c $D/tw.toml 2>$D/daemon.err &
DP=$!
TW="$BUILD/bin/tubewatch -c $D/tw.toml"
CH=UCytdlpImportTest000000a
state_of() { $TW --json status 2>/dev/null | jq -r --arg n "$1" '.workers[]? | select(.name == $n) | .state'; }
n=0
until [ "$(state_of tokenizer)" = running ] && [ "$(state_of writer)" = running ]; do
    n=$((n + 1))
    [ $n -lt 200 ] || { cat $D/daemon.err; fail "pipeline did not start"; }
    sleep 0.05
done
files=$(find "$SRC" \( -name '*.json' -o -name '*.jsonl' \) | LC_ALL=C sort)
i=0 bad=0 rows=0
for f in $files; do
    i=$((i + 1))
    vid=$(printf 'ytdlpImp%03d' $i)
    want="${f%.*}.expected.tsv"
    [ -f "$want" ] || fail "no expectation for $f"
    $TW import --video $vid --channel $CH "$f" >$D/out 2>&1 ||
        { cat $D/out; fail "import of $f exited $?"; }
    LC_ALL=C sort -u "$want" | cut -f1-4,6,7 >$D/want
    : >$D/got
    tsv="$(ls $D/data/comments/*/$CH/$vid.tsv 2>/dev/null)"
    [ -z "$tsv" ] ||
        awk -F '\t' 'NR > 1 && $6 != "deleted"' "$tsv" | cut -f5-10 |
        LC_ALL=C sort >$D/got
    if ! cmp -s $D/want $D/got; then
        echo "import-ytdlp: $f: stored rows differ from $want:"
        diff $D/want $D/got | head -10
        bad=$((bad + 1))
    fi
    rows=$((rows + $(wc -l <$D/got)))
done
[ $i -gt 15 ] || fail "only $i files in $SRC"
[ $rows -gt 20 ] || fail "only $rows rows stored"
sum1=$(cat $D/data/comments/*/$CH/*.tsv | cksum)
i=0
for f in $files; do
    i=$((i + 1))
    $TW import --video $(printf 'ytdlpImp%03d' $i) --channel $CH "$f" \
        >$D/out 2>&1 || { cat $D/out; fail "second import of $f exited $?"; }
done
[ "$(cat $D/data/comments/*/$CH/*.tsv | cksum)" = "$sum1" ] ||
    fail "the second import added rows"
kill -TERM $DP
wait $DP || fail "tubewatchd exit $?"
DP=
echo "import-ytdlp: $i files, $rows rows, $bad failures"
[ $bad -eq 0 ]
