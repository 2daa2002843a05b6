#!/bin/sh
# uploader-drive: `tubewatch archive` and `tubewatch drive-auth` against
# ytsim's OAuth and Drive: manifest, resumable upload with dropped
# connections, a lost session (404), 401 then refresh, invalid_grant,
# storage quota, kill -9 at random points then rerun (exactly one file with
# the right md5), keep_days, the device-code flow, a service account, and
# the tw-uploader worker under tubewatchd killed mid-upload.
set -u
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
YTSIM=${YTSIM:-$BUILD/bin/ytsim}
TW=$(pwd)/$BUILD/bin/tubewatch
TWD=$(pwd)/$BUILD/bin/tubewatchd
T=$(mktemp -d /tmp/tw-uploader-XXXXXX)
YS_PID=""
D_PID=""
export TUBEWATCH_DRIVE_BACKOFF_MS=20 TUBEWATCH_DEVICE_POLL_MS=10

cleanup() {
    [ -n "$D_PID" ] && kill "$D_PID" 2>/dev/null && wait "$D_PID" 2>/dev/null
    [ -n "$YS_PID" ] && kill "$YS_PID" 2>/dev/null && wait "$YS_PID" 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT

fail() {
    echo "FAIL: $*" >&2
    for f in "$T"/cur/cli.err "$T"/cur/ys.log; do
        [ -f "$f" ] && { echo "--- $f" >&2; tail -n 20 "$f" >&2; }
    done
    exit 1
}

# waits up to $2 tenths of a second for the shell condition $1
wait_for() {
    n=0
    while ! eval "$1"; do
        n=$((n + 1))
        [ $n -gt "$2" ] && return 1
        sleep 0.1
    done
    return 0
}

[ -x "$YTSIM" ] && [ -x "$TW" ] || { echo "skipped: build first"; exit 77; }
for tool in curl jq unzip flock md5sum sha256sum; do
    command -v $tool >/dev/null || { echo "skipped: no $tool"; exit 77; }
done

# ys_start DIR ARGS...: ytsim on YS_WANT (default 0) with --out DIR/ys
ys_start() {
    dir=$1
    shift
    rm -rf "$dir/ys"
    "$YTSIM" --scenario "${YS_SCENARIO:-builtin}" --speed 0 --listen "127.0.0.1:${YS_WANT:-0}" \
        --out "$dir/ys" "$@" >"$dir/ys.log" 2>&1 &
    YS_PID=$!
    wait_for "[ -s '$dir/ys/port' ]" 50 || fail "ytsim did not start"
    YS_PORT=$(cat "$dir/ys/port")
}
ys_stop() {
    kill "$YS_PID" 2>/dev/null
    wait "$YS_PID" 2>/dev/null
    YS_PID=""
}

# setup NAME [TOML for [worker.uploader]]: a fresh case dir $C with a
# config using the running ytsim; ln -s cur for failure output
setup() {
    C=$T/$1
    mkdir -p "$C/data" "$C/state" "$C/secrets" "$C/run" "$C/logs"
    rm -f "$T/cur"
    ln -s "$C" "$T/cur"
    printf '{"installed":{"client_id":"ytsim-client.apps.googleusercontent.com","client_secret":"ytsim-client-secret","token_uri":"https://oauth2.googleapis.com/token"}}\n' \
        >"$C/secrets/client_secrets.json"
    printf '{"refresh_token":"1//ytsim-refresh-token"}\n' >"$C/secrets/token.json"
    chmod 600 "$C/secrets/"*
    cat >"$C/sup.toml" <<EOF
[supervisor]
runtime_dir = "$C/run"
state_dir = "$C/state"
data_dir = "$C/data"
log_dir = "$C/logs"
libexec_dir = "$(pwd)/$BUILD/libexec/tubewatch"
timezone = "UTC"
[drive]
enabled = true
client_secrets_file = "secrets/client_secrets.json"
token_file = "secrets/token.json"
service_account_file = "${SA:-}"
folder_name = "tube'watch"
oauth_base_url = "http://127.0.0.1:$YS_PORT"
api_base_url = "http://127.0.0.1:$YS_PORT"
chunk_size = "256KiB"
[worker.uploader]
${2:-}
EOF
}

# day DATE KB: about KB kilobytes of data for DATE in $C/data
day() {
    mkdir -p "$C/data/comments/$1/UCa" "$C/data/comments/$1/UCb" \
        "$C/data/viewers/$1/UCa" "$C/data/stats/$1"
    head -c $(($2 * 750)) /dev/urandom | base64 -w 120 \
        >"$C/data/comments/$1/UCa/vid1.tsv"
    printf 'h\nl1\tx\n' >"$C/data/comments/$1/UCb/vid2.tsv"
    seq 1 500 | sed 's/$/\t10\t20/' >"$C/data/viewers/$1/UCa/vid1.tsv"
    printf 'h\tt\n1\t2\n' >"$C/data/stats/$1/UCa.tsv"
}

archive() {
    "$TW" -c "$C/sup.toml" archive "$@" >"$C/cli.out" 2>"$C/cli.err"
}

# archive_bg: archive in the background, its pid in A
archive_bg() {
    "$TW" -c "$C/sup.toml" archive >"$C/cli.out" 2>>"$C/cli.err" &
    A=$!
}

# phase DATE: the journal's phase of DATE
phase() {
    awk -F '\t' -v d="$1" '$1 == d { print $2 }' \
        "$C/state/uploader/uploaded.tsv" 2>/dev/null
}

# one_file DATE: exactly one DATE.zip on the simulated Drive, same md5
one_file() {
    n=$(ls "$C/ys/received/drive/" | grep -c -- "-$1.zip\$")
    [ "$n" = 1 ] || fail "$n copies of $1.zip on Drive (want 1)"
    got=$(md5sum "$C/ys/received/drive/"*"-$1.zip" | cut -d' ' -f1)
    want=$(md5sum "$C/data/archive/$1.zip" | cut -d' ' -f1)
    [ "$got" = "$want" ] || fail "md5 of $1.zip on Drive $got != local $want"
    [ "$(phase "$1")" = uploaded ] || [ "$(phase "$1")" = deleted ] ||
        fail "phase of $1 is $(phase "$1")"
}

D1=$(date -u -d '1 day ago' +%F)
D2=$(date -u -d '2 days ago' +%F)
D9=$(date -u -d '9 days ago' +%F)
TODAY=$(date -u +%F)

# probe: does this ytsim speak Drive?
mkdir -p "$T/probe"
ys_start "$T/probe"
if ! curl -s -X POST -d client_id=ytsim-client.apps.googleusercontent.com \
    "http://127.0.0.1:$YS_PORT/device/code" | grep -q device_code; then
    echo "skipped: ytsim has no OAuth/Drive endpoints yet"
    exit 77
fi
ys_stop

# --- basic upload, manifest, idempotent rerun, --no-upload, today ------
mkdir -p "$T/basic"
ys_start "$T/basic"
setup basic
day "$D1" 600
day "$D2" 50
day "$TODAY" 10
archive --no-upload --date "$D2" || fail "archive --no-upload"
[ "$(phase "$D2")" = zipped ] || fail "no-upload phase $(phase "$D2")"
[ -z "$(ls "$C/ys/received/drive/")" ] || fail "--no-upload uploaded"
archive --date "$TODAY" && fail "today must be refused"
archive || fail "archive"
grep -q '2 uploaded' "$C/cli.out" || fail "report: $(cat "$C/cli.out")"
one_file "$D1"
one_file "$D2"
[ -e "$C/data/archive/$TODAY.zip" ] && fail "today archived"
mkdir "$C/x"
(cd "$C/x" && unzip -q "../data/archive/$D1.zip") || fail "unzip"
jq -e --arg d "$D1" '(.files | map(.path)) as $p | .date == $d and
    .total_files == 4 and $p == ($p | sort)' "$C/x/manifest.json" >/dev/null ||
    fail "manifest header"
jq -r '.files[] | "\(.path) \(.size) \(.lines) \(.sha256)"' \
    "$C/x/manifest.json" | while read -r p size lines sha; do
    [ "$(sha256sum "$C/x/$p" | cut -d' ' -f1)" = "$sha" ] || fail "sha256 $p"
    [ "$(wc -l <"$C/x/$p")" = "$lines" ] || fail "lines $p"
    [ "$(stat -c %s "$C/x/$p")" = "$size" ] || fail "size $p"
    cmp -s "$C/x/$p" "$C/data/$p" || fail "content $p"
done || exit 1
"$TW" -c "$C/sup.toml" --json archive >"$C/cli.out" 2>"$C/cli.err" ||
    fail "rerun"
jq -e '.ok and .zipped == 0 and .uploaded == 0 and .failed == 0' \
    "$C/cli.out" >/dev/null || fail "rerun did work: $(cat "$C/cli.out")"
# busy: --now gives up at once (exit 1), without --now it waits
flock "$C/state/uploader/lock" sleep 1 &
L=$!
wait_for "! flock -n '$C/state/uploader/lock' true" 20 || fail "no lock"
archive --now
[ $? = 1 ] || fail "--now while busy"
archive || fail "waiting for the lock"
wait $L
# journal lost but zip and Drive file there: found by name, not re-sent
rm "$C/state/uploader/uploaded.tsv"
archive || fail "rerun without journal"
one_file "$D1"
grep -q 'found already there' "$C/cli.err" || fail "not found by lookup"
ys_stop
echo "ok basic"

# --- dropped connections and truncated replies --------------------------
mkdir -p "$T/drops"
ys_start "$T/drops" --fault drive_upload:reset:-1e18:1e18:0.3 \
    --fault drive_upload:truncate:-1e18:1e18:0.3
setup drops
day "$D1" 1500
ok=0
for i in 1 2 3; do
    if archive; then ok=1; break; fi
done
[ $ok = 1 ] || fail "upload with drops never finished"
one_file "$D1"
ys_stop
grep -q ' 0$' "$C/ys/requests.log" || fail "no dropped connection seen"
echo "ok drops ($(grep -c ' 0$' "$C/ys/requests.log") dropped)"

# --- kill -9 mid-upload, then the session is lost (new server, 404) -----
mkdir -p "$T/lost"
ys_start "$T/lost" --fault drive_upload:slow:-1e18:1e18:1:150
setup lost
day "$D1" 1500
archive_bg
wait_for "[ \"\$(phase $D1)\" = session ]" 100 || fail "no session journaled"
sleep 0.3
kill -9 $A
wait $A 2>/dev/null
[ "$(phase "$D1")" = session ] || fail "phase after kill $(phase "$D1")"
ys_stop
YS_WANT=$YS_PORT ys_start "$T/lost"
YS_WANT=""
archive || fail "archive after lost session"
one_file "$D1"
ys_stop
grep -q 'PUT .*upload_id.* 404' "$C/ys/requests.log" || fail "no 404 on the old session"
grep -q 'restarting the upload' "$C/cli.err" || fail "no restart logged"
echo "ok lost session"

# --- SIGKILL at each step (test hook), then rerun ------------------------
mkdir -p "$T/steps"
ys_start "$T/steps"
setup steps "keep_days = 3"
day "$D9" 300
day "$D1" 50
for pt in zip zipped session sent deleting; do
    TUBEWATCH_UPLOADER_CRASH_AT=$pt archive
    rc=$?
    [ $rc = 137 ] || fail "no crash at $pt (exit $rc)"
    echo "$pt $(phase "$D9")" >>"$C/phases"
done
[ "$(tr '\n' ' ' <"$C/phases")" = "zip  zipped zipped session session sent session deleting uploaded " ] ||
    fail "phases after the crashes: $(tr '\n' ' ' <"$C/phases")"
archive || fail "run after the crashes"
one_file "$D9"
one_file "$D1"
[ "$(phase "$D9")" = deleted ] || fail "phase $(phase "$D9")"
[ -d "$C/data/comments/$D9" ] && fail "old day kept"
ys_stop
[ "$(grep -c '^POST /upload/drive/v3/files?uploadType=resumable' "$C/ys/requests.log")" = 2 ] ||
    fail "sessions started: $(grep -c 'uploadType=resumable' "$C/ys/requests.log")"
echo "ok steps"

# --- kill -9 at random points, then rerun: exactly one file -------------
mkdir -p "$T/crash"
ys_start "$T/crash" --fault drive_upload:slow:-1e18:1e18:1:60
setup crash
day "$D1" 1200
day "$D2" 300
for ms in 30 400 150 900 50 650 1200 10; do
    archive_bg
    sleep "$(echo "$ms" | awk '{ printf "%.3f", $1 / 1000 }')"
    kill -9 $A 2>/dev/null
    wait $A 2>/dev/null
done
archive || fail "final run after kills"
one_file "$D1"
one_file "$D2"
ls "$C/data/archive" | grep -q tmp && fail "temporary zip left behind"
ys_stop
echo "ok crash"

# --- 401 then refresh ----------------------------------------------------
mkdir -p "$T/auth"
ys_start "$T/auth" --fault drive:5xx:-1e18:1e18:0.35:401
setup auth
day "$D1" 800
ok=0
for i in 1 2 3 4; do
    if archive; then ok=1; break; fi
done
[ $ok = 1 ] || fail "never succeeded with 401s"
one_file "$D1"
ys_stop
n401=$(grep -c ' 401$' "$C/ys/requests.log")
ntok=$(grep -c '^POST /token' "$C/ys/requests.log")
[ "$n401" -gt 0 ] || fail "no 401 seen"
[ "$ntok" -gt 1 ] || fail "token not refreshed after 401"
echo "ok 401 ($n401 x 401, $ntok token requests)"

# --- access tokens are refreshed before they expire (no 401) ------------
mkdir -p "$T/ttl"
ys_start "$T/ttl" --token-ttl 2 --fault drive_upload:slow:-1e18:1e18:1:300
setup ttl
day "$D1" 2400
archive || fail "archive with short-lived tokens"
one_file "$D1"
ys_stop
n401=$(grep -c ' 401$' "$C/ys/requests.log")
ntok=$(grep -c '^POST /token' "$C/ys/requests.log")
[ "$n401" = 0 ] || fail "$n401 requests with an expired token"
[ "$ntok" -ge 2 ] || fail "token not refreshed early ($ntok)"
echo "ok early refresh ($ntok tokens)"

# --- invalid_grant: clear message, one token request, no loop -----------
mkdir -p "$T/grant"
ys_start "$T/grant"
setup grant
printf '{"refresh_token":"1//revoked-token-xyz"}\n' >"$C/secrets/token.json"
day "$D1" 50
day "$D2" 50
archive
rc=$?
[ $rc = 100 ] || fail "invalid_grant exit $rc"
grep -q 'tubewatch drive-auth' "$C/cli.err" || fail "no drive-auth hint"
grep -q 'revoked-token-xyz' "$C/cli.err" && fail "refresh token in the output"
ys_stop
[ "$(grep -c '^POST /token' "$C/ys/requests.log")" = 1 ] ||
    fail "token endpoint asked $(grep -c '^POST /token' "$C/ys/requests.log") times"
[ "$(phase "$D1")" = zipped ] || fail "phase $(phase "$D1")"
echo "ok invalid_grant"

# --- storage quota: permanent, nothing deleted --------------------------
mkdir -p "$T/quota"
ys_start "$T/quota" --fault drive_upload:quota
setup quota "keep_days = 1"
day "$D9" 50
archive
rc=$?
[ $rc = 100 ] || fail "quota exit $rc"
grep -qi 'storage quota' "$C/cli.err" || fail "no quota message"
[ -d "$C/data/comments/$D9" ] || fail "deleted without a verified upload"
[ -z "$(ls "$C/ys/received/drive/")" ] || fail "a file arrived despite quota"
ys_stop
echo "ok quota"

# --- keep_days: only verified and old days are deleted -------------------
mkdir -p "$T/keep"
ys_start "$T/keep"
setup keep "keep_days = 3"
day "$D9" 50
day "$D2" 50
archive || fail "archive keep"
one_file "$D9"
one_file "$D2"
[ -d "$C/data/comments/$D9" ] && fail "old day kept"
[ -d "$C/data/viewers/$D9" ] && fail "old viewers kept"
[ "$(phase "$D9")" = deleted ] || fail "phase $(phase "$D9")"
[ -d "$C/data/comments/$D2" ] || fail "recent day deleted"
[ -f "$C/data/archive/$D9.zip" ] || fail "zip deleted"
archive || fail "rerun keep"
[ "$(ls "$C/ys/received/drive/" | grep -c zip)" = 2 ] || fail "re-uploaded"
ys_stop
echo "ok keep_days"

# --- drive-auth (device code), then uploads with the new token ----------
mkdir -p "$T/device"
ys_start "$T/device" --fault token:429:-1e18:1e18:0.5:0
setup device
rm "$C/secrets/token.json"
day "$D1" 50
archive
[ $? = 100 ] || fail "archive without a token"
grep -q 'drive-auth' "$C/cli.err" || fail "no hint without a token"
"$TW" -c "$C/sup.toml" drive-auth >"$C/auth.out" 2>"$C/cli.err" ||
    fail "drive-auth"
grep -q 'https://www.google.com/device' "$C/auth.out" || fail "no URL shown"
grep -q '[A-Z]\{4\}-[A-Z]\{4\}' "$C/auth.out" || fail "no user code shown"
[ "$(stat -c %a "$C/secrets/token.json")" = 600 ] || fail "token mode"
jq -e '.refresh_token | startswith("1//")' "$C/secrets/token.json" \
    >/dev/null || fail "token file"
grep -q 'ytsim-device' "$C/auth.out" "$C/cli.err" && fail "token printed"
archive || fail "archive with the device token"
one_file "$D1"
ys_stop
n429=$(grep -c '^POST /token.* 429$' "$C/ys/requests.log")
[ "$n429" -gt 0 ] || fail "no slow_down (429) seen"
echo "ok drive-auth ($n429 x 429 while polling)"

# --- service account (JWT bearer, signature checked by ytsim) -----------
if command -v openssl >/dev/null; then
    mkdir -p "$T/sa"
    for k in key other; do
        openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 \
            -out "$T/sa/$k.pem" 2>/dev/null || fail "openssl genpkey"
    done
    openssl pkey -in "$T/sa/key.pem" -pubout -out "$T/sa/pub.pem" ||
        fail "openssl pkey"
    printf '[oauth]\nservice_account = "tw@proj.iam.gserviceaccount.com"\npublic_key = "%s"\n' \
        "$T/sa/pub.pem" >"$T/sa/scenario.toml"
    YS_SCENARIO=$T/sa/scenario.toml ys_start "$T/sa"
    for k in other key; do
        jq -n --rawfile k "$T/sa/$k.pem" '{type: "service_account",
            client_email: "tw@proj.iam.gserviceaccount.com", private_key: $k,
            token_uri: "https://oauth2.googleapis.com/token"}' >"$T/sa/sa.json"
        chmod 600 "$T/sa/sa.json"
        SA=$T/sa/sa.json setup "sa-$k"
        ln -s "$T/sa/ys" "$C/ys"
        day "$D1" 50
        archive
        rc=$?
        if [ $k = other ]; then
            [ $rc = 100 ] || fail "JWT signed with a wrong key: exit $rc"
            grep -q 'service-account assertion' "$C/cli.err" ||
                fail "no service-account message"
        else
            [ $rc = 0 ] || fail "archive as a service account: exit $rc"
        fi
    done
    ys_stop
    one_file "$D1"
    echo "ok service account (signature verified)"
