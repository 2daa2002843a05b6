#!/bin/sh
# tubewatch parse-chat on every shared innertube fixture (*.json, recursively, plus the
# *.html pages, whose expectation is empty), on every chat capture of
# youtube-2026/ (actions/, chat/, ytdlp/: *.json and yt-dlp's JSON Lines
# *.jsonl) and on the project's own
# tests/fixtures/youtube/chat_*.json and live_chat_page.html must print
# exactly the file's .expected.tsv (made by expected_chat.jq). Skips (77) without the
# shared fixtures, after checking the project's own ones.
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
SHARED=${TW_SHARED:-../shared}
dir="$SHARED/fixtures/innertube"
tool="$BUILD/bin/tubewatch"
out=$(mktemp)
trap 'rm -f "$out"' EXIT
n=0 bad=0
shared_files=
y26="$SHARED/fixtures/youtube-2026"
if [ -d "$dir" ]; then
    shared_files=$(find "$dir" \( -name '*.json' -o -name '*.html' \) |
        LC_ALL=C sort)
    if [ ! -d "$y26/actions" ] || [ ! -d "$y26/ytdlp" ]; then
        echo "parse-chat-fixtures: $y26 is missing beside $dir"
        exit 1
    fi
    shared_files="$shared_files $(find "$y26/actions" "$y26/chat" "$y26/ytdlp" \
        \( -name '*.json' -o -name '*.jsonl' \) | LC_ALL=C sort)"
fi
for f in tests/fixtures/youtube/chat_*.json \
    tests/fixtures/youtube/live_chat_page.html $shared_files; do
    want="${f%.*}.expected.tsv"
    if [ ! -f "$want" ]; then
        echo "parse-chat-fixtures: no expectation for $f"
        bad=$((bad + 1))
        continue
    fi
    n=$((n + 1))
    if ! "$tool" parse-chat "$f" >"$out"; then
        echo "FAIL: parse-chat $f exited $?"
        bad=$((bad + 1))
    elif ! cmp -s "$out" "$want"; then
        echo "FAIL: $f differs from its .expected.tsv:"
        diff "$want" "$out" | head -20
        bad=$((bad + 1))
    fi
done
echo "parse-chat-fixtures: $n files, $bad failures"
[ "$bad" -eq 0 ] || exit 1
if [ ! -d "$dir" ]; then
    echo "parse-chat-fixtures: skipped: no shared fixtures at $dir"
    exit 77
fi
[ "$n" -gt 60 ]
