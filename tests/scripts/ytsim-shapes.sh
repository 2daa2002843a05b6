#!/bin/sh
# ytsim-shapes: for each kind of real capture in $TW_SHARED/fixtures, ytsim's
# answer of the same kind carries every key path the parsers read, with the
# same JSON type.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/fixtures/ytsim/lib.sh
trap ytsim_cleanup EXIT
need_shared
F=$SHARED/fixtures
T=$YS_TMP
bad=0
check() {
    shape_check "$@" || bad=1
}

ytsim_start --scenario builtin --era 2022 --time 150 --speed 0 --epoch 1767225600
LIVE=$(stream_id 'unscheduled')
ENDED=$(stream_id 'Yesterday')
UPC=$(stream_id 'Upcoming')
CHAN=$(awk -F '\t' 'NR == 2 { print $2 }' "$YS_OUT/truth/streams.tsv")
[ -n "$LIVE" ] && [ -n "$ENDED" ] && [ -n "$UPC" ] || fail "streams.tsv"

# --- watch pages ------------------------------------------------------
for v in "$LIVE" "$ENDED" "$UPC"; do
    curl -s "$YS_URL/watch?v=$v" >"$T/watch-$v.html"
    page_json ytInitialPlayerResponse "$T/watch-$v.html" >"$T/pr-$v.json"
    page_json ytInitialData "$T/watch-$v.html" >"$T/id-$v.json"
    jq -e . "$T/pr-$v.json" >/dev/null || fail "player response of $v"
    jq -e . "$T/id-$v.json" >/dev/null || fail "initial data of $v"
done
grep -q "<link rel=\"canonical\" href=\"https://www.youtube.com/watch?v=$LIVE\">" \
    "$T/watch-$LIVE.html" || fail "canonical link"
for p in masterchat_watch_upcoming youtubechat_watch_replay; do
    page_json ytInitialPlayerResponse "$F/innertube/pages/$p.html" >"$T/real-pr-$p.json"
    page_json ytInitialData "$F/innertube/pages/$p.html" >"$T/real-id-$p.json"
done
PR='^(playabilityStatus\.(status|liveStreamability\.liveStreamabilityRenderer\.(videoId|offlineSlate\.liveStreamOfflineSlateRenderer\.scheduledStartTime))|videoDetails\.(videoId|title|lengthSeconds|channelId|isUpcoming|isLiveContent|viewCount|author|isLive)|microformat\.playerMicroformatRenderer\.(liveBroadcastDetails\.(isLiveNow|startTimestamp|endTimestamp)|externalChannelId|publishDate|uploadDate))$'
ID='^contents\.twoColumnWatchNextResults\.(conversationBar\.liveChatRenderer\.(continuations\.\[\]\.reloadContinuationData\.continuation|isReplay|header\.liveChatHeaderRenderer\.viewSelector\.sortFilterSubMenuRenderer\.subMenuItems\.\[\]\.(title|selected|continuation\.reloadContinuationData\.continuation))|results\.results\.contents\.\[\]\.videoPrimaryInfoRenderer\.(title\.runs\.\[\]\.text|viewCount\.videoViewCountRenderer\.(viewCount\.(runs\.\[\]\.text|simpleText)|isLive)))$'
check "$PR" "$T/real-pr-masterchat_watch_upcoming.json" "$T/pr-$UPC.json"
check "$PR" "$T/real-pr-youtubechat_watch_replay.json" "$T/pr-$ENDED.json"
check "$ID" "$T/real-id-masterchat_watch_upcoming.json" "$T/id-$UPC.json"
check "$ID" "$T/real-id-youtubechat_watch_replay.json" "$T/id-$ENDED.json"
jq -e '.playabilityStatus.status == "LIVE_STREAM_OFFLINE" and .videoDetails.isUpcoming' \
    "$T/pr-$UPC.json" >/dev/null || fail "upcoming player response"
jq -e '.contents.twoColumnWatchNextResults.conversationBar.liveChatRenderer.header.liveChatHeaderRenderer.viewSelector.sortFilterSubMenuRenderer.subMenuItems | map(.title) == ["Top chat", "Live chat"]' \
    "$T/id-$LIVE.json" >/dev/null || fail "sub menu items"

jq -e --arg u "$UPC" '[.. | objects | select(.videoId? == $u) | .upcomingEventData.startTime | strings] | length == 1' \
    "$T/id-$ENDED.json" >/dev/null || fail "no upcomingEventData for $UPC in the sidebar"