fi

# --- the worker under tubewatchd: killed mid-upload; notices -------------
mkdir -p "$T/worker"
ys_start "$T/worker" --fault drive_upload:slow:-1e18:1e18:1:100
NOTES=$T/worker/notices.tsv
setup worker 'archive_at = "00:00"
restart_delay = "50ms"
env = ["TUBEWATCH_UPLOADER_RETRY_MS=300", "TUBEWATCH_DRIVE_BACKOFF_MS=20"]
[worker.notifier]
command = ["'"$(pwd)/$BUILD/tests/notice-sink"'", "'"$NOTES"'"]'
day "$D1" 2400
"$TWD" -c "$C/sup.toml" >"$C/daemon.log" 2>&1 &
D_PID=$!
wait_for "[ \"\$(phase $D1)\" = session ]" 150 || fail "worker made no session"
sleep 0.3
W=$("$TW" -c "$C/sup.toml" status --json 2>/dev/null |
    jq -r '.workers[]? | select(.name == "uploader") | .pid' 2>/dev/null)
[ -n "$W" ] && [ "$W" != null ] && [ "$W" -gt 0 ] || fail "no uploader pid"
kill -9 "$W"
wait_for "[ \"\$(phase $D1)\" = uploaded ]" 300 || fail "worker never finished"
one_file "$D1"
# a revoked token: a failure notice; a new token: uploads resume, notice
printf '{"refresh_token":"1//revoked"}\n' >"$C/secrets/token.json"
day "$D2" 50
"$TW" -c "$C/sup.toml" restart uploader >/dev/null 2>&1 || fail "restart"
wait_for "grep -q '^upload.failed' '$NOTES' 2>/dev/null" 100 ||
    fail "no upload.failed notice"
