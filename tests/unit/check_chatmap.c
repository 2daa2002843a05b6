/* Unit tests of tw_chatmap: parser items of the project's import fixture
 * and hand-made items to chat.batch items (kinds, deletions, replacements,
 * refused ids, clipping). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tw_chatmap.h"

START_TEST(test_fixture_items)
{
    size_t len;
    char *buf = tw_test_slurp(
        "tests/fixtures/youtube/import_ytdlp.live_chat.json", &len);
    ck_assert_ptr_nonnull(buf);
    tw_ytchat_t *chat = tw_ytchat_new();
    ck_assert_int_eq(tw_ytchat_parse(chat, buf, len, NULL), TW_OK);
    ck_assert_uint_eq(tw_ytchat_count(chat), 8);
    tw_strpool_t pool = {0};
    tw_chat_item_t o[8];
    tw_chatmap_result_t r[8];
    for (size_t i = 0; i < 8; i++)
        r[i] = tw_chatmap_item(tw_ytchat_item(chat, i), 42, &pool, &o[i]);

    ck_assert_int_eq(r[0], TW_CHATMAP_OK);
    ck_assert_str_eq(o[0].id, "imp-text-1");
    ck_assert_int_eq(o[0].kind, TW_CHAT_KIND_TEXT);
    ck_assert(o[0].published_usec == 1767261601000000LL);
    ck_assert(o[0].received_usec == 42);
    ck_assert_str_eq(o[0].author_channel_id, "UCimportAuthorChan000100");
    ck_assert_str_eq(o[0].author_name, "Alice");
    ck_assert_str_eq(o[0].text, "Hello tubewatch import world");
    ck_assert_str_eq(o[0].ref_id, "");
    ck_assert(!o[0].replaces);

    ck_assert_int_eq(r[1], TW_CHATMAP_OK);
    ck_assert_int_eq(o[1].kind, TW_CHAT_KIND_SUPERCHAT);
    ck_assert_str_eq(o[1].amount, "$5.00");
    ck_assert_str_eq(o[1].currency, "USD");

    ck_assert_int_eq(r[2], TW_CHATMAP_OK); /* the placeholder */
    ck_assert_int_eq(o[2].kind, TW_CHAT_KIND_OTHER);
    ck_assert(!o[2].replaces);
    ck_assert_int_eq(r[3], TW_CHATMAP_OK); /* its replacement */
    ck_assert_str_eq(o[3].id, "imp-ph-1");
    ck_assert_int_eq(o[3].kind, TW_CHAT_KIND_TEXT);
    ck_assert(o[3].replaces);
    ck_assert_str_eq(o[3].ref_id, "");

    ck_assert_int_eq(r[5], TW_CHATMAP_OK); /* the deletion */
    ck_assert_int_eq(o[5].kind, TW_CHAT_KIND_DELETED);
    ck_assert_str_eq(o[5].id, "imp-text-2");
    ck_assert_str_eq(o[5].ref_id, "imp-text-2");
    ck_assert(!o[5].replaces);

    ck_assert_int_eq(r[6], TW_CHATMAP_EVENT); /* a ban is not a row */
    ck_assert_int_eq(r[7], TW_CHATMAP_OK);
    ck_assert_str_eq(o[7].id, "imp-text-1");
    ck_assert_uint_eq(pool.n, 0);
    tw_strpool_fini(&pool);
    tw_ytchat_destroy(&chat);
    free(buf);
}
END_TEST

