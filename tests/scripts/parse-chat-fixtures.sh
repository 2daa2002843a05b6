#!/bin/sh
# parse-chat on every shared innertube fixture (*.json, recursively) must print
# exactly its .expected.tsv (made by expected_chat.jq). Skips (77) without
# the shared fixtures.
set -u
BUILD=${BUILD:-build}
SHARED=${TW_SHARED:-../shared}
dir="$SHARED/fixtures/innertube"
if [ ! -d "$dir" ]; then
    echo "parse-chat-fixtures: skipped: no shared fixtures at $dir"
    exit 77
fi
tool="$BUILD/tests/parse-chat"
out=$(mktemp)
trap 'rm -f "$out"' EXIT
n=0 bad=0
for f in $(find "$dir" -name '*.json' | LC_ALL=C sort); do
    want="${f%.json}.expected.tsv"
    if [ ! -f "$want" ]; then
        echo "parse-chat-fixtures: no expectation for $f"
        bad=$((bad + 1))
        continue
    fi
    n=$((n + 1))
    if ! "$tool" "$f" >"$out"; then
        echo "FAIL: parse-chat $f exited $?"
        bad=$((bad + 1))
    elif ! cmp -s "$out" "$want"; then
        echo "FAIL: $f differs from its .expected.tsv:"
        diff "$want" "$out" | head -20
        bad=$((bad + 1))
    fi
done
echo "parse-chat-fixtures: $n files, $bad failures"
[ "$n" -gt 0 ] && [ "$bad" -eq 0 ]
