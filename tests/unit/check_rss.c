/* Unit tests of tw_rss: the shared real channel feed, a minimal own feed and
 * malformed documents. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tw_rss.h"

START_TEST(test_shared_feed)
{
    const char *dir = tw_test_shared_dir();
    if (!dir)
        return;
    char path[1024];
    snprintf(path, sizeof path,
             "%s/fixtures/rss/channel-feed-digital-foundry.xml", dir);
    size_t len;
    char *buf = tw_test_slurp(path, &len);
    ck_assert_ptr_nonnull(buf);
    tw_rss_t *rss = tw_rss_new();
    tw_err_t err = {0};
    ck_assert_msg(tw_rss_parse(rss, buf, len, &err) == TW_OK, "%s", err.msg);
    ck_assert_uint_eq(tw_rss_count(rss), 15);
    ck_assert_str_eq(tw_rss_channel_id(rss), "UC9PBzalIcEQCsiIkq36PyUA");
    ck_assert_str_eq(tw_rss_title(rss), "Digital Foundry");
    const tw_rss_entry_t *e = tw_rss_entry(rss, 0);
    ck_assert_str_eq(e->video_id, "W_S7iKZZdHw");
    ck_assert_str_eq(e->channel_id, "UC9PBzalIcEQCsiIkq36PyUA");
    ck_assert_str_eq(e->title, "Digital Foundry Games of 2024: The Oliver "
                               "Mackenzie Collection!");
    ck_assert_str_eq(e->published, "2025-01-01T16:07:24+00:00");
    ck_assert(e->published_usec == 1735747644000000LL);
    ck_assert(e->updated_usec == 1735765695000000LL);
    ck_assert(e->views > 0);
    for (size_t i = 0; i < tw_rss_count(rss); i++)
        ck_assert_uint_eq(strlen(tw_rss_entry(rss, i)->video_id), 11);
    tw_rss_destroy(&rss);
    tw_rss_destroy(&rss);
    free(buf);
}
END_TEST

START_TEST(test_minimal_feed)
{
    size_t len;
    char *buf = tw_test_slurp("tests/fixtures/youtube/feed_minimal.xml", &len);
    ck_assert_ptr_nonnull(buf);
    tw_rss_t *rss = tw_rss_new();
    ck_assert_int_eq(tw_rss_parse(rss, buf, len, NULL), TW_OK);
    ck_assert_uint_eq(tw_rss_count(rss), 2);
    ck_assert_str_eq(tw_rss_title(rss), "Min & Co");
    ck_assert_str_eq(tw_rss_channel_id(rss), "UCabcdefghijklmnopqrstuv");
    const tw_rss_entry_t *e = tw_rss_entry(rss, 0);
    ck_assert_str_eq(e->video_id, "ONLYIDENT01");
    ck_assert_str_eq(e->title, "No videoId element");
    ck_assert(e->updated_usec == 1704150000000000LL);
    ck_assert(e->views == -1);
    e = tw_rss_entry(rss, 1);
    ck_assert_str_eq(e->video_id, "VIDEO000002");
    ck_assert_str_eq(e->channel_id, "UCother000000000000000000");
    ck_assert_str_eq(e->title, "Collab <3");
    ck_assert(e->published_usec == 0);
    ck_assert_str_eq(e->updated, "");
    tw_rss_destroy(&rss);
    free(buf);
}
END_TEST

START_TEST(test_bad_feeds)
{
    tw_rss_t *rss = tw_rss_new();
    tw_err_t err = {0};
    static const char *const bad[] = {
        "",
        "<feed xmlns=\"http://www.w3.org/2005/Atom\"><entry>",
        "<feed><entry></feed>",
        "<feed xmlns=\"http://www.w3.org/2005/Atom\"><yt:videoId>x"
        "</yt:videoId></feed>",
        "not xml at all",
        "<?xml version=\"1.0\"?><feed>&undefined;</feed>",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_msg(tw_rss_parse(rss, bad[i], strlen(bad[i]), &err) ==
                          TW_ERR_PARSE,
                      "accepted: %s", bad[i]);
        ck_assert_uint_eq(tw_rss_count(rss), 0);
        ck_assert_int_gt(err.line, 0);
    }
    const char *html = "<html><body/></html>";
    ck_assert_int_eq(tw_rss_parse(rss, html, strlen(html), &err), TW_ERR_PROTO);
    const char *prolog = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                         "<feed xmlns=\"http://www.w3.org/2005/Atom\" "
                         "xmlns:yt=\"http://www.youtube.com/xml/schemas/"
                         "2015\"><entry><yt:videoId>AAAAAAAAAAA</yt:videoId>"
                         "</entry></feed>";
    ck_assert_int_eq(tw_rss_parse(rss, prolog, strlen(prolog), &err), TW_OK);
    ck_assert_uint_eq(tw_rss_count(rss), 1);
    ck_assert_str_eq(tw_rss_entry(rss, 0)->video_id, "AAAAAAAAAAA");
    tw_rss_destroy(&rss);
}
END_TEST

Suite *rss_suite(void)
{
    Suite *s = suite_create("rss");
    TCase *tc = tcase_create("parse");
    tcase_set_timeout(tc, 10);
    tcase_add_test(tc, test_shared_feed);
    tcase_add_test(tc, test_minimal_feed);
    tcase_add_test(tc, test_bad_feeds);
    suite_add_tcase(s, tc);
    return s;
}
