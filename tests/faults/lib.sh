# tests/faults/lib.sh - one fault cell of the fault-injection tests (source
# it; tests/faults/run, tests/faults/points, docs/reliability.md).
#
# fault_cell NAME TARGET ENABLE runs tests/fixtures/ytsim/faults.toml (three
# streams at --speed 3) through the whole pipeline under tubewatchd while
# libfiu's failure points ENABLE (FIU_ENABLE commands, one per line) are
# active in TARGET only: a worker (writer, tokenizer, stats, scanner,
# notifier, uploader; "chat" = every chat@ instance) through its section's
# `env` (LD_PRELOAD of libfiu's preload libraries), or "tubewatchd" itself.
#   phase 1: capture. The fault is on until the last stream ended, then it
#     clears: a worker's section loses its env (`tubewatch reload` restarts
#     it clean); tubewatchd gets `fiu-ctrl disable` (or, killed by a crash
#     point, is restarted clean).
#   phase 2: archive. tubewatchd in UTC+14 (the captured day, written in
#     UTC-12, is closed) with the uploader and the notifier; an uploader
#     cell has its fault until the first injected failure, plus 2 s.
# Then the output is compared with ytsim's truth: chat (every message once,
# its final text, every deletion once), viewers and stats (every stored
# sample served by ytsim, none twice, each live stream sampled), Telegram
# ("Live now" and "Stream ended" once per stream, no message twice), Drive
# (the day's zip uploaded once, md5 equal, its files equal to DATA).
# Sets CELL_FAULTS (failures injected), CELL_RESTARTS (exits of TARGET),
# CELL_ITEMS (items compared), CELL_RESULT (ok / FAIL: why) and CELL_DIR.
# Needs BUILD, and TW_FAULTS_SPEED (default 3).
FL_FIU=/usr/lib/fiu
FL_SCN=tests/fixtures/ytsim/faults.toml

fl_missing() {
    m=""
    for b in bin/tubewatchd bin/tubewatch bin/ytsim tests/tw-fiu-shim.so; do
        [ -e "$BUILD/$b" ] || m="$m $BUILD/$b"
    done
    for k in writer tokenizer scanner chat stats notifier uploader; do
        [ -x "$BUILD/libexec/tubewatch/tw-$k" ] || m="$m tw-$k"
    done
    for f in "$FL_FIU/fiu_run_preload.so" "$FL_FIU/fiu_posix_preload.so"; do
        [ -e "$f" ] || m="$m $f"
    done
    for t in jq awk curl unzip md5sum fiu-ctrl; do
        command -v $t >/dev/null 2>&1 || m="$m $t"
    done
    echo "$m"
}

fl_now() { date +%s; }

# fl_cleanup: stops what a cell left running (the scripts trap EXIT with it).
fl_cleanup() {
    [ -n "${FL_DPID:-}" ] && kill -TERM "$FL_DPID" 2>/dev/null && wait "$FL_DPID"
    [ -n "${FL_YPID:-}" ] && kill -TERM "$FL_YPID" 2>/dev/null && wait "$FL_YPID"
    FL_DPID="" FL_YPID=""
}

# fl_wait_for SECONDS COMMAND...: polls COMMAND every 0.2 s; 1 on timeout.
fl_wait_for() {
    fl_dl=$(($(fl_now) + $1))
    shift
    until "$@"; do
        [ "$(fl_now)" -lt "$fl_dl" ] || return 1
        sleep 0.2
    done
}