# --- live chat (get_live_chat) ------------------------------------------
items='.contents.twoColumnWatchNextResults.conversationBar.liveChatRenderer.header.liveChatHeaderRenderer.viewSelector.sortFilterSubMenuRenderer.subMenuItems'
LTOK=$(jq -r "$items[1].continuation.reloadContinuationData.continuation" "$T/id-$LIVE.json")
TTOK=$(jq -r "$items[0].continuation.reloadContinuationData.continuation" "$T/id-$LIVE.json")
innertube live_chat/get_live_chat "{\"context\":{\"client\":{\"clientName\":\"WEB\"}},\"continuation\":\"$LTOK\"}" >"$T/live.json"
innertube live_chat/get_live_chat "{\"context\":{},\"continuation\":\"$TTOK\"}" >"$T/top.json"
jq '.continuationContents.liveChatContinuation.actions' "$T/live.json" >"$T/live-actions.json"
LV='^continuationContents\.liveChatContinuation\.(continuations\.\[\]\.(invalidationContinuationData|timedContinuationData)\.(continuation|timeoutMs)|actions\.\[\]\.addChatItemAction\.item\.[A-Za-z]+\.(id|timestampUsec|authorExternalChannelId|authorName\.simpleText|purchaseAmountText\.simpleText|message\.runs\.\[\]\.(text|emoji\.(emojiId|shortcuts\.\[\]|isCustomEmoji))|headerSubtext\.(runs\.\[\]\.text|simpleText)|header\.liveChatSponsorshipsHeaderRenderer\.(authorName\.simpleText|primaryText\.runs\.\[\]\.text)))$'
for f in pytchat_superchat_timed pytchat_supersticker_timed \
    pytchat_membership_reload youtubechat_gift_purchase \
    youtubechat_membership_welcome youtubechat_custom_emoji \
    youtubechat_emoji_skin_tone; do
    check "$LV" "$F/innertube/live/$f.json" "$T/live.json" "$T/top.json"
done
check '^\[\]\.(markChatItemAsDeletedAction\.targetItemId|markChatItemsByAuthorAsDeletedAction\.externalChannelId|addLiveChatTickerItemAction\.item\.liveChatTicker(PaidMessage|Sponsor)ItemRenderer\.id)$' \
    "$F/innertube/actions/chatdl_action_mix.json" "$T/live-actions.json"
# the chat rows a parser derives are exactly the truth rows served
jq -r -f "$F/innertube/expected_chat.jq" "$T/live.json" >"$T/live.tsv"
[ "$(wc -l <"$T/live.tsv")" -gt 100 ] || fail "too few chat items"

# --- live_chat page (initial data) --------------------------------------
curl -s "$YS_URL/live_chat?continuation=$LTOK" >"$T/lc.html"
page_json ytInitialData "$T/lc.html" >"$T/lc.json"
check '^contents\.liveChatRenderer\.(continuations\.\[\]\.invalidationContinuationData\.(continuation|timeoutMs)|actions\.\[\]\.addChatItemAction\.item\.liveChatTextMessageRenderer\.(id|timestampUsec|authorExternalChannelId|authorName\.simpleText|message\.runs\.\[\]\.text)|header\.liveChatHeaderRenderer\.viewSelector\.sortFilterSubMenuRenderer\.subMenuItems\.\[\]\.(title|continuation\.reloadContinuationData\.continuation))$' \
    "$F/innertube/live/chatdl_initial_livechat_2020.json" "$T/lc.json"

# --- replay ------------------------------------------------------------
RTOK=$(jq -r '.contents.twoColumnWatchNextResults.conversationBar.liveChatRenderer.continuations[0].reloadContinuationData.continuation' "$T/id-$ENDED.json")
innertube live_chat/get_live_chat_replay "{\"context\":{},\"continuation\":\"$RTOK\"}" >"$T/replay.json"
check '^continuationContents\.liveChatContinuation\.(continuations\.\[\]\.(liveChatReplayContinuationData|playerSeekContinuationData)\.continuation|actions\.\[\]\.replayChatItemAction\.(videoOffsetTimeMsec|actions\.\[\]\.addChatItemAction\.item\.liveChat(Text|Paid)[A-Za-z]+\.(id|timestampUsec|authorExternalChannelId|authorName\.simpleText|purchaseAmountText\.simpleText|message\.runs\.\[\]\.text)))$' \
    "$F/innertube/replay/pytchat_replay_49.json" "$T/replay.json"

