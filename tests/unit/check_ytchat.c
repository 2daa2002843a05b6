/* Unit tests of tw_ytchat: own fixtures (moderation events, unknown
 * renderers, Data API envelope, hostile input) and the shared captures. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tw_ytchat.h"

/* Parses a file of the project's own fixtures (kept in *buf). */
static tw_ytchat_t *s_parse_file(const char *path, char **buf)
{
    size_t len;
    *buf = tw_test_slurp(path, &len);
    ck_assert_msg(*buf != NULL, "cannot read %s", path);
    tw_ytchat_t *chat = tw_ytchat_new();
    ck_assert_ptr_nonnull(chat);
    tw_err_t err = {0};
    ck_assert_msg(tw_ytchat_parse(chat, *buf, len, &err) == TW_OK, "%s: %s",
                  path, err.msg);
    return chat;
}

START_TEST(test_moderation_events)
{
    char *buf;
    tw_ytchat_t *chat =
        s_parse_file("tests/fixtures/youtube/chat_moderation.json", &buf);
    ck_assert_uint_eq(tw_ytchat_count(chat), 6);
    const tw_ytchat_item_t *it = tw_ytchat_item(chat, 0);
    ck_assert_int_eq(it->kind, TW_YTCHAT_TEXT);
    ck_assert_str_eq(it->id, "ID-TEXT-1");
    ck_assert(it->timestamp_usec == 1700000000000001LL);
    ck_assert_str_eq(it->author_name, "Alice \"A\"");
    ck_assert_ptr_nonnull(strstr(it->message, "\xf0\x9f\x98\x80 lone "));
    ck_assert_str_eq(tw_ytchat_item(chat, 1)->message,
                     ":custom-one:UCxyz/def!");
    it = tw_ytchat_item(chat, 2);
    ck_assert_int_eq(it->kind, TW_YTCHAT_DELETED);
    ck_assert_str_eq(it->ref_id, "ID-TEXT-1");
    ck_assert_str_eq(tw_ytchat_kind_str(it->kind), "deleted");
    it = tw_ytchat_item(chat, 3);
    ck_assert_int_eq(it->kind, TW_YTCHAT_AUTHOR_DELETED);
    ck_assert_str_eq(it->author_channel_id, "UCbbbbbbbbbbbbbbbbbbbbbb");
    it = tw_ytchat_item(chat, 4);
    ck_assert_int_eq(it->kind, TW_YTCHAT_OTHER);
    ck_assert_str_eq(it->renderer, "liveChatFutureThingRenderer");
    it = tw_ytchat_item(chat, 5);
    ck_assert_int_eq(it->kind, TW_YTCHAT_SUPERCHAT);
    ck_assert_str_eq(it->amount, "CA$5.00");
    ck_assert_str_eq(it->currency, "CAD");
    ck_assert(it->amount_micros == 5000000);

    const tw_ytchat_cont_t *c = tw_ytchat_continuation(chat);
    ck_assert_int_eq(c->kind, TW_YTCHAT_CONT_TIMED);
    ck_assert_str_eq(c->token, "tok-timed-1");
    ck_assert(c->timeout_ms == 5123);
    ck_assert(!tw_ytchat_is_api(chat));

    ck_assert_uint_eq(tw_ytchat_unknown_count(chat), 2);
    const tw_ytchat_unknown_t *u = tw_ytchat_unknown(chat, 0);
    ck_assert_str_eq(u->name, "someBrandNewAction");
    ck_assert_str_eq(u->path,
                     ".continuationContents.liveChatContinuation.actions[5]"
                     ".someBrandNewAction");
    u = tw_ytchat_unknown(chat, 1);
    ck_assert_str_eq(u->name, "liveChatFutureThingRenderer");
    ck_assert_uint_eq(u->count, 1);
    ck_assert_str_eq(u->path,
                     ".continuationContents.liveChatContinuation.actions[4]"
                     ".addChatItemAction.item.liveChatFutureThingRenderer");
    tw_ytchat_destroy(&chat);
    tw_ytchat_destroy(&chat);
    free(buf);
}
END_TEST

