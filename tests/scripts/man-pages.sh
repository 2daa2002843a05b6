#!/bin/sh
# man-pages: docs/man/*.scd document every command of the CLI (CTL_COMMANDS
# in supervisor/cli/ctl.h) and every config key of common/base/tw_cfg.c's field
# tables with its default, and `man -l` renders each page without warnings.
# The lists come from the sources, so a new command or key without
# documentation fails here. Needs scdoc and man (exit 77 without them).
set -u
cd "$(dirname "$0")/../.." || exit 1
fail() { echo "FAIL: $*" >&2; exit 1; }
for t in scdoc man; do
    command -v $t >/dev/null 2>&1 || { echo "skip: $t not installed"; exit 77; }
done
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

# Commands: X("name", fn, args, summary) rows of CTL_COMMANDS.
awk '/^#define CTL_COMMANDS/ {on = 1} on && /^$/ {on = 0} on' supervisor/cli/ctl.h |
    grep -o 'X("[a-z-]*"' | sed 's/^X("//; s/"$//' >"$T/commands"
[ "$(wc -l <"$T/commands")" -ge 18 ] || fail "command table not found"
grep -qx status "$T/commands" && grep -qx help "$T/commands" ||
    fail "command list incomplete"

# Keys and defaults: every {"key", F_TYPE, OFF(field), "default"|NULL, ...}
# of the s_field_t tables, rows joined across line breaks. One line each:
# key<TAB>default (NULL when none).
awk '/s_field_t [a-z_]+\[\] = \{/ {on = 1} on {buf = buf " " $0} /END\};/ {on = 0}
     END {print buf}' common/base/tw_cfg.c | tr -s ' \t' ' ' |
    grep -o '{"[a-z_0-9]*", F_[A-Z0-9]*, [A-Z]*([a-z_0-9]*), \("[^"]*"\|NULL\)' |
    sed 's/^{"\([a-z_0-9]*\)", F_[A-Z0-9]*, [A-Z]*([a-z_0-9]*), "\{0,1\}\([^"]*\)"\{0,1\}$/\1\t\2/' |
    sort -u >"$T/keys"
[ "$(wc -l <"$T/keys")" -ge 60 ] || fail "config field tables not found"
grep -q '^runtime_dir	/run/tubewatch$' "$T/keys" || fail "key extraction broken"

# Strips quotes, brackets, commas and blanks: ["a", "b"] and "a,b" compare
# equal.
norm() { tr -d '"[], \t'; }

# check_pages CLI_PAGE CONFIG_PAGE: prints what is missing, exit 1 if any.
check_pages() {
    miss=0
    while read -r c; do
        grep -q "^\*$c\*" "$1" || { echo "command '$c' not in $1"; miss=1; }
    done <"$T/commands"
    for o in -c --config --socket --json --timeout --version; do
        grep -q -- "\*$o\*" "$1" || { echo "option $o not in $1"; miss=1; }
    done
    while IFS="$(printf '\t')" read -r k d; do
        lines=$(grep "^\*$k\* = " "$2")
        if [ -z "$lines" ]; then
            echo "key '$k' not in $2"; miss=1; continue
        fi
        [ "$d" = NULL ] && continue
        want=$(printf '%s' "$d" | norm)
        printf '%s\n' "$lines" | sed 's/^[^=]*= //' | while read -r l; do
            [ "$(printf '%s' "$l" | norm)" = "$want" ] && echo found
        done | grep -q found ||
            { echo "key '$k': default '$d' not in $2"; miss=1; }
    done <"$T/keys"
    return $miss
}

check_pages docs/man/tubewatch.1.scd docs/man/supervisor.toml.5.scd ||
    fail "pages incomplete"

# The check itself must notice a missing command, key or wrong default.
grep -v '^\*spawn\*' docs/man/tubewatch.1.scd >"$T/bad.1.scd"
check_pages "$T/bad.1.scd" docs/man/supervisor.toml.5.scd >"$T/out" &&
    fail "a missing command passed"
grep -q "command 'spawn'" "$T/out" || fail "missing command not named"
sed 's/^\*log_keep\* = 5$/*log_keep* = 6/; /^\*lead_time\*/d' \
    docs/man/supervisor.toml.5.scd >"$T/bad.5.scd"
check_pages docs/man/tubewatch.1.scd "$T/bad.5.scd" >"$T/out" &&
    fail "a missing key passed"
grep -q "key 'lead_time' not in" "$T/out" || fail "missing key not named"
grep -q "key 'log_keep': default '5'" "$T/out" || fail "wrong default not named"

# Each page renders with man -l, without warnings, with its sections.
for src in docs/man/*.scd; do
    page=$T/$(basename "$src" .scd)
    scdoc <"$src" >"$page" || fail "scdoc $src"
    MANWIDTH=80 LC_ALL=C.UTF-8 man --warnings -l "$page" >"$T/txt" 2>"$T/warn" ||
        fail "man -l $page"
    [ -s "$T/warn" ] && { cat "$T/warn" >&2; fail "man -l $src warns"; }
    for s in NAME SYNOPSIS DESCRIPTION "SEE ALSO"; do
        grep -q "^$s" "$T/txt" || fail "$src: no $s section"
    done
done
echo "man-pages: $(wc -l <"$T/commands") commands, $(wc -l <"$T/keys") keys documented; pages render"