# --- Data API ---------------------------------------------------------
K=key=ytsim-api-key
curl -s "$YS_URL/youtube/v3/videos?part=snippet,statistics,liveStreamingDetails&id=$LIVE,$ENDED,$UPC&$K" >"$T/videos.json"
check '^(kind|etag|pageInfo\.(totalResults|resultsPerPage)|items\.\[\]\.(kind|id|snippet\.(publishedAt|channelId|title|liveBroadcastContent|channelTitle)|statistics\.(viewCount|likeCount|favoriteCount|commentCount)|liveStreamingDetails\.(actualStartTime|scheduledStartTime|concurrentViewers|activeLiveChatId)))$' \
    "$F/youtube-data-api/videos.list-statistics.json" "$T/videos.json"
check '^(items\.\[\]\.(kind|id|liveStreamingDetails\.(actualStartTime|scheduledStartTime|concurrentViewers|activeLiveChatId)))$' \
    "$F/youtube-data-api/videos.list-live-concurrentViewers-activeLiveChatId.json" "$T/videos.json"
curl -s "$YS_URL/youtube/v3/channels?part=snippet,contentDetails,statistics&id=$CHAN&$K" >"$T/channels.json"
check '^(kind|pageInfo\.totalResults|items\.\[\]\.(id|snippet\.(title|customUrl)|contentDetails\.relatedPlaylists\.uploads|statistics\.(viewCount|subscriberCount|videoCount)))$' \
    "$F/youtube-data-api/channels.list-contentDetails-uploads.json" "$T/channels.json"
UU=$(jq -r '.items[0].contentDetails.relatedPlaylists.uploads' "$T/channels.json")
curl -s "$YS_URL/youtube/v3/playlistItems?part=snippet,contentDetails&playlistId=$UU&maxResults=2&$K" >"$T/pl1.json"
NEXT=$(jq -r .nextPageToken "$T/pl1.json")
curl -s "$YS_URL/youtube/v3/playlistItems?part=snippet,contentDetails&playlistId=$UU&maxResults=2&pageToken=$NEXT&$K" >"$T/pl2.json"
PL='^(kind|nextPageToken|prevPageToken|pageInfo\.(totalResults|resultsPerPage)|items\.\[\]\.(id|snippet\.(publishedAt|channelId|title|playlistId|position|resourceId\.(kind|videoId))))$'
check "$PL" "$F/youtube-data-api/playlistItems.list-page1-nextPageToken.json" "$T/pl1.json"
check "$PL" "$F/youtube-data-api/playlistItems.list-page2-last.json" "$T/pl2.json"
curl -s "$YS_URL/youtube/v3/search?part=snippet&channelId=$CHAN&type=video&eventType=live&$K" >"$T/search.json"
check '^(kind|items\.\[\]\.(id\.(kind|videoId)|snippet\.(channelId|title|liveBroadcastContent))|pageInfo\.totalResults)$' \
    "$F/youtube-data-api/search.list-eventType-live.json" "$T/search.json"
CHAT=$(jq -r --arg v "$LIVE" '.items[] | select(.id == $v) | .liveStreamingDetails.activeLiveChatId' "$T/videos.json")
curl -s "$YS_URL/youtube/v3/liveChat/messages?liveChatId=$CHAT&part=id,snippet,authorDetails&$K" >"$T/lcm.json"
check '^items\.\[\]\.(kind|id|snippet\.(type|liveChatId|authorChannelId|publishedAt|hasDisplayContent|displayMessage|textMessageDetails\.messageText)|authorDetails\.(channelId|channelUrl|displayName|isVerified|isChatOwner|isChatSponsor|isChatModerator))$' \
    "$F/youtube-data-api/liveChatMessages.list-items-only-tubeview.json" "$T/lcm.json"
jq -e '.pollingIntervalMillis and .nextPageToken' "$T/lcm.json" >/dev/null || fail "liveChatMessages paging fields"
curl -s "$YS_URL/youtube/v3/videos?part=snippet&id=$LIVE&key=wrong" >"$T/keyinvalid.json"
check '.' "$F/youtube-data-api/error-400-keyInvalid.json" "$T/keyinvalid.json"

