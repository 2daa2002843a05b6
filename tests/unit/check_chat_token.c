/* Unit tests of the chat worker's token checks (chat_token.c): which video
 * a continuation token names (tokens built here in the 2025+ layout, and
 * the tokens of the shared real watch pages), and the status of a Google
 * error body. */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../workers/chat/chat.h"

/* A growing byte string. */
typedef struct {
    unsigned char b[1024]; /* bytes */
    size_t n;              /* used */
} s_pb_t;

static void s_byte(s_pb_t *p, unsigned v)
{
    ck_assert_uint_lt(p->n, sizeof p->b);
    p->b[p->n++] = (unsigned char)v;
}

static void s_varint(s_pb_t *p, unsigned long long v)
{
    while (v >= 0x80) {
        s_byte(p, (unsigned)(v & 0x7f) | 0x80);
        v >>= 7;
    }
    s_byte(p, (unsigned)v);
}

/* Appends field (wire type 2) holding n bytes of data. */
static void s_field(s_pb_t *p, unsigned long long field, const void *data,
                    size_t n)
{
    s_varint(p, field << 3 | 2);
    s_varint(p, n);
    ck_assert_uint_le(p->n + n, sizeof p->b);
    memcpy(p->b + p->n, data, n);
    p->n += n;
}

/* Appends field (wire type 0) = v. */
static void s_int(s_pb_t *p, unsigned long long field, unsigned long long v)
{
    s_varint(p, field << 3);
    s_varint(p, v);
}

