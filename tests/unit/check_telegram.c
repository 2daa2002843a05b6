/* Unit tests of tw_telegram: escaping, lengths, splitting and the
 * classification of Bot API replies (the shapes of fixtures/telegram). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tw_telegram.h"

static void s_esc(const char *in, const char *want)
{
    char *out = tw_telegram_escape_html(in, strlen(in));
    ck_assert_ptr_nonnull(out);
    ck_assert_str_eq(out, want);
    free(out);
}

START_TEST(test_escape_hostile_titles)
{
    s_esc("<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;");
    s_esc("Tom &amp; Jerry", "Tom &amp;amp; Jerry");
    s_esc("a < b > c & d", "a &lt; b &gt; c &amp; d");
    s_esc("emoji \xf0\x9f\x94\xb4 live", "emoji \xf0\x9f\x94\xb4 live");
    s_esc("quote \" '", "quote \" '");
    s_esc("", "");
    /* invalid UTF-8 becomes U+FFFD, never a broken sequence */
    s_esc("bad \xff\xc3", "bad \xef\xbf\xbd\xef\xbf\xbd");
    char *out = tw_telegram_escape_html("a\0b", 3);
    ck_assert_str_eq(out, "ab");
    free(out);
}
END_TEST

START_TEST(test_text_len_utf16)
{
    ck_assert_uint_eq(tw_telegram_text_len("abc", 3), 3);
    ck_assert_uint_eq(tw_telegram_text_len("\xc3\xa9", 2), 1);     /* é */
    ck_assert_uint_eq(tw_telegram_text_len("\xe2\x82\xac", 3), 1); /* € */
    ck_assert_uint_eq(tw_telegram_text_len("\xf0\x9f\x98\x80", 4), 2);
    ck_assert_uint_eq(tw_telegram_text_len("\xff", 1), 1);
}
END_TEST

START_TEST(test_split_boundaries)
{
    const char *t = "hello world\nsecond line";
    size_t n = strlen(t);
    ck_assert_uint_eq(tw_telegram_split(t, n, 100), n);
    /* prefers the newline */
    ck_assert_uint_eq(tw_telegram_split(t, n, 20), 12);
    /* then a space */
    ck_assert_uint_eq(tw_telegram_split(t, n, 10), 6);
    /* then a character boundary, never inside a sequence */
    const char *e = "\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80";
    ck_assert_uint_eq(tw_telegram_split(e, 12, 5), 8);
    ck_assert_uint_eq(tw_telegram_split(e, 12, 1), 4); /* progress */
    ck_assert_uint_eq(tw_telegram_split("", 0, 10), 0);
}
END_TEST

START_TEST(test_split_long_text_all_parts_fit)
{
    /* 10000 characters of words with & and emoji: every escaped part is at
     * most 4096 visible characters and the parts join to the input */
    size_t cap = 40000, len = 0;
    char *t = malloc(cap);
    for (int i = 0; len + 16 < 20000; i++) {
        const char *w = i % 7 == 0
                            ? "&amp; "
                            : (i % 5 == 0 ? "\xf0\x9f\x98\x80 " : "word<b> ");
        memcpy(t + len, w, strlen(w));
        len += strlen(w);
    }
    char *joined = malloc(cap);
    size_t jl = 0, off = 0;
    int parts = 0;
    while (off < len) {
        size_t n = tw_telegram_split(t + off, len - off, TW_TELEGRAM_MAX_TEXT);
        ck_assert_uint_gt(n, 0);
        ck_assert_uint_le(tw_telegram_text_len(t + off, n),
                          TW_TELEGRAM_MAX_TEXT);
        /* the escaped part counts the same number of visible characters */
        char *h = tw_telegram_escape_html(t + off, n);
        ck_assert_ptr_nonnull(h);
        free(h);
        memcpy(joined + jl, t + off, n);
        jl += n;
        off += n;
        parts++;
    }
    ck_assert_int_ge(parts, 5);
    ck_assert_uint_eq(jl, len);
    ck_assert_int_eq(memcmp(joined, t, len), 0);
    free(t);
    free(joined);
}
END_TEST

static tw_telegram_result_t s_parse(long status, const char *body)
{
    tw_telegram_result_t r;
    tw_telegram_parse_reply(status, body, body ? strlen(body) : 0, NULL, &r);
    return r;
}