# --- RSS: same element and attribute names --------------------------------
curl -s "$YS_URL/feeds/videos.xml?channel_id=$CHAN" >"$T/feed.xml"
tags() { grep -o '<[A-Za-z:]*\|[A-Za-z:]*="' "$1" | sort -u; }
tags "$F/rss/channel-feed-digital-foundry.xml" >"$T/real-tags"
tags "$T/feed.xml" >"$T/sim-tags"
missing=$(comm -23 "$T/real-tags" "$T/sim-tags")
[ -z "$missing" ] || { echo "RSS lacks: $missing" >&2; bad=1; }

ytsim_stop
# quota exhausted: the real 403 body
ytsim_start --scenario builtin --era 2022 --time 150 --speed 0 --quota 1
curl -s "$YS_URL/youtube/v3/videos?part=snippet&id=$LIVE&$K" >/dev/null
curl -s "$YS_URL/youtube/v3/videos?part=snippet&id=$LIVE&$K" >"$T/quota.json"
check '.' "$F/youtube-data-api/error-403-quotaExceeded.json" "$T/quota.json"
ytsim_stop

# --- era 2026 against the captures of 2026 ---------------------------------
Y=$F/youtube-2026
ytsim_start --scenario "$FIX/era2026.toml" --time 60 --speed 0
# watch page: chat header (relative menu tokens) + continuations[0]
page_json ytInitialData "$Y/pages/AkiRosenthal.live.2026-02-17.html" >"$T/real26-w.json"
curl -s "$YS_URL/watch?v=era26live01" >"$T/w26.html"
page_json ytInitialData "$T/w26.html" >"$T/w26.json"
CHAT='conversationBar\.liveChatRenderer\.(continuations\.\[\]\.reloadContinuationData\.continuation|header\.liveChatHeaderRenderer\.viewSelector\.sortFilterSubMenuRenderer\.(subMenuItems\.\[\]\.(title|selected|subtitle|continuation\.reloadContinuationData\.continuation)|targetId))'
check "^contents\.twoColumnWatchNextResults\.$CHAT\$" "$T/real26-w.json" "$T/w26.json"
M='.contents.twoColumnWatchNextResults.conversationBar.liveChatRenderer.header.liveChatHeaderRenderer.viewSelector.sortFilterSubMenuRenderer.subMenuItems'
[ "$(jq -c "[$M[].continuation.reloadContinuationData.continuation]" "$T/real26-w.json")" = \
  "$(jq -c "[$M[].continuation.reloadContinuationData.continuation]" "$T/w26.json")" ] ||
    { echo "relative menu tokens differ from the real page" >&2; bad=1; }
# lockup /streams tab
page_json ytInitialData "$Y/pages/_HakosBaelz.streams.2026-04-23.html" >"$T/real26-s.json"
curl -s "$YS_URL/@lockupch/streams" >"$T/s26.html"
page_json ytInitialData "$T/s26.html" >"$T/s26.json"
check '^contents\.twoColumnBrowseResultsRenderer\.tabs\.\[\]\.tabRenderer\.content\.richGridRenderer\.contents\.\[\]\.richItemRenderer\.content\.lockupViewModel\.(contentId|contentType|metadata\.lockupMetadataViewModel\.(title\.content|metadata\.contentMetadataViewModel\.metadataRows\.\[\]\.metadataParts\.\[\]\.text\.content)|contentImage\.thumbnailViewModel\.overlays\.\[\]\.thumbnailBottomOverlayViewModel\.badges\.\[\]\.thumbnailBadgeViewModel\.(text|badgeStyle)|rendererContext\.commandContext\.onTap\.innertubeCommand\.watchEndpoint\.videoId)$' \
    "$T/real26-s.json" "$T/s26.json"
# videoRenderer /streams tab (the other form of 2026)
page_json ytInitialData "$Y/pages/AiraniIofifteen.streams.2026-02-17.html" >"$T/real26-v.json"
curl -s "$YS_URL/@videoch/streams" >"$T/v26.html"
page_json ytInitialData "$T/v26.html" >"$T/v26.json"
check '^contents\.twoColumnBrowseResultsRenderer\.tabs\.\[\]\.tabRenderer\.content\.richGridRenderer\.contents\.\[\]\.richItemRenderer\.content\.videoRenderer\.(videoId|title\.runs\.\[\]\.text|upcomingEventData\.startTime)$' \
    "$T/real26-v.json" "$T/v26.json"