START_TEST(test_api_envelope)
{
    char *buf;
    tw_ytchat_t *chat =
        s_parse_file("tests/fixtures/youtube/chat_api_envelope.json", &buf);
    ck_assert(tw_ytchat_is_api(chat));
    const tw_ytchat_cont_t *c = tw_ytchat_continuation(chat);
    ck_assert_int_eq(c->kind, TW_YTCHAT_CONT_API);
    ck_assert_str_eq(c->token, "PAGE-2");
    ck_assert(c->timeout_ms == 2500);
    ck_assert(c->offline_at_usec == 1704938400500000LL);
    ck_assert_uint_eq(tw_ytchat_count(chat), 6);
    const tw_ytchat_item_t *it = tw_ytchat_item(chat, 0);
    ck_assert_int_eq(it->kind, TW_YTCHAT_STICKER);
    ck_assert_str_eq(it->currency, "EUR");
    ck_assert(it->amount_micros == 1990000);
    ck_assert(it->timestamp_usec == 1704934800123456LL);
    ck_assert_str_eq(it->timestamp, "1704934800123456");
    ck_assert_int_eq(tw_ytchat_item(chat, 1)->kind, TW_YTCHAT_OTHER);
    it = tw_ytchat_item(chat, 2);
    ck_assert_int_eq(it->kind, TW_YTCHAT_DELETED);
    ck_assert_str_eq(it->ref_id, "M0");
    it = tw_ytchat_item(chat, 4);
    ck_assert_int_eq(it->kind, TW_YTCHAT_AUTHOR_DELETED);
    ck_assert_str_eq(it->author_channel_id, "UCbad");
    ck_assert_str_eq(tw_ytchat_item(chat, 5)->message, "multi\nline\ttext");
    tw_ytchat_destroy(&chat);
    free(buf);
}
END_TEST

/* Parse-chat output of a file equals its .expected.tsv. */
static void s_check_tsv(const char *json_path)
{
    char want_path[1024];
    size_t n = strlen(json_path);
    ck_assert_uint_lt(n, sizeof want_path - 20);
    memcpy(want_path, json_path, n - 5);
    strcpy(want_path + n - 5, ".expected.tsv");
    size_t len, wlen;
    char *buf = tw_test_slurp(json_path, &len);
    char *want = tw_test_slurp(want_path, &wlen);
    ck_assert_msg(buf && want, "cannot read %s", json_path);
    char *out = NULL;
    size_t olen = 0;
    FILE *f = open_memstream(&out, &olen);
    ck_assert_ptr_nonnull(f);
    tw_err_t err = {0};
    ck_assert_msg(tw_ytchat_print_tsv(f, buf, len, &err) == TW_OK, "%s: %s",
                  json_path, err.msg);
    fclose(f);
    ck_assert_msg(olen == wlen && memcmp(out, want, olen) == 0,
                  "%s: TSV differs", json_path);
    free(out);
    free(buf);
    free(want);
}

START_TEST(test_own_fixtures_tsv)
{
    s_check_tsv("tests/fixtures/youtube/chat_moderation.json");
    s_check_tsv("tests/fixtures/youtube/chat_api_envelope.json");
}
END_TEST

static tw_ytchat_t *s_shared(const char *rel, char **buf)
{
    const char *dir = tw_test_shared_dir();
    if (!dir)
        return NULL;
    char path[1024];
    snprintf(path, sizeof path, "%s/fixtures/innertube/%s", dir, rel);
    return s_parse_file(path, buf);
}

START_TEST(test_shared_tsv)
{
    static const char *const files[] = {
        "live/pytchat_superchat_timed.json",
        "live/pytchat_supersticker_timed.json",
        "live/pytchat_membership_reload.json",
        "live/pytchat_mixed_anonymized.json",
        "live/chatdl_initial_livechat_2020.json",
        "live/youtubechat_custom_emoji.json",
        "live/youtubechat_emoji_skin_tone.json",
        "live/youtubechat_gift_purchase.json",
        "live/youtubechat_membership_welcome.json",
        "live/youtubechat_no_chat.json",
        "actions/chatdl_action_mix.json",
        "replay/pytchat_replay_49.json",
        "replay/pytchat_replay_end_synthetic.json",
        "api/pytchat_api_text.json",
        "api/pytchat_api_superchat.json",
        "api/pytchat_api_newsponsor.json",
    };
    const char *dir = tw_test_shared_dir();
    if (!dir)
        return; /* skipped: no shared fixtures */
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/fixtures/innertube/%s", dir, files[i]);
        s_check_tsv(path);
    }
}
END_TEST