/* Standard base64 of p (with padding) into out. */
static void s_b64(const s_pb_t *p, char *out, size_t cap)
{
    static const char a[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;
    for (size_t i = 0; i < p->n; i += 3) {
        unsigned v = (unsigned)p->b[i] << 16;
        if (i + 1 < p->n)
            v |= (unsigned)p->b[i + 1] << 8;
        if (i + 2 < p->n)
            v |= p->b[i + 2];
        ck_assert_uint_lt(o + 4, cap);
        out[o++] = a[v >> 18 & 63];
        out[o++] = a[v >> 12 & 63];
        out[o++] = i + 1 < p->n ? a[v >> 6 & 63] : '=';
        out[o++] = i + 2 < p->n ? a[v & 63] : '=';
    }
    out[o] = '\0';
}

/* A live chat token in the 2025+ layout naming video (NULL: a relative
 * token naming none) with chat type (1 all messages, 4 Top chat). */
static void s_token(const char *video, int type, char *out, size_t cap)
{
    s_pb_t pair = {0}, one = {0}, inner = {0}, kind = {0}, req = {0}, tok = {0};
    char inner64[512] = "";
    if (video) {
        s_field(&pair, 1, "UC0123456789abcdefghijkA", 24);
        s_field(&pair, 2, video, strlen(video));
        s_field(&one, 5, pair.b, pair.n);
        s_field(&inner, 1, one.b, one.n);
        s_b64(&inner, inner64, sizeof inner64);
    }
    s_field(&req, 3, inner64, strlen(inner64));
    s_int(&req, 6, 1);
    s_int(&kind, 1, (unsigned)type);
    s_int(&kind, 3, 0);
    s_field(&req, 16, kind.b, kind.n);
    s_field(&tok, 119693434, req.b, req.n);
    s_b64(&tok, out, cap);
}

START_TEST(test_match_built_tokens)
{
    char t[1024];
    int type = -1;
    s_token("abcdefghijk", 1, t, sizeof t);
    ck_assert_int_eq(chat_token_match(t, "abcdefghijk", &type),
                     CHAT_TOKEN_OURS);
    ck_assert_int_eq(type, 1);
    ck_assert_int_eq(chat_token_match(t, "abcdefghijX", NULL),
                     CHAT_TOKEN_OTHER);
    s_token("abcdefghijk", 4, t, sizeof t);
    ck_assert_int_eq(chat_token_match(t, "abcdefghijk", &type),
                     CHAT_TOKEN_OURS);
    ck_assert_int_eq(type, 4);
    /* the relative chat-view tokens of 2025+ name no video */
    s_token(NULL, 1, t, sizeof t);
    ck_assert_int_eq(chat_token_match(t, "abcdefghijk", &type),
                     CHAT_TOKEN_NONE);
    ck_assert_int_eq(chat_token_match("0ofMyAMSGgAwAYIBCAgBGAAgACgBqAEB",
                                      "abcdefghijk", NULL),
                     CHAT_TOKEN_NONE);
    /* not tokens at all */
    type = -1;
    ck_assert_int_eq(chat_token_match("", "abcdefghijk", &type),
                     CHAT_TOKEN_BAD);
    ck_assert_int_eq(type, 0);
    ck_assert_int_eq(chat_token_match("not a token!", "abcdefghijk", NULL),
                     CHAT_TOKEN_BAD);
    ck_assert_int_eq(
        chat_token_match("test-continuation:01", "abcdefghijk", NULL),
        CHAT_TOKEN_BAD);
    /* every match has its own text */
    const char *seen[4];
    for (int m = CHAT_TOKEN_OURS; m <= CHAT_TOKEN_BAD; m++) {
        seen[m] = chat_token_match_str((chat_token_match_t)m);
        ck_assert_ptr_nonnull(seen[m]);
        for (int k = 0; k < m; k++)
            ck_assert_str_ne(seen[k], seen[m]);
    }
}
END_TEST

START_TEST(test_error_status)
{
    char s[32];
    const char *body = "{\"error\":{\"code\":400,\"message\":\"Request "
                       "contains an invalid argument.\",\"errors\":[{"
                       "\"message\":\"x\",\"reason\":\"badRequest\"}],"
                       "\"status\":\"INVALID_ARGUMENT\"}}";
    chat_token_error_status(body, strlen(body), s, sizeof s);
    ck_assert_str_eq(s, "INVALID_ARGUMENT");
    /* too small a buffer: nothing rather than a cut word */
    char small[8];
    chat_token_error_status(body, strlen(body), small, sizeof small);
    ck_assert_str_eq(small, "");
    const char *odd[] = {
        "",
        "<html>400</html>",
        "{\"error\":{\"status\":\"bad\\nline\"}}",
        "{\"error\":{\"status\":42}}",
        "{\"error\":\"INVALID_ARGUMENT\"}",
        "{\"error\":{\"status\":\"INVALID_ARG",
        "[1,2,3]",
    };
    for (size_t i = 0; i < sizeof odd / sizeof odd[0]; i++) {
        snprintf(s, sizeof s, "x");
        chat_token_error_status(odd[i], strlen(odd[i]), s, sizeof s);
        ck_assert_msg(s[0] == '\0', "'%s' gave '%s'", odd[i], s);
    }
    chat_token_error_status(NULL, 0, s, sizeof s);
    ck_assert_str_eq(s, "");
}
END_TEST

/* On every real 2026 watch page of a live stream: the token the page
 * parser offers names the page's video, and the relative tokens of the
 * page's chat-view menu name none. */
START_TEST(test_shared_live_pages)
{
    const char *dir = tw_test_shared_dir();
    if (!dir)
        return;
    char pdir[1024];
    snprintf(pdir, sizeof pdir, "%s/fixtures/youtube-2026/pages", dir);
    DIR *d = opendir(pdir);
    ck_assert_msg(d != NULL, "%s missing", pdir);
    tw_ytpage_t *page = tw_ytpage_new();
    ck_assert_ptr_nonnull(page);
    int pages = 0, relative = 0;
    for (struct dirent *de = readdir(d); de; de = readdir(d)) {
        if (!strstr(de->d_name, ".live.") || !strstr(de->d_name, ".html"))
            continue;
        char path[2048];
        snprintf(path, sizeof path, "%s/%s", pdir, de->d_name);
        size_t len;
        char *html = tw_test_slurp(path, &len);
        ck_assert_ptr_nonnull(html);
        ck_assert_int_eq(tw_ytpage_parse_html(page, html, len, NULL), TW_OK);
        const tw_ytpage_info_t *info = tw_ytpage_info(page);
        if (info->chat_continuation[0]) {
            int type = 0;
            ck_assert_msg(
                chat_token_match(info->chat_continuation, info->video_id,
                                 &type) == CHAT_TOKEN_OURS,
                "%s: chat token does not name %s", de->d_name, info->video_id);
            ck_assert_msg(type == 1 || type == 4, "%s: type %d", de->d_name,
                          type);
            pages++;
        }
        /* the chat-view menu's tokens (reloadContinuationData under
         * subMenuItems) */
        const char *p = strstr(html, "\"subMenuItems\"");
        while (p) {
            static const char key[] = "\"reloadContinuationData\":{"
                                      "\"continuation\":\"";
            const char *k = strstr(p, key);
            const char *next = strstr(p + 1, "\"subMenuItems\"");
            if (!k || (next && k > next) || k - p > 4000) {
                p = next;
                continue;
            }
            k += sizeof key - 1;
            size_t n = strcspn(k, "\"");
            char tok[512];
            if (n < sizeof tok) {
                memcpy(tok, k, n);
                tok[n] = '\0';
                chat_token_match_t m =
                    chat_token_match(tok, info->video_id, NULL);
                ck_assert_msg(m == CHAT_TOKEN_NONE || m == CHAT_TOKEN_OURS,
                              "%s: menu token %s", de->d_name,
                              chat_token_match_str(m));
                if (m == CHAT_TOKEN_NONE) {
                    ck_assert_str_ne(tok, info->chat_continuation);
                    relative++;
                }
            }
            p = strstr(k, "\"subMenuItems\"");
        }
        free(html);
    }
    closedir(d);
    tw_ytpage_destroy(&page);
    ck_assert_int_gt(pages, 0);
    ck_assert_int_gt(relative, 0);
}
END_TEST

Suite *chat_token_suite(void)
{
    Suite *s = suite_create("chat_token");
    TCase *tc = tcase_create("token");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_match_built_tokens);
    tcase_add_test(tc, test_error_status);
    tcase_add_test(tc, test_shared_live_pages);
    suite_add_tcase(s, tc);
    return s;
}