# members-only live: UNPLAYABLE + YpcOffer
page_json ytInitialPlayerResponse "$Y/pages/AkiRosenthal.memberlive.qS50yDHZOx4.2026-02-17.html" >"$T/real26-m.json"
curl -s "$YS_URL/watch?v=era26memb01" >"$T/m26.html"
page_json ytInitialPlayerResponse "$T/m26.html" >"$T/m26.json"
check '^(playabilityStatus\.(status|reason|errorScreen\.playerLegacyDesktopYpcOfferRenderer\.(itemTitle|offerDescription|offerId))|videoDetails\.(videoId|channelId|isLive|title))$' \
    "$T/real26-m.json" "$T/m26.json"
jq -e '.playabilityStatus.status == "UNPLAYABLE"' "$T/m26.json" >/dev/null ||
    { echo "members-only is not UNPLAYABLE" >&2; bad=1; }
# remove / gift / replace actions: each real action wrapped in an array
# against the actions array of ytsim's answers
wrap() { jq -s '[.[] | if type == "array" then .[] else . end]' "$1" >"$T/real-$(basename "$1")"; echo "$T/real-$(basename "$1")"; }
LT=$(jq -r '.contents.twoColumnWatchNextResults.conversationBar.liveChatRenderer.continuations[0].reloadContinuationData.continuation' "$T/w26.json")
curl -s "$YS_URL/live_chat?continuation=$LT" >"$T/lc26.html"
page_json ytInitialData "$T/lc26.html" >"$T/lc26.json"
LL=$(jq -r '.continuationContents.liveChatContinuation.header.liveChatHeaderRenderer.viewSelector.sortFilterSubMenuRenderer.subMenuItems[1].continuation.reloadContinuationData.continuation' "$T/lc26.json")
innertube live_chat/get_live_chat "{\"context\":{},\"continuation\":\"$LL\"}" >"$T/live26.json"
jq '.continuationContents.liveChatContinuation.actions' "$T/live26.json" >"$T/acts26.json"
check '^\[\]\.removeChatItemAction\.targetItemId$' "$(wrap "$Y/actions/ActionTestData.RemoveChatItem.json")" "$T/acts26.json"
check '^\[\]\.removeChatItemByAuthorAction\.externalChannelId$' "$(wrap "$Y/actions/ActionTestData.RemoveChatItemByAuthor.json")" "$T/acts26.json"
check '^\[\]\.addChatItemAction\.item\.giftMessageViewModel\.(id|text\.content|authorName\.content|imageA11yLabel|image\.sources\.\[\]\.clientResource\.imageName)$' \
    "$(wrap "$Y/actions/ActionTestData.GiftMessageViewModelAction.json")" "$T/acts26.json"
check '^\[\]\.replaceChatItemAction\.(targetItemId|replacementItem\.liveChatTextMessageRenderer\.(id|timestampUsec|authorExternalChannelId|authorName\.simpleText|message\.runs\.\[\]\.text))$' \
    "$(wrap "$F/innertube/actions/chatdl_action_mix.json")" "$T/acts26.json"
# replace in the replay, like yt-dlp's capture (whose videoOffsetTimeMsec
# sits beside replayChatItemAction; the innertube answer has it inside)
curl -s "$YS_URL/watch?v=era26past01" >"$T/p26.html"
RT=$(page_json ytInitialData "$T/p26.html" | jq -r '.contents.twoColumnWatchNextResults.conversationBar.liveChatRenderer.continuations[0].reloadContinuationData.continuation')
: >"$T/replay26.all"
for i in 1 2 3; do
    [ -n "$RT" ] || break
    innertube live_chat/get_live_chat_replay "{\"context\":{},\"continuation\":\"$RT\"}" >"$T/r26.json"
    jq -c '.continuationContents.liveChatContinuation.actions[]' "$T/r26.json" >>"$T/replay26.all"
    RT=$(jq -r '.continuationContents.liveChatContinuation.continuations[] | .liveChatReplayContinuationData.continuation // empty' "$T/r26.json")
done
jq -s . "$T/replay26.all" >"$T/ra26.json"
check '^\[\]\.(replayChatItemAction\.actions\.\[\]\.replaceChatItemAction\.(targetItemId|replacementItem\.liveChatTextMessageRenderer\.(id|timestampUsec|authorExternalChannelId|authorName\.simpleText|message\.runs\.\[\]\.text)))$' \
    "$(wrap "$Y/ytdlp/replace_chat_item_action.json")" "$T/ra26.json"
ytsim_stop
[ $bad -eq 0 ] && echo "ytsim-shapes: ok"
exit $bad
