#!/bin/sh
# bash-completion: `tubewatch help COMMAND` (usage from the command table,
# exit 0; unknown command exit 100) and packaging/bash-completion/tubewatch
# sourced in bash: commands, worker names from `status --json`, video ids
# from `streams --json`. Needs bash (exit 77 without it).
set -u
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
TW=$PWD/$BUILD/bin/tubewatch
fail() { echo "FAIL: $*" >&2; exit 1; }
command -v bash >/dev/null 2>&1 || { echo "skip: bash not installed"; exit 77; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

"$TW" help spawn >"$T/out" || fail "help spawn exit $?"
grep -q '^usage: tubewatch \[OPTIONS\] spawn TEMPLATE INSTANCE \[--at TIME\]$' \
    "$T/out" || fail "help spawn: $(cat "$T/out")"
"$TW" help >"$T/all" || fail "help exit $?"
n=$(grep -c '^usage: ' "$T/all")
rows=$(grep -c '^    X("' supervisor/cli/ctl.h)
[ "$n" = "$rows" ] || fail "help lists $n commands, the table has $rows"
"$TW" help no-such-command 2>"$T/err"
[ $? = 100 ] || fail "help of an unknown command must exit 100"
grep -q "unknown command 'no-such-command'" "$T/err" || fail "no message"

# A stand-in tubewatch on PATH: the real one for help, canned JSON replies
# for status and streams (as compact as ctl_print_json writes them).
mkdir "$T/bin"
cat >"$T/bin/tubewatch" <<EOS
#!/bin/sh
for a in "\$@"; do
    case \$a in
    status) echo '{"ok":true,"version":"x","workers":[{"name":"scanner","state":"running"},{"name":"chat@dQw4w9WgXcQ","state":"running"},{"name":"stats","state":"failed"}]}'; exit 0 ;;
    streams) echo '{"ok":true,"streams":[{"video_id":"dQw4w9WgXcQ","state":"live"},{"video_id":"-abcdefghij","state":"upcoming"}]}'; exit 0 ;;
    help) exec "$TW" "\$@" ;;
    esac
done
exit 111
EOS
chmod +x "$T/bin/tubewatch"

cat >"$T/run.bash" <<'EOS'
source packaging/bash-completion/tubewatch || exit 1
# complete LINE...: completes the last word of the words given.
complete_words() {
    COMP_WORDS=("$@")
    COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
    COMP_LINE="$*"
    COMP_POINT=${#COMP_LINE}
    COMPREPLY=()
    _tubewatch tubewatch "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
    printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' '
}
echo "st: $(complete_words tubewatch st)"
echo "opt: $(complete_words tubewatch -c x.toml re)"
echo "stop: $(complete_words tubewatch stop s)"
echo "logs: $(complete_words tubewatch logs chat)"
echo "spawn: $(complete_words tubewatch spawn chat '')"
echo "help: $(complete_words tubewatch help pa)"
echo "channels: $(complete_words tubewatch channels '')"
EOS
PATH=$T/bin:$PATH bash --norc --noprofile "$T/run.bash" >"$T/got" 2>"$T/err" ||
    { cat "$T/err" >&2; fail "bash completion script failed"; }
[ -s "$T/err" ] && { cat "$T/err" >&2; fail "bash completion wrote errors"; }
expect() {
    grep -qx "$1" "$T/got" || { cat "$T/got" >&2; fail "expected '$1'"; }
}
expect 'st: start status stop streams '
expect 'opt: reload report restart '
expect 'stop: scanner stats '
expect 'logs: chat@dQw4w9WgXcQ '
expect 'spawn: -abcdefghij dQw4w9WgXcQ '
expect 'help: parse-chat parse-page '
expect 'channels: add ls rm '
echo "bash-completion: help and completion of commands, workers, videos ok"
