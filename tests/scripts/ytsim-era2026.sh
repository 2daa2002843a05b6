#!/bin/sh
# ytsim-era2026: YouTube as ytsim serves it in era 2026 (the default): the
# relative chat-view tokens of the watch page and their 400, the full token
# of liveChatRenderer.continuations[0] in the real layout, the /live_chat
# page header with full Top/Live tokens, Top chat losing items against the
# truth, remove/replace/Jewels actions and their truth rows, replay offset
# drag, /streams as lockups or videoRenderers, members-only UNPLAYABLE,
# /@handle/live, the RSS feed outage and the consent interstitial; and the
# same scenario with --era 2022 keeps the old shapes.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/fixtures/ytsim/lib.sh
trap ytsim_cleanup EXIT
T=$YS_TMP
need_shared
JQ=$SHARED/fixtures/innertube/expected_chat.jq
SCN=$FIX/era2026.toml
CC='.continuationContents.liveChatContinuation'
MENU='.header.liveChatHeaderRenderer.viewSelector.sortFilterSubMenuRenderer.subMenuItems'
WMENU=".contents.twoColumnWatchNextResults.conversationBar.liveChatRenderer$MENU"
REL_LIVE=0ofMyAMSGgAwAYIBCAgBGAAgACgBqAEB
REL_TOP=0ofMyAMSGgAwAYIBCAgEGAAgACgBqAEB
BAD='{"error":{"code":400,"message":"Request contains an invalid argument.","errors":[{"message":"Request contains an invalid argument.","domain":"global","reason":"badRequest"}],"status":"INVALID_ARGUMENT"}}'
LIVE=era26live01
PAST=era26past01
body() { printf '{"context":{"client":{"clientName":"WEB"}},"continuation":"%s"%s}' "$1" "${2:-}"; }
b64d() { # base64url text (padding as %3D or =) on stdin -> bytes
    sed 's/%3D//g; s/=//g' | tr -- '-_' '+/' |
        awk '{ n = length($0) % 4; s = $0; while (n && n++ < 4) s = s "="; print s }' |
        base64 -d 2>/dev/null
}
hex() { od -An -tx1 | tr -d ' \n'; }
# tok_video TOKEN: the video id at field 3 -> 1 -> 5 -> 2 (the inner
# base64 text of field 3 decoded; the id follows the bytes 12 0b)
tok_inner() { # the bytes of field 3 (base64url text) of the outer message
    h=$(printf %s "$1" | b64d | hex)
    h=${h#??????????}                        # outer tag (5 bytes)
    case $h in [89a-f]?*) h=${h#????} ;; *) h=${h#??} ;; esac # length
    case $h in 1a*) ;; *) return ;; esac
    h=${h#1a}
    n=$(printf %d "0x$(printf %s "$h" | cut -c1-2)")
    printf %s "$h" | cut -c3-$((2 + 2 * n)) | xxd -r -p | b64d
}
tok_video() {
    tok_inner "$1" | hex | sed -n 's/.*120b\(.\{22\}\).*/\1/p' | xxd -r -p
}
# tok_type TOKEN: the chat type (field 16 -> 1 live, 14 -> 1 replay)
tok_type() {
    h=$(printf %s "$1" | b64d | hex)
    case $h in
    d287ccc803*) printf %s "$h" | sed -n 's/.*8201080\(8\)0\([0-9a-f]\).*/\2/p' ;;
    a29db0d304*) printf %s "$h" | sed -n 's/.*720208\(0[0-9a-f]\).*/\1/p' | sed 's/^0//' ;;
    esac
}
post_code() { # PATH BODY -> status, body in $T/post.json
    curl -s -o "$T/post.json" -w '%{http_code}' -X POST \
        -H 'Content-Type: application/json' -d "$2" "$YS_URL/youtubei/v1/$1"
}