# fl_env: the `env` line of the faulty section (or of every section when
# the target is tubewatchd: no preload for the workers).
fl_env() {
    printf 'env = ["LD_PRELOAD=%s %s/fiu_run_preload.so %s/fiu_posix_preload.so", "FIU_ENABLE=%s", "FIU_CTRL_FIFO=", "TW_FIU_COUNT_FILE=%s", "TW_FIU_FIRST=%s"]\n' \
        "$FL_SHIM" "$FL_FIU" "$FL_FIU" "$FL_ENABLE_ESC" "$FL_W/fiu.count" "${FL_FIRST:-}"
}
fl_sec_env() { # fl_sec_env KIND FAULTY(0/1)
    if [ "$2" = 1 ] && [ "$FL_TARGET" = "$1" ]; then
        fl_env
    elif [ "$FL_TARGET" = tubewatchd ]; then
        echo 'env = ["LD_PRELOAD=", "FIU_ENABLE="]'
    fi
}

# fl_config FILE TIMEZONE PHASE FAULTY(0/1)
fl_config() {
    cat >"$1" <<EOF
[supervisor]
runtime_dir = "$FL_W/run"
state_dir = "$FL_W/state"
data_dir = "$FL_W/data"
log_dir = "$FL_W/logs"
libexec_dir = "$FL_LIBEXEC"
timezone = "$2"
status_interval = "200ms"
log_max_size = "20MiB"

[defaults]
min_uptime = "300ms"
restart_delay = "50ms"
restart_delay_max = "1s"
max_restarts = 100000
restart_window = "60s"
failed_retry = "1s"
stop_timeout = "5s"
ready_timeout = "5s"
# a worker hung before its first heartbeat (a child of a process under
# libfiu's preload can deadlock between fork and exec) is killed and restarted
watchdog_timeout = "20s"

[youtube]
api_key = "ytsim-api-key"
web_base_url = "$FL_URL"
api_base_url = "$FL_URL/youtube/v3"
quota_per_day = 1000000
http_timeout = "5s"

[telegram]
bot_token_file = "$FL_W/telegram_token"
base_url = "$FL_URL"
chat_ids = [664743441]

[notify]
events = ["live", "ended", "upload"]

[drive]
enabled = true
client_secrets_file = "$FL_W/client_secrets.json"
token_file = "$FL_W/drive-token.json"
folder_name = "tubewatch faults"
oauth_base_url = "$FL_URL"
api_base_url = "$FL_URL"
chunk_size = "256KiB"

[worker.notifier]
$(fl_sec_env notifier "$4")
EOF
    if [ "$3" = 1 ]; then
        cat >>"$1" <<EOF

[worker.writer]
fsync_interval = "0s"
$(fl_sec_env writer "$4")

[worker.tokenizer]
after = ["writer"]
$(fl_sec_env tokenizer "$4")

[worker.scanner]
after = ["tokenizer", "notifier"]
channels_file = "$FL_W/channels.txt"
scan_interval = "1s"
lead_time = "1h"
$(fl_sec_env scanner "$4")

[worker.chat]
restart = "transient"
max_instances = 20
poll_min = "100ms"
poll_max = "1s"
reconcile_replay = true
$(fl_sec_env chat "$4")

[worker.stats]
after = ["writer", "notifier"]
viewers_interval = "1s"
stats_interval = "2s"
$(fl_sec_env stats "$4")
EOF
    else
        cat >>"$1" <<EOF

[worker.uploader]
archive_at = "00:00"
$(fl_sec_env uploader "$4")
EOF
    fi
}

fl_tw() { "$BUILD/bin/tubewatch" -c "$FL_CFG" "$@"; }
fl_status() { fl_tw status --json 2>/dev/null; }
fl_answers() { fl_status >/dev/null; }