START_TEST(test_ids)
{
    ck_assert(tw_chatmap_id_ok("ChwKGkNLcXI4LTZxdTRvREZjVFp3Z1FkZDFFTXl3"));
    ck_assert(tw_chatmap_id_ok("a%3D%3D"));
    ck_assert(!tw_chatmap_id_ok(""));
    ck_assert(!tw_chatmap_id_ok("a b"));
    ck_assert(!tw_chatmap_id_ok("a\\b"));
    ck_assert(!tw_chatmap_id_ok("a\tb"));
    ck_assert(!tw_chatmap_id_ok("caf\xc3\xa9"));
    char big[258];
    memset(big, 'x', 257);
    big[257] = '\0';
    ck_assert(!tw_chatmap_id_ok(big));
    big[256] = '\0';
    ck_assert(tw_chatmap_id_ok(big));

    tw_strpool_t pool = {0};
    tw_chat_item_t o;
    memset(&o, 0x5a, sizeof o);
    tw_ytchat_item_t it = {.kind = TW_YTCHAT_TEXT,
                           .id = "bad id",
                           .ref_id = "",
                           .author_channel_id = "",
                           .author_name = "",
                           .timestamp = "",
                           .amount = "",
                           .message = "x",
                           .renderer = ""};
    ck_assert_int_eq(tw_chatmap_item(&it, 1, &pool, &o), TW_CHATMAP_BAD_ID);
    /* a deletion is judged by its target, not its own (empty) id */
    it.kind = TW_YTCHAT_DELETED;
    it.id = "";
    it.ref_id = "";
    ck_assert_int_eq(tw_chatmap_item(&it, 1, &pool, &o), TW_CHATMAP_BAD_ID);
    it.ref_id = "target";
    it.replaces = true;
    ck_assert_int_eq(tw_chatmap_item(&it, 1, &pool, &o), TW_CHATMAP_OK);
    ck_assert_str_eq(o.id, "target");
    ck_assert(!o.replaces);
    it.kind = TW_YTCHAT_AUTHOR_DELETED;
    ck_assert_int_eq(tw_chatmap_item(&it, 1, &pool, &o), TW_CHATMAP_EVENT);
    it.kind = TW_YTCHAT_JEWELS;
    it.id = "j1";
    it.replaces = false;
    ck_assert_int_eq(tw_chatmap_item(&it, 1, &pool, &o), TW_CHATMAP_OK);
    ck_assert_int_eq(o.kind, TW_CHAT_KIND_JEWELS);
    tw_strpool_fini(&pool);
}
END_TEST

START_TEST(test_clip_at_utf8_boundary)
{
    /* "é" (2 bytes) straddling the limit is dropped whole */
    size_t n = TW_CHATMAP_TEXT_MAX + 10;
    char *text = malloc(n + 1);
    ck_assert_ptr_nonnull(text);
    memset(text, 'a', n);
    text[TW_CHATMAP_TEXT_MAX - 1] = '\xc3';
    text[TW_CHATMAP_TEXT_MAX] = '\xa9';
    text[n] = '\0';
    tw_ytchat_item_t it = {.kind = TW_YTCHAT_TEXT,
                           .id = "long",
                           .ref_id = "",
                           .author_channel_id = "",
                           .author_name = text,
                           .timestamp = "",
                           .amount = "",
                           .message = text,
                           .renderer = ""};
    tw_strpool_t pool = {0};
    tw_chat_item_t o;
    ck_assert_int_eq(tw_chatmap_item(&it, 1, &pool, &o), TW_CHATMAP_OK);
    ck_assert_uint_eq(strlen(o.text), TW_CHATMAP_TEXT_MAX - 1);
    ck_assert_uint_eq(strlen(o.author_name), TW_CHATMAP_TEXT_MAX - 1);
    ck_assert(memcmp(o.text, text, TW_CHATMAP_TEXT_MAX - 1) == 0);
    ck_assert_uint_eq(pool.n, 2);
    /* exactly at the limit: borrowed, not copied */
    text[TW_CHATMAP_TEXT_MAX - 1] = 'a';
    text[TW_CHATMAP_TEXT_MAX] = '\0';
    tw_strpool_clear(&pool);
    ck_assert_int_eq(tw_chatmap_item(&it, 1, &pool, &o), TW_CHATMAP_OK);
    ck_assert_ptr_eq(o.text, text);
    ck_assert_uint_eq(pool.n, 0);
    tw_strpool_fini(&pool);
    free(text);
}
END_TEST

Suite *chatmap_suite(void)
{
    Suite *s = suite_create("chatmap");
    TCase *tc = tcase_create("map");
    tcase_set_timeout(tc, 10);
    tcase_add_test(tc, test_fixture_items);
    tcase_add_test(tc, test_ids);
    tcase_add_test(tc, test_clip_at_utf8_boundary);
    suite_add_tcase(s, tc);
    return s;
}