# 1. watch page: relative menu tokens, full Top-chat token in continuations[0]
ytsim_start --scenario "$SCN" --time 60 --speed 0
curl -s "$YS_URL/watch?v=$LIVE" >"$T/w.html"
page_json ytInitialData "$T/w.html" >"$T/w.json"
[ "$(jq -r "[$WMENU[].continuation.reloadContinuationData.continuation] | join(\" \")" "$T/w.json")" = "$REL_TOP $REL_LIVE" ] ||
    fail "watch page menu tokens are not the relative ones"
[ "$(jq -r "[$WMENU[].title] | join(\"|\")" "$T/w.json")" = "Top Chat|Livechat" ] ||
    fail "menu titles not localized (hl = de)"
FULL=$(jq -r '.contents.twoColumnWatchNextResults.conversationBar.liveChatRenderer.continuations[0].reloadContinuationData.continuation' "$T/w.json")
[ "$(tok_video "$FULL")" = "$LIVE" ] || fail "full token names $(tok_video "$FULL")"
[ "$(tok_type "$FULL")" = 4 ] || fail "full token chat type $(tok_type "$FULL"), want 4"
tok_inner "$FULL" | LC_ALL=C grep -aq UCera2026lockupAAAAAAAAA ||
    fail "full token does not name the channel"

# 2. relative tokens (and tokens of unknown videos) -> the real 400 body
for tok in "$REL_LIVE" "$REL_TOP"; do
    for ep in get_live_chat get_live_chat_replay; do
        code=$(post_code "live_chat/$ep" "$(body "$tok")")
        [ "$code" = 400 ] && [ "$(cat "$T/post.json")" = "$BAD" ] ||
            fail "$ep with a relative token: $code $(cat "$T/post.json")"
    done
done
REAL=$(grep -o '"liveChatRenderer":{"continuations":\[{"reloadContinuationData":{"continuation":"[^"]*"' \
    "$SHARED/fixtures/youtube-2026/pages/AkiRosenthal.live.2026-02-17.html" | head -n1 | sed 's/.*"continuation":"//; s/"$//')
[ -n "$REAL" ] || fail "no full token in the real page"
[ "$(tok_video "$REAL")" = qS50yDHZOx4 ] || fail "decoder misreads the real token"
[ "$(tok_type "$REAL")" = 4 ] || fail "decoder misreads the real chat type"
code=$(post_code live_chat/get_live_chat "$(body "$REAL")")
[ "$code" = 400 ] && [ "$(cat "$T/post.json")" = "$BAD" ] ||
    fail "a token of another video answered $code"

# 3. /live_chat?continuation=FULL: 2025+ page, header with full tokens
curl -s "$YS_URL/live_chat?continuation=$FULL" >"$T/lc.html"
page_json ytInitialData "$T/lc.html" >"$T/lc.json"
jq -e "$CC | (.continuations[0].timedContinuationData.continuation | length > 100) and (.actions | length > 50) and ($MENU | map(.title) == [\"Top Chat\", \"Livechat\"]) and ($MENU | map(.selected) == [true, false])" \
    "$T/lc.json" >/dev/null || fail "live_chat page shape"
jq -e '.contents == null' "$T/lc.json" >/dev/null || fail "live_chat page still has contents"
TOP=$(jq -r "$CC$MENU[0].continuation.reloadContinuationData.continuation" "$T/lc.json")
LTOK=$(jq -r "$CC$MENU[1].continuation.reloadContinuationData.continuation" "$T/lc.json")
[ "$(tok_type "$TOP")" = 4 ] && [ "$(tok_type "$LTOK")" = 1 ] ||
    fail "header token types $(tok_type "$TOP") $(tok_type "$LTOK")"
[ "$(tok_video "$TOP")" = "$LIVE" ] && [ "$(tok_video "$LTOK")" = "$LIVE" ] ||
    fail "header tokens do not name the video"
# the first get_live_chat answer carries the header too, a follow-up not
innertube live_chat/get_live_chat "$(body "$LTOK")" >"$T/l1.json"
jq -e "$CC | ($MENU | length == 2) and (.continuations[0].invalidationContinuationData.continuation | length > 100)" \
    "$T/l1.json" >/dev/null || fail "first get_live_chat answer lacks the header"
NEXT=$(jq -r "$CC.continuations[0].invalidationContinuationData.continuation" "$T/l1.json")
[ "$(tok_video "$NEXT")" = "$LIVE" ] && [ "$(tok_type "$NEXT")" = 1 ] ||
    fail "follow-up token"
innertube live_chat/get_live_chat "$(body "$NEXT")" >"$T/l2.json"
jq -e "$CC | .header == null and .continuations[0]" "$T/l2.json" >/dev/null ||
    fail "follow-up answer has a header"

# 4. the chat mix of 2026
A="$CC.actions"
jq -e "[$A[] | keys[0]] | (index(\"removeChatItemAction\") and index(\"removeChatItemByAuthorAction\") and index(\"replaceChatItemAction\")) and (index(\"markChatItemAsDeletedAction\") | not) and (index(\"markChatItemsByAuthorAsDeletedAction\") | not)" \
    "$T/l1.json" >/dev/null || fail "remove/replace actions missing"
jq -e "[$A[].addChatItemAction.item.giftMessageViewModel // empty] | length > 3 and all(.id and (.text.content | test(\"Jewels\$\")) and (.authorName.content | test(\"^@.* \$\")))" \
    "$T/l1.json" >/dev/null || fail "giftMessageViewModel"
# each replacement: a placeholder with the same id came before it
jq -e "[$A[] | (.addChatItemAction.item.liveChatPlaceholderItemRenderer.id // empty), (.replaceChatItemAction | select(.) | select(.replacementItem.liveChatTextMessageRenderer.id == .targetItemId) | \"R\" + .targetItemId)] as \$s | [\$s[] | select(startswith(\"R\")) | .[1:]] as \$r | (\$r | length > 0) and all(\$r[]; . as \$id | \$s | index(\$id) < index(\"R\" + \$id))" \
    "$T/l1.json" >/dev/null || fail "replacement without a placeholder before it"
# Top chat hides some messages, but the truth has every one
innertube live_chat/get_live_chat "$(body "$TOP")" >"$T/top.json"
NL=$(jq -r -f "$JQ" "$T/l1.json" | wc -l)
NT=$(jq -r -f "$JQ" "$T/top.json" | wc -l)
[ "$NT" -lt "$NL" ] || fail "top chat has $NT of $NL rows"
# members-only: UNPLAYABLE with the offer, isLive, no chat
curl -s "$YS_URL/watch?v=era26memb01" >"$T/m.html"
page_json ytInitialPlayerResponse "$T/m.html" | jq -e '.playabilityStatus.status == "UNPLAYABLE" and .playabilityStatus.errorScreen.playerLegacyDesktopYpcOfferRenderer.offerId and (.playabilityStatus.reason | test("Kanalmitglied")) and .videoDetails.isLive == true' \
    >/dev/null || fail "members-only player response"
page_json ytInitialData "$T/m.html" | jq -e '[.. | objects | select(has("liveChatRenderer"))] | length == 0' \
    >/dev/null || fail "members-only page has a liveChatRenderer"
# /@handle/live is the watch page of the live stream
curl -s "$YS_URL/@videoch/live" | grep -q '<link rel="canonical" href="https://www.youtube.com/watch?v=era26vlive1">' ||
    fail "/@videoch/live"
# /streams: lockups (German) for one channel, videoRenderers for the other
curl -s "$YS_URL/@lockupch/streams" >"$T/s.html"
page_json ytInitialData "$T/s.html" >"$T/s.json"
LK='[.. | objects | select(has("lockupViewModel")) | .lockupViewModel | {id: .contentId, badge: .contentImage.thumbnailViewModel.overlays[0].thumbnailBottomOverlayViewModel.badges[0].thumbnailBadgeViewModel.text, meta: [.metadata.lockupMetadataViewModel.metadata.contentMetadataViewModel.metadataRows[].metadataParts[].text.content]}]'
jq -e "$LK | (map(select(.id == \"era26upco01\" and .badge == \"Anstehend\" and (.meta[1] | test(\"^Geplant für: [0-9]{2}[.][0-9]{2}[.][0-9]{2}, [0-9]{2}:[0-9]{2}\$\")))) | length == 1) and (map(select(.id == \"$LIVE\" and .badge == \"LIVE\")) | length == 1) and (map(select(.id == \"$PAST\" and .badge == \"10:00\")) | length == 1)" \
    "$T/s.json" >/dev/null || fail "lockup /streams: $(jq -c "$LK" "$T/s.json")"
curl -s "$YS_URL/@videoch/streams" >"$T/v.html"
page_json ytInitialData "$T/v.html" | jq -e '([.. | objects | select(has("videoRenderer"))] | length == 2) and ([.. | objects | select(has("lockupViewModel"))] | length == 0)' \
    >/dev/null || fail "videoRenderer /streams"

# 5. replay: header on the first answer; playerOffsetMs drags a follow-up
curl -s "$YS_URL/watch?v=$PAST" >"$T/p.html"
RT=$(page_json ytInitialData "$T/p.html" | jq -r '.contents.twoColumnWatchNextResults.conversationBar.liveChatRenderer.continuations[0].reloadContinuationData.continuation')
[ "$(tok_video "$RT")" = "$PAST" ] || fail "replay token video"
OFF=',"currentPlayerState":{"playerOffsetMs":"0"}'
innertube live_chat/get_live_chat_replay "$(body "$RT" "$OFF")" >"$T/r1.json"
jq -e "$CC | ($MENU | length == 2) and (.actions | length > 50)" "$T/r1.json" \
    >/dev/null || fail "first replay answer"
first_id() { jq -r "[$CC.actions[].replayChatItemAction.actions[0] | (.addChatItemAction.item // .replaceChatItemAction.replacementItem) | to_entries[0].value.id][0]" "$1"; }
RN=$(jq -r "$CC.continuations[0].liveChatReplayContinuationData.continuation" "$T/r1.json")
innertube live_chat/get_live_chat_replay "$(body "$RN")" >"$T/r2.json"
innertube live_chat/get_live_chat_replay "$(body "$RN" "$OFF")" >"$T/r3.json"
[ "$(first_id "$T/r2.json")" != "$(first_id "$T/r1.json")" ] || fail "replay does not progress"
[ "$(first_id "$T/r3.json")" = "$(first_id "$T/r1.json")" ] ||
    fail "playerOffsetMs on a follow-up did not drag the replay back"
jq -e "$CC.header == null" "$T/r2.json" >/dev/null || fail "follow-up replay answer has a header"
ytsim_stop

# truth: final content, once per id (a replaced placeholder is its message)
last_per_id() { awk -F '\t' '{ r[$1] = $0 } END { for (k in r) print r[k] }'; }
jq -r -f "$JQ" "$T/lc.json" "$T/l1.json" "$T/l2.json" "$T/top.json" | last_per_id | sort >"$T/served"
sort "$YS_OUT/truth/chat/$LIVE.tsv" >"$T/truth"
[ "$(cut -f1 "$T/truth" | sort | uniq -d | wc -l)" = 0 ] || fail "truth repeats an id"
cmp -s "$T/truth" "$T/served" || {
    diff "$T/truth" "$T/served" | head -5 >&2
    fail "truth differs from the final served rows"
}
awk -F '\t' '$2 == "jewels" && $3 == "" && $5 == "" && $4 ~ /^@[^ ]+$/ && $7 ~ /Jewels$/' "$T/truth" | grep -q . ||
    fail "no jewels rows in the truth"
jq -r "$CC.actions[].replaceChatItemAction // empty | .targetItemId" "$T/l1.json" | head -n1 >"$T/rid"
awk -F '\t' -v id="$(cat "$T/rid")" '$1 == id && $2 == "text" && $7 != ""' "$T/truth" | grep -q . ||
    fail "replaced placeholder not in the truth with its message"
awk -F '\t' '$2 == "delete"' "$YS_OUT/truth/chat/$LIVE.deleted.tsv" | grep -q . &&
    awk -F '\t' '$2 == "ban"' "$YS_OUT/truth/chat/$LIVE.deleted.tsv" | grep -q . ||
    fail "remove actions not in the deleted truth"
jq -r -f "$JQ" "$T/top.json" | cut -f1 | sort -u >"$T/top-ids"
cut -f1 "$T/truth" | sort -u | comm -23 - "$T/top-ids" >"$T/only-live"
[ -s "$T/only-live" ] || fail "top chat lost nothing against the truth"

# 6. the RSS feed outage: per channel, then for all, with its status
feed() { curl -s -o /dev/null -w '%{http_code}' "$YS_URL/feeds/videos.xml?channel_id=$1"; }
for t in 50:200:200 150:404:200 350:500:500; do
    ytsim_start --scenario "$SCN" --time "${t%%:*}" --speed 0
    a=$(feed UCera2026lockupAAAAAAAAA) b=$(feed UCera2026videoAAAAAAAAAA)
    want=${t#*:}
    [ "$a:$b" = "$want" ] || fail "feeds at ${t%%:*}: $a:$b, want $want"
    ytsim_stop
done

# 7. consent: pages need the SOCS cookie
sed 's/^consent = false/consent = true/' "$SCN" >"$T/consent.toml"
ytsim_start --scenario "$T/consent.toml" --time 60 --speed 0
curl -s "$YS_URL/watch?v=$LIVE" >"$T/c.html"
grep -q 'action="https://consent.youtube.com/save"' "$T/c.html" &&
    ! grep -q 'ytInitialData\|ytInitialPlayerResponse' "$T/c.html" ||
    fail "no consent interstitial without SOCS"
curl -s -H 'Cookie: PREF=hl=en; SOCS=CAI' "$YS_URL/watch?v=$LIVE" | grep -q 'var ytInitialData' ||
    fail "SOCS cookie did not pass the consent"
[ "$(feed UCera2026videoAAAAAAAAAA)" = 200 ] || fail "consent in front of the feed"
ytsim_stop

# 8. the same scenario as of 2022
ytsim_start --scenario "$SCN" --era 2022 --time 60 --speed 0
curl -s "$YS_URL/watch?v=$LIVE" >"$T/w22.html"
TOK=$(page_json ytInitialData "$T/w22.html" | jq -r "$WMENU[1].continuation.reloadContinuationData.continuation")
[ "$TOK" != "$REL_LIVE" ] || fail "era 2022 serves the relative token"
innertube live_chat/get_live_chat "$(body "$TOK")" >"$T/l22.json"
jq -e "[$A[] | keys[0]] | index(\"markChatItemAsDeletedAction\") and (index(\"removeChatItemAction\") | not)" \
    "$T/l22.json" >/dev/null || fail "era 2022 deletions"
jq -e "[.. | objects | select(has(\"giftMessageViewModel\"))] | length == 0" "$T/l22.json" \
    >/dev/null || fail "era 2022 serves Jewels"
page_json ytInitialPlayerResponse "$(curl -s "$YS_URL/watch?v=era26memb01" >"$T/m22.html"; echo "$T/m22.html")" |
    jq -e '.playabilityStatus.status == "LOGIN_REQUIRED"' >/dev/null || fail "era 2022 members-only"
curl -s "$YS_URL/@lockupch/streams" | grep -q lockupViewModel && fail "era 2022 serves lockups"
ytsim_stop
echo "ytsim-era2026: ok"