# fl_daemon_start FAULTY(0/1): starts tubewatchd (under the preload when
# the target is tubewatchd and FAULTY) and waits for its control socket.
fl_daemon_start() {
    if [ "$1" = 1 ] && [ "$FL_TARGET" = tubewatchd ]; then
        LD_PRELOAD="$FL_SHIM $FL_FIU/fiu_run_preload.so $FL_FIU/fiu_posix_preload.so" \
            FIU_ENABLE="$FL_ENABLE" FIU_CTRL_FIFO="$FL_W/fiu" \
            TW_FIU_COUNT_FILE="$FL_W/fiu.count" TW_FIU_FIRST="${FL_FIRST:-}" \
            "$BUILD/bin/tubewatchd" -c "$FL_CFG" 2>>"$FL_W/daemon.err" &
    else
        "$BUILD/bin/tubewatchd" -c "$FL_CFG" 2>>"$FL_W/daemon.err" &
    fi
    FL_DPID=$!
    fl_wait_for 20 fl_answers_or_gone
    fl_answers
}
fl_answers_or_gone() { fl_answers || ! kill -0 "$FL_DPID" 2>/dev/null; }

# fl_daemon_up FAULTY: fl_daemon_start, and like tubewatchd's systemd unit
# (Restart=on-failure, RestartPreventExitStatus=100) starts it again when
# it died before answering (a failed rename of STATE/epoch exits 111, a
# crash point kills it), up to 10 times, each counted as a restart.
fl_daemon_up() {
    fl_up_n=0
    until fl_daemon_start "$1"; do
        kill -0 "$FL_DPID" 2>/dev/null && return 1 # alive, not answering
        wait "$FL_DPID"
        st=$?
        echo "tubewatchd exit status $st" >>"$FL_W/daemon.exits"
        [ "$st" != 0 ] && [ "$st" != 100 ] && [ "$fl_up_n" -lt 10 ] || return 1
        FL_DRESTARTS=$((FL_DRESTARTS + 1))
        fl_up_n=$((fl_up_n + 1))
    done
}

# fl_daemon_alive: true while tubewatchd runs; when a crash point killed it,
# restarts it (FL_DAEMON_FAULTY says whether with the fault) and counts it.
fl_daemon_alive() {
    kill -0 "$FL_DPID" 2>/dev/null && return 0
    wait "$FL_DPID"
    st=$?
    echo "tubewatchd exit status $st" >>"$FL_W/daemon.exits"
    FL_DRESTARTS=$((FL_DRESTARTS + 1))
    # the workers of the dead one die with it (parent-death signal)
    fl_wait_for 10 fl_no_workers_left
    fl_daemon_up "$FL_DAEMON_FAULTY"
}

fl_no_workers_left() {
    ! pgrep -f "$FL_LIBEXEC/tw-" >/dev/null 2>&1 ||
        [ -z "$(for p in $(pgrep -f "$FL_LIBEXEC/tw-"); do
            tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null |
                grep -x "TUBEWATCH_RUNTIME_DIR=$FL_W/run"; done)" ]
}

fl_daemon_stop() {
    [ -n "$FL_DPID" ] || return 0
    kill -TERM "$FL_DPID" 2>/dev/null
    wait "$FL_DPID"
    FL_DPID=""
}

# fl_sleep_until EPOCH: sleeps until then, keeping tubewatchd alive.
fl_sleep_until() {
    while [ "$(fl_now)" -lt "$1" ]; do
        fl_daemon_alive || return 1
        sleep 0.3
    done
}

fl_chat_done() {
    left=$(fl_status | jq '[.workers[] | select((.name | startswith("chat@")) and
        (.state != "exited" and .state != "stopped"))] | length' 2>/dev/null)
    [ "${left:-1}" = 0 ] &&
        [ "$(awk -F '\t' 'NR > 1 && $4 == "ended"' "$FL_W/ys/truth/streams.tsv" 2>/dev/null | wc -l)" -ge 3 ] &&
        [ -n "$(ls "$FL_W"/logs/chat@*.log 2>/dev/null)" ]
}

fl_uploaded() {
    awk -F '\t' '$2 == "uploaded"' "$FL_W/state/uploader/uploaded.tsv" 2>/dev/null | grep -q .
}