START_TEST(test_shared_continuations)
{
    char *buf;
    tw_ytchat_t *chat = s_shared("live/pytchat_superchat_timed.json", &buf);
    if (!chat)
        return;
    ck_assert_int_eq(tw_ytchat_continuation(chat)->kind, TW_YTCHAT_CONT_TIMED);
    ck_assert(tw_ytchat_continuation(chat)->timeout_ms == 8860);
    ck_assert_str_eq(tw_ytchat_item(chat, 0)->currency, "JPY");
    ck_assert(tw_ytchat_item(chat, 0)->amount_micros == 846000000);
    tw_ytchat_destroy(&chat);
    free(buf);

    chat = s_shared("replay/pytchat_replay_49.json", &buf);
    const tw_ytchat_cont_t *c = tw_ytchat_continuation(chat);
    ck_assert_int_eq(c->kind, TW_YTCHAT_CONT_REPLAY);
    ck_assert(c->timeout_ms == 5000);
    ck_assert_str_ne(c->seek_token, "");
    ck_assert_uint_eq(tw_ytchat_count(chat), 49);
    tw_ytchat_destroy(&chat);
    free(buf);

    chat = s_shared("replay/pytchat_replay_end_synthetic.json", &buf);
    ck_assert_int_eq(tw_ytchat_continuation(chat)->kind, TW_YTCHAT_CONT_SEEK);
    ck_assert_uint_eq(tw_ytchat_count(chat), 0);
    tw_ytchat_destroy(&chat);
    free(buf);

    chat = s_shared("live/chatdl_initial_livechat_2020.json", &buf);
    c = tw_ytchat_continuation(chat);
    ck_assert_int_eq(c->kind, TW_YTCHAT_CONT_INVALIDATION);
    ck_assert(c->timeout_ms == 10000);
    tw_ytchat_destroy(&chat);
    free(buf);

    chat = s_shared("actions/chatdl_action_mix.json", &buf);
    int deleted = 0, by_author = 0;
    for (size_t i = 0; i < tw_ytchat_count(chat); i++) {
        const tw_ytchat_item_t *it = tw_ytchat_item(chat, i);
        if (it->kind == TW_YTCHAT_DELETED) {
            deleted++;
            ck_assert_str_ne(it->ref_id, "");
        } else if (it->kind == TW_YTCHAT_AUTHOR_DELETED) {
            by_author++;
            ck_assert_str_eq(it->author_channel_id, "UCunTx7KcIG50KLggQdd5JEQ");
        } else if (it->kind == TW_YTCHAT_STICKER) {
            ck_assert_str_eq(it->currency, "USD");
            ck_assert(it->amount_micros == 9990000);
        }
    }
    ck_assert_int_eq(deleted, 1);
    ck_assert_int_eq(by_author, 1);
    ck_assert_int_eq(tw_ytchat_continuation(chat)->kind, TW_YTCHAT_CONT_NONE);
    tw_ytchat_destroy(&chat);
    free(buf);
}
END_TEST