grep 'upload.failed' "$NOTES" | grep -q 'drive-auth' || fail "notice text"
printf '{"refresh_token":"1//ytsim-refresh-token"}\n' >"$C/secrets/token.json"
wait_for "[ \"\$(phase $D2)\" = uploaded ]" 150 || fail "no recovery"
wait_for "grep -q '^upload.done' '$NOTES' 2>/dev/null" 50 ||
    fail "no upload.done notice"
one_file "$D2"
[ "$(grep -c '^upload.failed' "$NOTES")" = 1 ] || fail "failure notified twice"
# SIGTERM (tubewatch stop) mid-upload: a clean exit 0 at once, then resume
D3=$(date -u -d '3 days ago' +%F)
day "$D3" 2400
"$TW" -c "$C/sup.toml" restart uploader >/dev/null 2>&1 || fail "restart 2"
wait_for "[ \"\$(phase $D3)\" = session ]" 150 || fail "no session for $D3"
"$TW" -c "$C/sup.toml" stop uploader >/dev/null 2>&1 || fail "stop"
ustate() {
    "$TW" -c "$C/sup.toml" status --json 2>/dev/null |
        jq -r '.workers[]? | select(.name == "uploader") | "\(.state) \(.last_exit)"'
}
wait_for "ustate | grep -q '^stopped exit 0\$'" 30 ||
    fail "uploader did not stop cleanly: $(ustate)"
[ "$(phase "$D3")" = session ] || fail "phase after stop $(phase "$D3")"
"$TW" -c "$C/sup.toml" start uploader >/dev/null 2>&1 || fail "start"
wait_for "[ \"\$(phase $D3)\" = uploaded ]" 150 || fail "no resume after stop"
one_file "$D3"
kill "$D_PID"
wait "$D_PID"
D_PID=""
ys_stop
echo "ok worker (killed pid $W; notices: $(cut -f1 "$NOTES" | tr '\n' ' '))"
if grep -rl 'Sanitizer\|runtime error' "$T"/*/cli.err "$T"/*/logs \
    "$T"/*/auth.out 2>/dev/null; then
    fail "sanitizer report"
fi
exit 0