START_TEST(test_reply_classification)
{
    tw_telegram_result_t r = s_parse(
        200, "{\"ok\":true,\"result\":{\"message_id\":42,\"chat\":{}}}");
    ck_assert_int_eq(r.status, TW_TELEGRAM_OK);
    ck_assert_int_eq(r.message_id, 42);

    r = s_parse(429, "{\"ok\":false,\"error_code\":429,\"description\":"
                     "\"Too Many Requests: retry after 5\",\"parameters\":"
                     "{\"retry_after\":5}}");
    ck_assert_int_eq(r.status, TW_TELEGRAM_RETRY);
    ck_assert_int_eq(r.retry_after_ms, 5000);

    r = s_parse(400, "{\"ok\":false,\"error_code\":400,\"description\":"
                     "\"Bad Request: chat not found\"}");
    ck_assert_int_eq(r.status, TW_TELEGRAM_CHAT_GONE);

    r = s_parse(403, "{\"ok\":false,\"error_code\":403,\"description\":"
                     "\"Forbidden: bot was blocked by the user\"}");
    ck_assert_int_eq(r.status, TW_TELEGRAM_CHAT_GONE);
    r = s_parse(403, "{\"ok\":false,\"error_code\":403,\"description\":"
                     "\"Forbidden: bot was kicked from the group chat\"}");
    ck_assert_int_eq(r.status, TW_TELEGRAM_CHAT_GONE);

    r = s_parse(400, "{\"ok\":false,\"error_code\":400,\"description\":"
                     "\"Bad Request: group chat was migrated to a supergroup "
                     "chat\",\"parameters\":{\"migrate_to_chat_id\":"
                     "-1001234567890}}");
    ck_assert_int_eq(r.status, TW_TELEGRAM_MIGRATED);
    ck_assert(r.migrate_to == -1001234567890LL);

    r = s_parse(401, "{\"ok\":false,\"error_code\":401,\"description\":"
                     "\"Unauthorized\"}");
    ck_assert_int_eq(r.status, TW_TELEGRAM_BAD_TOKEN);

    r = s_parse(400, "{\"ok\":false,\"error_code\":400,\"description\":"
                     "\"Bad Request: can't parse entities: Unexpected end of "
                     "name token at byte offset 291\"}");
    ck_assert_int_eq(r.status, TW_TELEGRAM_ENTITIES);

    r = s_parse(400, "{\"ok\":false,\"error_code\":400,\"description\":"
                     "\"Bad Request: entities too long\"}");
    ck_assert_int_eq(r.status, TW_TELEGRAM_REJECTED);

    r = s_parse(409, "{\"ok\":false,\"error_code\":409,\"description\":"
                     "\"Conflict: terminated by other long poll\"}");
    ck_assert_int_eq(r.status, TW_TELEGRAM_REJECTED);

    r = s_parse(502, "<html>Bad Gateway</html>");
    ck_assert_int_eq(r.status, TW_TELEGRAM_RETRY);
    r = s_parse(0, NULL);
    ck_assert_int_eq(r.status, TW_TELEGRAM_RETRY);
    r = s_parse(200, "{\"ok\":tr");
    ck_assert_int_eq(r.status, TW_TELEGRAM_RETRY);

    tw_telegram_parse_reply(429, "", 0, "7", &r);
    ck_assert_int_eq(r.status, TW_TELEGRAM_RETRY);
    ck_assert_int_eq(r.retry_after_ms, 7000);
    ck_assert_str_eq(tw_telegram_status_str(TW_TELEGRAM_CHAT_GONE),
                     "chat_gone");
}
END_TEST

START_TEST(test_shared_fixtures)
{
    const char *dir = tw_test_shared_dir();
    if (!dir)
        return; /* shared fixtures absent: nothing to compare */
    static const struct {
        const char *file;
        tw_telegram_status_t want;
    } cases[] = {
        {"error-400-cant-parse-entities.json", TW_TELEGRAM_ENTITIES},
        {"error-429-retry-after-5.json", TW_TELEGRAM_RETRY},
        {"error-bad-request-chat-not-found.json", TW_TELEGRAM_CHAT_GONE},
        {"error-bad-request-entities-too-long.json", TW_TELEGRAM_REJECTED},
        {"error-bad-request-group-chat-migrated.json", TW_TELEGRAM_MIGRATED},
        {"error-conflicted-terminated-by-other-long-poll.json",
         TW_TELEGRAM_REJECTED},
        {"error-forbidden-bot-blocked-by-user.json", TW_TELEGRAM_CHAT_GONE},
        {"error-unauthorized.json", TW_TELEGRAM_BAD_TOKEN},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/fixtures/telegram/%s", dir,
                 cases[i].file);
        FILE *f = fopen(path, "rb");
        if (!f)
            continue;
        char buf[4096];
        size_t n = fread(buf, 1, sizeof buf, f);
        fclose(f);
        /* the HTTP status equals error_code; take it from the name */
        long status = 400;
        if (strstr(cases[i].file, "429"))
            status = 429;
        else if (strstr(cases[i].file, "forbidden"))
            status = 403;
        else if (strstr(cases[i].file, "unauthorized"))
            status = 401;
        else if (strstr(cases[i].file, "conflicted"))
            status = 409;
        tw_telegram_result_t r;
        tw_telegram_parse_reply(status, buf, n, NULL, &r);
        ck_assert_msg(r.status == cases[i].want, "%s: got %s", cases[i].file,
                      tw_telegram_status_str(r.status));
    }
}
END_TEST

Suite *telegram_suite(void)
{
    Suite *s = suite_create("telegram");
    TCase *tc = tcase_create("text");
    tcase_set_timeout(tc, 10);
    tcase_add_test(tc, test_escape_hostile_titles);
    tcase_add_test(tc, test_text_len_utf16);
    tcase_add_test(tc, test_split_boundaries);
    tcase_add_test(tc, test_split_long_text_all_parts_fit);
    suite_add_tcase(s, tc);
    tc = tcase_create("reply");
    tcase_set_timeout(tc, 10);
    tcase_add_test(tc, test_reply_classification);
    tcase_add_test(tc, test_shared_fixtures);
    suite_add_tcase(s, tc);
    return s;
}