# fl_clear: the fault clears: the sections lose their env (reload), or
# tubewatchd's points are disabled through its control fifo.
fl_clear() {
    fl_config "$FL_CFG" "$1" "$2" 0
    if [ "$FL_TARGET" = tubewatchd ]; then
        FL_DAEMON_FAULTY=0
        echo "$FL_ENABLE" | sed -n 's/^ *enable[a-z_]* name=\([^,]*\).*/\1/p' |
            while read -r n; do
                fiu-ctrl -f "$FL_W/fiu" -c "disable name=$n" "$FL_DPID" 2>/dev/null
            done
    else
        fl_tw reload >/dev/null 2>&1
    fi
}

fault_cell() {
    FL_NAME=$1 FL_TARGET=$2 FL_ENABLE=$3
    FL_ENABLE_ESC=$(printf '%s' "$FL_ENABLE" | awk 'BEGIN { ORS = "\\n" } { print }' | sed 's/\\n$//')
    SPEED=${TW_FAULTS_SPEED:-3}
    FL_W=$(mktemp -d /tmp/tw-faults-XXXXXX)
    CELL_DIR=$FL_W
    FL_SHIM=$(cd "$BUILD/tests" && pwd)/tw-fiu-shim.so
    FL_LIBEXEC=$(cd "$BUILD/libexec/tubewatch" && pwd)
    FL_CFG=$FL_W/sup.toml
    FL_DPID="" FL_DRESTARTS=0 FL_YPID=""
    CELL_FAULTS=0 CELL_RESTARTS=0 CELL_ITEMS=0 CELL_RESULT=""
    : >"$FL_W/fiu.count"
    fl_cell_run
    fl_cleanup
    [ -n "$CELL_RESULT" ] || fl_compare
    CELL_FAULTS=$(wc -l <"$FL_W/fiu.count")
    if [ "$FL_TARGET" = tubewatchd ]; then
        CELL_RESTARTS=$FL_DRESTARTS
    else
        CELL_RESTARTS=$(cat "$FL_W"/logs/"$FL_TARGET"*.log* 2>/dev/null |
            grep -c 'tubewatchd: exited: .*restarting')
    fi
    fl_check_logs
    case $CELL_RESULT in
    ok*) [ "${TW_FAULTS_KEEP:-0}" = 1 ] || rm -rf "$FL_W" ;;
    esac
}