START_TEST(test_pages)
{
    char *buf;
    tw_ytchat_t *chat =
        s_parse_file("tests/fixtures/youtube/live_chat_page.html", &buf);
    ck_assert_uint_eq(tw_ytchat_count(chat), 1);
    ck_assert_str_eq(tw_ytchat_item(chat, 0)->message,
                     "from </script> the page");
    ck_assert_int_eq(tw_ytchat_continuation(chat)->kind,
                     TW_YTCHAT_CONT_INVALIDATION);
    ck_assert_str_eq(tw_ytchat_continuation(chat)->token, "page-cont");
    tw_ytchat_destroy(&chat);
    free(buf);

    /* A watch page (with HTTP headers in front): no rows, the reload
     * continuation of its liveChatRenderer. */
    chat = s_shared("pages/masterchat_watch_upcoming.html", &buf);
    if (chat) {
        ck_assert_uint_eq(tw_ytchat_count(chat), 0);
        ck_assert_int_eq(tw_ytchat_continuation(chat)->kind,
                         TW_YTCHAT_CONT_RELOAD);
        tw_ytchat_destroy(&chat);
        free(buf);
    }

    chat = tw_ytchat_new();
    tw_err_t err = {0};
    const char *bad = "<html><script>var ytInitialData = {\"a\":};</script>";
    ck_assert_int_eq(tw_ytchat_parse(chat, bad, strlen(bad), &err),
                     TW_ERR_PARSE);
    ck_assert_ptr_nonnull(strstr(err.msg, "ytInitialData at byte 34"));
    const char *none = "<html>no data</html>";
    ck_assert_int_eq(tw_ytchat_parse(chat, none, strlen(none), &err),
                     TW_ERR_PARSE);
    ck_assert_ptr_nonnull(strstr(err.msg, "at byte 0"));
    tw_ytchat_destroy(&chat);
}
END_TEST

START_TEST(test_amounts)
{
    static const struct {
        const char *text; /* amount text */
        const char *code; /* expected code */
        int64_t micros;   /* expected micros */
    } cases[] = {
        {"$9.99", "USD", 9990000},
        {"\xef\xbf\xa5"
         "846",
         "JPY", 846000000},
        {"\xc2\xa5"
         "1,000",
         "JPY", 1000000000},
        {"CA$5.00", "CAD", 5000000},
        {"A$2.50", "AUD", 2500000},
        {"\xe2\x82\xac"
         "5,00",
         "EUR", 5000000},
        {"5,00\xc2\xa0\xe2\x82\xac", "EUR", 5000000},
        {"\xe2\x82\xa9"
         "10,000",
         "KRW", 10000000000},
        {"PHP 100.00", "PHP", 100000000},
        {"RUB 1 500,00", "RUB", 1500000000},
        {"\xc2\xa3"
         "1,234.50",
         "GBP", 1234500000},
        {"R$10,00", "BRL", 10000000},
        {"", "", -1},
        {"free", "", -1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char code[4];
        int64_t micros;
        tw_ytchat_parse_amount(cases[i].text, code, &micros);
        ck_assert_msg(strcmp(code, cases[i].code) == 0, "%s: code %s",
                      cases[i].text, code);
        ck_assert_msg(micros == cases[i].micros, "%s: micros %lld",
                      cases[i].text, (long long)micros);
    }
}
END_TEST

START_TEST(test_times)
{
    int64_t us;
    ck_assert(tw_ytchat_parse_time("2018-01-01T00:00:00.000Z", 24, &us));
    ck_assert(us == 1514764800000000LL);
    ck_assert(tw_ytchat_parse_time("2021-07-07T14:00:00+00:00", 25, &us));
    ck_assert(us == 1625666400000000LL);
    ck_assert(tw_ytchat_parse_time("2024-02-01T10:00:00+09:00", 25, &us));
    ck_assert(us == 1706749200000000LL);
    ck_assert(
        tw_ytchat_parse_time("2023-05-25T20:08:08.479833+00:00", 32, &us));
    ck_assert(us == 1685045288479833LL);
    ck_assert(!tw_ytchat_parse_time("2018-01-01", 10, &us));
    ck_assert(!tw_ytchat_parse_time("2018-13-01T00:00:00Z", 20, &us));
    ck_assert(!tw_ytchat_parse_time("2018-01-01T00:00:00.Z", 21, &us));
    ck_assert(!tw_ytchat_parse_time("2018-01-01T00:00:00Zjunk", 24, &us));
}
END_TEST

START_TEST(test_hostile_input)
{
    tw_ytchat_t *chat = tw_ytchat_new();
    static const char *const docs[] = {
        "[{\"addChatItemAction\":\"str\"}]",
        "[{\"addChatItemAction\":{\"item\":[]}}]",
        "[{\"addChatItemAction\":{\"item\":{}}}]",
        "[{\"addChatItemAction\":{\"item\":{\"liveChatTextMessageRenderer\":"
        "5}}}]",
        "{\"addChatItemAction\":{\"item\":{\"liveChatTextMessageRenderer\":{"
        "\"id\":{},\"message\":{\"runs\":{\"text\":1}},\"authorName\":"
        "[1],\"timestampUsec\":99999999999999999999999}}}}",
        "{\"continuations\":[1,{},{\"timedContinuationData\":7}],"
        "\"actions\":[null,{\"clickTrackingParams\":\"x\"}]}",
        "{\"kind\":\"youtube#liveChatMessageListResponse\",\"items\":[1,{}]}",
        "[[[[[[[[[[{\"addChatItemAction\":{\"item\":{\"a\":{\"message\":"
        "{\"runs\":[{\"emoji\":{\"isCustomEmoji\":true,\"shortcuts\":[null]"
        ",\"emojiId\":\"E\"}}]}}}}}]]]]]]]]]]",
    };
    for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) {
        tw_err_t err = {0};
        ck_assert_msg(tw_ytchat_parse(chat, docs[i], strlen(docs[i]), &err) ==
                          TW_OK,
                      "doc %zu: %s", i, err.msg);
        for (size_t k = 0; k < tw_ytchat_count(chat); k++) {
            const tw_ytchat_item_t *it = tw_ytchat_item(chat, k);
            ck_assert_ptr_nonnull(it->message);
            ck_assert_ptr_nonnull(it->id);
        }
    }
    ck_assert_str_eq(tw_ytchat_item(chat, 0)->message, "E");
    tw_err_t err = {0};
    ck_assert_int_eq(tw_ytchat_parse(chat, "{\"actions\":[1,2", 15, &err),
                     TW_ERR_PARSE);
    ck_assert_uint_eq(tw_ytchat_count(chat), 0);
    ck_assert_ptr_nonnull(strstr(err.msg, "at byte 15"));

    /* A 2 MB message with escapes in one item. */
    size_t n = 2 * 1024 * 1024;
    const char *head = "[{\"addChatItemAction\":{\"item\":{\"liveChatText"
                       "MessageRenderer\":{\"id\":\"big\",\"message\":{"
                       "\"simpleText\":\"";
    const char *tail = "\"}}}}}]";
    char *buf = malloc(strlen(head) + n + strlen(tail));
    size_t pos = strlen(head);
    memcpy(buf, head, pos);
    for (size_t i = 0; i < n; i += 2) {
        buf[pos++] = '\\';
        buf[pos++] = 't';
    }
    memcpy(buf + pos, tail, strlen(tail));
    pos += strlen(tail);
    ck_assert_int_eq(tw_ytchat_parse(chat, buf, pos, NULL), TW_OK);
    ck_assert_uint_eq(strlen(tw_ytchat_item(chat, 0)->message), n / 2);
    free(buf);
    tw_ytchat_destroy(&chat);
}
END_TEST

/* The shapes of 2023-2026: placeholder then replacement under the same id,
 * remove actions, a Jewels gift; and several documents in a row (yt-dlp's
 * JSON Lines). */
START_TEST(test_2026_actions)
{
    const char *doc =
        "{\"actions\":["
        "{\"addChatItemAction\":{\"item\":{\"liveChatPlaceholderItemRenderer\":"
        "{\"id\":\"P1\",\"timestampUsec\":\"1700000000000001\"}}}},"
        "{\"replaceChatItemAction\":{\"targetItemId\":\"P1\","
        "\"replacementItem\":{\"liveChatTextMessageRenderer\":{\"id\":\"P1\","
        "\"message\":{\"runs\":[{\"text\":\"real\"}]},\"authorName\":"
        "{\"simpleText\":\"Ann\"},\"authorExternalChannelId\":\"UCann\","
        "\"timestampUsec\":\"1700000000000002\"}}}},"
        "{\"removeChatItemAction\":{\"targetItemId\":\"GONE\"}},"
        "{\"removeChatItemByAuthorAction\":{\"externalChannelId\":\"UCbad\"}},"
        "{\"addChatItemAction\":{\"item\":{\"giftMessageViewModel\":{"
        "\"text\":{\"content\":\"sent Rose for 5 Jewels\"},"
        "\"authorName\":{\"content\":\"@giver \\t \"},\"id\":\"G1\"}}}}"
        "]}\n"
        "{\"addChatItemAction\":{\"item\":{\"liveChatTextMessageRenderer\":"
        "{\"id\":\"N2\",\"message\":{\"simpleText\":\"next line\"}}}}}\n";
    tw_ytchat_t *chat = tw_ytchat_new();
    tw_err_t err = {0};
    ck_assert_msg(tw_ytchat_parse(chat, doc, strlen(doc), &err) == TW_OK, "%s",
                  err.msg);
    ck_assert_uint_eq(tw_ytchat_count(chat), 6);
    const tw_ytchat_item_t *it = tw_ytchat_item(chat, 0);
    ck_assert_int_eq(it->kind, TW_YTCHAT_OTHER);
    ck_assert(!it->replaces);
    it = tw_ytchat_item(chat, 1);
    ck_assert_int_eq(it->kind, TW_YTCHAT_TEXT);
    ck_assert(it->replaces);
    ck_assert_str_eq(it->id, "P1");
    ck_assert_str_eq(it->ref_id, "P1");
    ck_assert_str_eq(it->message, "real");
    it = tw_ytchat_item(chat, 2);
    ck_assert_int_eq(it->kind, TW_YTCHAT_DELETED);
    ck_assert_str_eq(it->ref_id, "GONE");
    ck_assert_str_eq(it->renderer, "removeChatItemAction");
    it = tw_ytchat_item(chat, 3);
    ck_assert_int_eq(it->kind, TW_YTCHAT_AUTHOR_DELETED);
    ck_assert_str_eq(it->author_channel_id, "UCbad");
    it = tw_ytchat_item(chat, 4);
    ck_assert_int_eq(it->kind, TW_YTCHAT_JEWELS);
    ck_assert_str_eq(tw_ytchat_kind_str(it->kind), "jewels");
    ck_assert_str_eq(it->id, "G1");
    ck_assert_str_eq(it->author_name, "@giver");
    ck_assert_str_eq(it->message, "sent Rose for 5 Jewels");
    ck_assert_str_eq(it->author_channel_id, "");
    ck_assert(it->timestamp_usec == 0);
    ck_assert_str_eq(tw_ytchat_item(chat, 5)->id, "N2");
    ck_assert_uint_eq(tw_ytchat_unknown_count(chat), 0);

    char *out = NULL;
    size_t outlen = 0;
    FILE *f = open_memstream(&out, &outlen);
    ck_assert_int_eq(tw_ytchat_write_tsv(chat, f), TW_OK);
    fclose(f);
    ck_assert_str_eq(out, "P1\tother\t\t\t1700000000000001\t\t\n"
                          "P1\ttext\tUCann\tAnn\t1700000000000002\t\treal\n"
                          "G1\tjewels\t\t@giver\t\t\tsent Rose for 5 Jewels\n"
                          "N2\ttext\t\t\t\t\tnext line\n");
    free(out);

    /* a bad second document fails the whole parse, naming it */
    const char *bad = "{\"actions\":[]}\n{\"actions\":[}\n";
    ck_assert_int_eq(tw_ytchat_parse(chat, bad, strlen(bad), &err),
                     TW_ERR_PARSE);
    ck_assert_ptr_nonnull(strstr(err.msg, "document 2"));
    ck_assert_uint_eq(tw_ytchat_count(chat), 0);
    ck_assert_int_eq(tw_ytchat_parse(chat, " \n", 2, &err), TW_ERR_PARSE);
    tw_ytchat_destroy(&chat);
}
END_TEST

Suite *ytchat_suite(void)
{
    Suite *s = suite_create("ytchat");
    TCase *tc = tcase_create("parse");
    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, test_moderation_events);
    tcase_add_test(tc, test_api_envelope);
    tcase_add_test(tc, test_own_fixtures_tsv);
    tcase_add_test(tc, test_shared_tsv);
    tcase_add_test(tc, test_shared_continuations);
    tcase_add_test(tc, test_pages);
    tcase_add_test(tc, test_amounts);
    tcase_add_test(tc, test_times);
    tcase_add_test(tc, test_hostile_input);
    tcase_add_test(tc, test_2026_actions);
    suite_add_tcase(s, tc);
    return s;
}