fl_cell_run() {
    "$BUILD/bin/ytsim" --scenario "$FL_SCN" --listen 127.0.0.1:0 \
        --out "$FL_W/ys" --speed "$SPEED" >"$FL_W/ytsim.out" 2>"$FL_W/ytsim.err" &
    FL_YPID=$!
    fl_wait_for 10 test -s "$FL_W/ys/port" ||
        { CELL_RESULT="FAIL: ytsim did not start"; return; }
    FL_URL=http://127.0.0.1:$(cat "$FL_W/ys/port")
    T0=$(fl_now)
    end_sim=$(awk '/^start =/ { s = $3 } /^duration =/ { if (s + $3 > m) m = s + $3 }
                   END { print m }' "$FL_SCN")
    end_real=$(awk -v e="$end_sim" -v s="$SPEED" 'BEGIN { printf "%d", e / s + 1 }')
    umask 077
    printf '123456789:AAEsimulatedTelegramBotTokenForYtsim0\n' >"$FL_W/telegram_token"
    printf '{"installed":{"client_id":"ytsim-client.apps.googleusercontent.com",\n "client_secret":"ytsim-client-secret","token_uri":"%s/token"}}\n' \
        "$FL_URL" >"$FL_W/client_secrets.json"
    printf '{"refresh_token":"1//ytsim-refresh-token"}\n' >"$FL_W/drive-token.json"
    umask 022
    grep '^id = "UC' "$FL_SCN" | sed 's/^id = "\(.*\)"/\1/' >"$FL_W/channels.txt"

    # phase 1: capture, the fault on until the last stream ended
    fl_config "$FL_CFG" Etc/GMT+12 1 1
    "$BUILD/bin/tubewatch" check-config "$FL_CFG" >"$FL_W/check.out" 2>&1 ||
        { CELL_RESULT="FAIL: config refused: $(head -1 "$FL_W/check.out")"; return; }
    FL_DAEMON_FAULTY=1
    fl_daemon_up 1 || { CELL_RESULT="FAIL: tubewatchd does not answer"; return; }
    fl_sleep_until $((T0 + end_real)) ||
        { CELL_RESULT="FAIL: tubewatchd does not come back"; return; }
    fl_clear Etc/GMT+12 1
    fl_wait_for 120 fl_chat_done_alive ||
        { CELL_RESULT="FAIL: chat instances still running 120 s after the fault cleared"; return; }
    fl_wait_for 60 fl_files_stable || true
    fl_daemon_stop

    # phase 2: archive and upload the day
    FL_CFG=$FL_W/archive.toml
    fl_config "$FL_CFG" Etc/GMT-14 2 1
    FL_DAEMON_FAULTY=1
    fl_daemon_up 1 || { CELL_RESULT="FAIL: tubewatchd (archive) does not answer"; return; }
    if [ "$FL_TARGET" = uploader ]; then
        fl_wait_for 30 fl_injected || true
        sleep 1
        fl_clear Etc/GMT-14 2
    fi
    fl_wait_for 90 fl_uploaded_alive ||
        { CELL_RESULT="FAIL: the day was not uploaded within 90 s"; return; }
    # the notifier sends what the uploader told it
    sleep 1
    fl_daemon_stop
}

# fl_injected: a failure was injected; with FL_WANT (crash points), each
# of them fired.
fl_injected() {
    [ -s "$FL_W/fiu.count" ] || return 1
    for x in ${FL_WANT:-}; do
        grep -q " tw/crash/$x\$" "$FL_W/fiu.count" || return 1
    done
}
fl_chat_done_alive() { fl_daemon_alive && fl_chat_done; }
fl_uploaded_alive() { fl_daemon_alive && fl_uploaded; }

FL_PREV=-1
fl_files_stable() {
    cur=$(find "$FL_W/data" -name '*.tsv' -exec cat {} + 2>/dev/null | wc -l)
    [ "$cur" = "$FL_PREV" ] && return 0
    FL_PREV=$cur
    sleep 1
    return 1
}

# fl_check_logs: no sanitizer report, no crash (a signal other than the
# SIGKILL of a crash point), a log line naming the failing call.
fl_check_logs() {
    case $CELL_RESULT in FAIL*) return ;; esac
    san=$(grep -l -E 'Sanitizer|runtime error' "$FL_W"/logs/* "$FL_W/daemon.err" 2>/dev/null | head -3)
    [ -z "$san" ] || { CELL_RESULT="FAIL: sanitizer report in $san"; return; }
    crash=$(grep -h -E 'tubewatchd: exited: .*signal (4|6|7|8|11)\b' "$FL_W"/logs/*.log* 2>/dev/null | head -1)
    [ -z "$crash" ] || { CELL_RESULT="FAIL: crash: $crash"; return; }
    # 137: a crash point's SIGKILL; 111: a temporary failure at start (a
    # state file it could not write), which its unit restarts
    if [ -s "$FL_W/daemon.exits" ] && grep -v -E 'status (137|111)$' "$FL_W/daemon.exits" | grep -q .; then
        CELL_RESULT="FAIL: tubewatchd died: $(head -1 "$FL_W/daemon.exits")"
        return
    fi
    [ -z "${FL_CALL:-}" ] && return
    [ "$CELL_FAULTS" -gt 0 ] || return
    if [ "$FL_TARGET" = tubewatchd ]; then logs="$FL_W/daemon.err"; else logs=$(ls "$FL_W"/logs/"$FL_TARGET"*.log*); fi
    # shellcheck disable=SC2086
    grep -h -E "unable to .*($FL_CALL)" $logs >/dev/null 2>&1 ||
        CELL_RESULT="FAIL: $CELL_FAULTS failures injected, no log line names $FL_CALL"
}

# fl_compare: the output against ytsim's truth.
fl_compare() {
    bad=0 items=0
    D=$FL_W/data
    : >"$FL_W/problems"
    # chat
    for t in "$FL_W"/ys/truth/chat/*.tsv; do
        case $t in *.deleted.tsv) continue ;; esac
        v=$(basename "$t" .tsv)
        awk -F '\t' '{ print $1 "\t" $7 }' "$t" | sort >"$FL_W/want"
        find "$D/comments" -name "$v.tsv" 2>/dev/null | sort | xargs -r cat |
            awk -F '\t' -v dupf="$FL_W/dups" '
                $1 == "received_at" || $6 == "deleted" { next }
                { k = $5 SUBSEP $6 SUBSEP $7 SUBSEP $8 SUBSEP $9 SUBSEP $10
                  if (k in seen) print $5 >dupf
                  seen[k] = 1; last[$5] = $10 }
                END { for (id in last) print id "\t" last[id] }' | sort >"$FL_W/got"
        items=$((items + $(wc -l <"$FL_W/want")))
        if [ -s "$FL_W/dups" ]; then
            echo "$v: chat stored twice: $(head -3 "$FL_W/dups" | tr '\n' ' ')" >>"$FL_W/problems"
            rm -f "$FL_W/dups"
        fi
        cmp -s "$FL_W/want" "$FL_W/got" ||
            echo "$v: chat: $(wc -l <"$FL_W/want") in truth, $(wc -l <"$FL_W/got") stored" >>"$FL_W/problems"
        awk -F '\t' '$2 == "delete" { print $3 }' "${t%.tsv}.deleted.tsv" 2>/dev/null |
            sort -u >"$FL_W/del-want"
        find "$D/comments" -name "$v.tsv" -exec cat {} + 2>/dev/null |
            awk -F '\t' '$6 == "deleted" { print $5 }' | sort >"$FL_W/del-got"
        items=$((items + $(wc -l <"$FL_W/del-want")))
        [ -z "$(uniq -d "$FL_W/del-got")" ] || echo "$v: deletion stored twice" >>"$FL_W/problems"
        [ -z "$(comm -23 "$FL_W/del-want" "$FL_W/del-got")" ] || echo "$v: deletion missing" >>"$FL_W/problems"
    done
    nchat=$(ls "$FL_W"/ys/truth/chat/*.tsv 2>/dev/null | grep -vc deleted)
    [ "$nchat" -ge 3 ] || echo "only $nchat streams had chat" >>"$FL_W/problems"
    # viewers and stats: every stored sample was served (truth/stats.tsv:
    # served_at source channel video viewers views likes favorites
    # comments), none stored twice, each live stream sampled
    find "$D/viewers" -name '*.tsv' -exec awk -F '\t' 'FNR > 1 { print "v\t" $3 "\t" $4 "\t" $5 "\t" $6 "\t" $7 "\t" $1 }' {} + \
        >"$FL_W/samples" 2>/dev/null
    find "$D/stats" -name '*.tsv' -exec awk -F '\t' 'FNR > 1 { print "s\t" $3 "\t-\t" $5 "\t" $6 "\t" $8 "\t" $1 }' {} + \
        >>"$FL_W/samples" 2>/dev/null
    items=$((items + $(wc -l <"$FL_W/samples")))
    [ -z "$(cut -f1,2,7 "$FL_W/samples" | sort | uniq -d | head -1)" ] ||
        echo "a sample stored twice: $(cut -f1,2,7 "$FL_W/samples" | sort | uniq -d | head -1)" >>"$FL_W/problems"
    awk -F '\t' 'NR == FNR { k = ++nr[$4]; vw[$4, k] = $5; vs[$4, k] = $6;
                  lk[$4, k] = $7; cm[$4, k] = $9; next }
        {
            ok = 0
            for (k = 1; k <= nr[$2] && !ok; k++)
                ok = ($3 == "-" || $3 == "" || $3 == vw[$2, k]) &&
                     ($4 == "" || $4 == vs[$2, k]) &&
                     ($5 == "" || $5 == lk[$2, k]) && ($6 == "" || $6 == cm[$2, k])
            if (!ok) { print "sample not served by ytsim: " $0; bad = 1 }
        }' "$FL_W/ys/truth/stats.tsv" "$FL_W/samples" | head -3 >>"$FL_W/problems"
    for v in $(awk -F '\t' 'NR > 1 && $4 == "ended" { print $1 }' "$FL_W/ys/truth/streams.tsv"); do
        n=$(awk -F '\t' -v v="$v" '$1 == "v" && $2 == v' "$FL_W/samples" | wc -l)
        [ "$n" -ge 2 ] || echo "$v: $n viewers samples" >>"$FL_W/problems"
    done
    # Telegram: live and ended once per stream, no message twice
    tg=$FL_W/ys/received/telegram.jsonl
    for title in $(awk -F '\t' 'NR > 1 && $4 == "ended" { print $3 }' "$FL_W/ys/truth/streams.tsv" | tr ' ' '_'); do
        t=$(echo "$title" | tr '_' ' ')
        for what in "Live now" "Stream ended"; do
            n=$(jq -r --arg t "$t" --arg w "$what" 'select((.text | contains($t)) and (.text | contains($w))) | "x"' "$tg" 2>/dev/null | wc -l)
            items=$((items + 1))
            [ "$n" = 1 ] || echo "Telegram: \"$what\" for \"$t\" sent $n times" >>"$FL_W/problems"
        done
    done
    d=$(jq -c '[.chat_id, .text]' "$tg" 2>/dev/null | sort | uniq -d | head -1)
    [ -z "$d" ] || echo "Telegram: sent twice: $d" >>"$FL_W/problems"
    # Drive: each day's zip uploaded once, equal to the local zip and DATA
    nz=0
    for z in "$D"/archive/*.zip; do
        [ -f "$z" ] || continue
        nz=$((nz + 1))
        name=$(basename "$z")
        ups=$(jq -r --arg n "$name" 'select(.name == $n) | .md5Checksum' "$FL_W"/ys/received/drive/*.json 2>/dev/null)
        nup=$(echo "$ups" | grep -c .)
        items=$((items + 1))
        [ "$nup" = 1 ] || { echo "Drive: $name uploaded $nup times" >>"$FL_W/problems"; continue; }
        [ "$ups" = "$(md5sum <"$z" | cut -d' ' -f1)" ] ||
            echo "Drive: $name md5 differs" >>"$FL_W/problems"
        rm -rf "$FL_W/unz" && mkdir "$FL_W/unz" && (cd "$FL_W/unz" && unzip -q "$z")
        for f in $(cd "$FL_W/unz" && find comments viewers stats -type f 2>/dev/null); do
            items=$((items + 1))
            cmp -s "$FL_W/unz/$f" "$D/$f" || echo "Drive: $name: $f differs from DATA" >>"$FL_W/problems"
        done
        n1=$(cd "$FL_W/unz" && find comments viewers stats -type f 2>/dev/null | wc -l)
        n2=$(cd "$D" && find comments viewers stats -type f -path "*/${name%.zip}/*" 2>/dev/null | wc -l)
        [ "$n1" = "$n2" ] || echo "Drive: $name holds $n1 files, DATA $n2" >>"$FL_W/problems"
    done
    [ "$nz" -ge 1 ] || echo "Drive: no zip" >>"$FL_W/problems"
    CELL_ITEMS=$items
    if [ -s "$FL_W/problems" ]; then
        CELL_RESULT="FAIL: $(head -1 "$FL_W/problems") ($(wc -l <"$FL_W/problems") problems)"
    else
        CELL_RESULT=ok
    fi
}
