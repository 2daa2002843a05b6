/* Unit tests of writer_store: headers, escaping, dedup across reopen and
 * midnight, torn-line repair, zone day partition, absent numbers, hostile
 * ids, full disk and the open-file bound. */
#include <check.h>
#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../workers/writer/writer_store.h"

#define S_CH  "UC_channel-1"
#define S_VID "vid_0000001"
/* 2026-03-10T12:00:00Z */
#define S_T0 1773144000000000LL

static char s_dir[64];
static int64_t s_clock_us;

static int64_t s_clock(void *arg)
{
    (void)arg;
    return s_clock_us;
}

static void s_setup(void)
{
    snprintf(s_dir, sizeof s_dir, "/tmp/tw-ws-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(s_dir));
    s_clock_us = S_T0;
}

static void s_teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", s_dir);
    if (system(cmd) != 0)
        fprintf(stderr, "unable to remove %s\n", s_dir);
}

static writer_store_t *s_open(const char *tz, bool jsonl, size_t max_open)
{
    writer_store_opts_t o = {0};
    o.data_dir = s_dir;
    o.timezone = tz;
    o.jsonl = jsonl;
    o.max_open_files = max_open;
    o.clock = s_clock;
    tw_err_t err;
    writer_store_t *st = writer_store_open(&o, &err);
    ck_assert_msg(st != NULL, "open: %s", err.msg);
    return st;
}

/* Reads a whole file (NUL-terminated, caller frees) or returns NULL. */
static char *s_slurp(const char *rel, size_t *len)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", s_dir, rel);
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    ck_assert_ptr_nonnull(buf);
    ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    if (len)
        *len = (size_t)n;
    return buf;
}

static size_t s_count_lines(const char *s)
{
    size_t n = 0;
    for (; s && *s; s++)
        n += *s == '\n';
    return n;
}

static tw_rc_t s_add(writer_store_t *st, const char *vid, const char *id,
                     const char *text, bool *dup)
{
    const char *toks[] = {"hello", "world"};
    writer_store_comment_t c = {0};
    c.received_at_us = s_clock_us;
    c.published_at_us = s_clock_us - 1500000;
    c.channel_id = S_CH;
    c.video_id = vid;
    c.message_id = id;
    c.kind = "text";
    c.author_channel_id = "UCauthor";
    c.author_name = "Ann";
    c.text = text;
    c.tokens = toks;
    c.n_tokens = 2;
    tw_err_t err;
    return writer_store_add_comment(st, &c, dup, &err);
}

#define S_CFILE "comments/2026-03-10/" S_CH "/" S_VID ".tsv"

START_TEST(test_header_once)
{
    writer_store_t *st = s_open(NULL, false, 0);
    bool dup = true;
    ck_assert_int_eq(s_add(st, S_VID, "m1", "first", &dup), TW_OK);
    ck_assert(!dup);
    ck_assert_int_eq(s_add(st, S_VID, "m2", "second", &dup), TW_OK);
    ck_assert_int_eq(writer_store_sync(st, NULL), TW_OK);
    writer_store_destroy(&st);
    ck_assert_ptr_null(st);
    st = s_open("UTC", false, 0);
    ck_assert_int_eq(s_add(st, S_VID, "m3", "third", &dup), TW_OK);
    ck_assert_int_eq(writer_store_sync(st, NULL), TW_OK);
    writer_store_destroy(&st);
    char *s = s_slurp(S_CFILE, NULL);
    ck_assert_ptr_nonnull(s);
    ck_assert_uint_eq(s_count_lines(s), 4);
    const char *hdr = "received_at\tpublished_at\tchannel_id\tvideo_id\t"
                      "message_id\tkind\tauthor_channel_id\tauthor_name\t"
                      "amount\ttext\ttokens\n";
    ck_assert(strncmp(s, hdr, strlen(hdr)) == 0);
    ck_assert_ptr_null(strstr(s + 1, "received_at"));
    ck_assert_ptr_nonnull(strstr(
        s, "2026-03-10T12:00:00.000000Z\t2026-03-10T11:59:58.500000Z\t" S_CH
           "\t" S_VID "\tm1\ttext\tUCauthor\tAnn\t\tfirst\t"
           "hello world\n"));
    free(s);
}
END_TEST

/* Unescapes a TSV field in place. */
static void s_unescape(char *f)
{
    char *w = f;
    for (char *r = f; *r; r++) {
        if (*r == '\\' && r[1]) {
            r++;
            *w++ = *r == 't' ? '\t' : *r == 'n' ? '\n' : *r == 'r' ? '\r' : *r;
        } else {
            *w++ = *r;
        }
    }
    *w = '\0';
}

START_TEST(test_escaping_round_trip)
{
    writer_store_t *st = s_open(NULL, false, 0);
    const char *text = "tab\there\nnew\rline back\\slash \\t literal";
    const char *toks[] = {"a\tb", "c\\d"};
    writer_store_comment_t c = {0};
    c.received_at_us = S_T0;
    c.published_at_us = WRITER_STORE_ABSENT;
    c.channel_id = S_CH;
    c.video_id = S_VID;
    c.message_id = "LCC.abc%3D=";
    c.kind = "superchat";
    c.author_name = "Bob\tthe\nBuilder";
    c.amount = "$5.00";
    c.text = text;
    c.tokens = toks;
    c.n_tokens = 2;
    ck_assert_int_eq(writer_store_add_comment(st, &c, NULL, NULL), TW_OK);
    writer_store_destroy(&st);
    char *s = s_slurp(S_CFILE, NULL);
    ck_assert_ptr_nonnull(s);
    char *line = strchr(s, '\n') + 1;
    ck_assert_uint_eq(s_count_lines(line), 1);
    *strchr(line, '\n') = '\0';
    char *fields[16];
    int n = 0;
    for (char *p = line;; n++) {
        fields[n] = p;
        char *t = strchr(p, '\t');
        if (!t)
            break;
        *t = '\0';
        p = t + 1;
    }
    ck_assert_int_eq(n + 1, 11);
    for (int i = 0; i <= n; i++)
        s_unescape(fields[i]);
    ck_assert_str_eq(fields[1], ""); /* published_at absent */
    ck_assert_str_eq(fields[4], "LCC.abc%3D=");
    ck_assert_str_eq(fields[5], "superchat");
    ck_assert_str_eq(fields[6], "");
    ck_assert_str_eq(fields[7], "Bob\tthe\nBuilder");
    ck_assert_str_eq(fields[8], "$5.00");
    ck_assert_str_eq(fields[9], text);
    ck_assert_str_eq(fields[10], "a\tb c\\d");
    free(s);
}
END_TEST

START_TEST(test_dedup_across_reopen)
{
    writer_store_t *st = s_open(NULL, false, 0);
    bool dup;
    ck_assert_int_eq(s_add(st, S_VID, "m1", "x", &dup), TW_OK);
    ck_assert_int_eq(s_add(st, S_VID, "m2", "y", &dup), TW_OK);
    ck_assert_int_eq(s_add(st, S_VID, "m1", "x", &dup), TW_OK);
    ck_assert(dup);
    writer_store_viewers_t v = {S_T0, S_CH, S_VID, 10, 100, 5, 2};
    ck_assert_int_eq(writer_store_add_viewers(st, &v, &dup, NULL), TW_OK);
    ck_assert(!dup);
    writer_store_stats_t sts = {S_T0, S_CH, S_VID, "Title", 1, 2, 3, 4};
    ck_assert_int_eq(writer_store_add_stats(st, &sts, &dup, NULL), TW_OK);
    ck_assert(!dup);
    ck_assert_int_eq(writer_store_sync(st, NULL), TW_OK);
    writer_store_destroy(&st);

    st = s_open(NULL, false, 0);
    /* m1, m2 (id and content keys each), the viewers and the stats row */
    ck_assert_uint_eq(writer_store_index_size(st), 6);
    ck_assert_int_eq(s_add(st, S_VID, "m1", "x", &dup), TW_OK);
    ck_assert(dup);
    ck_assert_int_eq(s_add(st, S_VID, "m2", "y", &dup), TW_OK);
    ck_assert(dup);
    /* same id in another video is another message */
    ck_assert_int_eq(s_add(st, "vid_other", "m1", "x", &dup), TW_OK);
    ck_assert(!dup);
    ck_assert_int_eq(writer_store_add_viewers(st, &v, &dup, NULL), TW_OK);
    ck_assert(dup);
    ck_assert_int_eq(writer_store_add_stats(st, &sts, &dup, NULL), TW_OK);
    ck_assert(dup);
    v.sampled_at_us += 1;
    ck_assert_int_eq(writer_store_add_viewers(st, &v, &dup, NULL), TW_OK);
    ck_assert(!dup);
    /* a deletion has its own key, deduplicated too */
    ck_assert_int_eq(
        writer_store_add_deleted(st, S_CH, S_VID, "m1", S_T0, &dup, NULL),
        TW_OK);
    ck_assert(!dup);
    writer_store_destroy(&st);
    st = s_open(NULL, false, 0);
    ck_assert_int_eq(
        writer_store_add_deleted(st, S_CH, S_VID, "m1", S_T0, &dup, NULL),
        TW_OK);
    ck_assert(dup);
    writer_store_destroy(&st);
    char *s = s_slurp(S_CFILE, NULL);
    ck_assert_uint_eq(s_count_lines(s), 4); /* header, m1, m2, deleted m1 */
    ck_assert_ptr_nonnull(strstr(s, "\tm1\tdeleted\t\t\t\t\t\n"));
    free(s);
    s = s_slurp("viewers/2026-03-10/" S_CH "/" S_VID ".tsv", NULL);
    ck_assert_uint_eq(s_count_lines(s), 3);
    free(s);
    s = s_slurp("stats/2026-03-10/" S_CH ".tsv", NULL);
    ck_assert_uint_eq(s_count_lines(s), 2);
    free(s);
}
END_TEST

static tw_rc_t s_add_kind(writer_store_t *st, const char *id, const char *kind,
                          const char *text, bool replaces, bool *dup)
{
    writer_store_comment_t c = {0};
    c.received_at_us = s_clock_us;
    c.published_at_us = WRITER_STORE_ABSENT;
    c.channel_id = S_CH;
    c.video_id = S_VID;
    c.message_id = id;
    c.kind = kind;
    c.text = text;
    c.replaces = replaces;
    tw_err_t err;
    return writer_store_add_comment(st, &c, dup, &err);
}

/* A placeholder, then the message replacing it under the same id: both
 * rows are stored, the replacement once, across reopen; a later plain copy
 * of the message (the replay) is a duplicate. */
START_TEST(test_replacement_supersedes)
{
    writer_store_t *st = s_open(NULL, false, 0);
    bool dup;
    ck_assert_int_eq(s_add_kind(st, "p1", "other", "", false, &dup), TW_OK);
    ck_assert(!dup);
    ck_assert_int_eq(s_add_kind(st, "p1", "text", "real", true, &dup), TW_OK);
    ck_assert(!dup);
    ck_assert_int_eq(s_add_kind(st, "p1", "text", "real", true, &dup), TW_OK);
    ck_assert(dup);
    ck_assert_int_eq(s_add_kind(st, "p1", "text", "real", false, &dup), TW_OK);
    ck_assert(dup);
    /* a replacement whose placeholder was never seen: stored once */
    ck_assert_int_eq(s_add_kind(st, "p2", "text", "late", true, &dup), TW_OK);
    ck_assert(!dup);
    ck_assert_int_eq(s_add_kind(st, "p2", "text", "late", true, &dup), TW_OK);
    ck_assert(dup);
    ck_assert_int_eq(writer_store_sync(st, NULL), TW_OK);
    writer_store_destroy(&st);

    st = s_open(NULL, false, 0);
    ck_assert_int_eq(s_add_kind(st, "p1", "text", "real", true, &dup), TW_OK);
    ck_assert(dup);
    ck_assert_int_eq(s_add_kind(st, "p1", "other", "", false, &dup), TW_OK);
    ck_assert(dup);
    ck_assert_int_eq(s_add_kind(st, "p2", "text", "late", true, &dup), TW_OK);
    ck_assert(dup);
    ck_assert_int_eq(s_add_kind(st, "p2", "text", "late", false, &dup), TW_OK);
    ck_assert(dup);
    /* a message replaced by a placeholder: the placeholder supersedes it */
    ck_assert_int_eq(s_add_kind(st, "p2", "other", "", true, &dup), TW_OK);
    ck_assert(!dup);
    ck_assert_int_eq(s_add_kind(st, "j1", "jewels", "sent Rose", false, &dup),
                     TW_OK);
    ck_assert(!dup);
    writer_store_destroy(&st);
    char *s = s_slurp(S_CFILE, NULL);
    /* header, p1 placeholder, p1 real, p2 late, p2 placeholder, j1 */
    ck_assert_uint_eq(s_count_lines(s), 6);
    char *a = strstr(s, "\tp1\tother\t");
    char *b = strstr(s, "\tp1\ttext\t\t\t\treal\t");
    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_nonnull(b);
    ck_assert(a < b);
    ck_assert_ptr_nonnull(strstr(s, "\tj1\tjewels\t"));
    free(s);
}
END_TEST

START_TEST(test_dedup_after_midnight)
{
    s_clock_us = S_T0 + (11LL * 3600 + 59 * 60) * 1000000; /* 23:59 UTC */
    writer_store_t *st = s_open(NULL, false, 0);
    bool dup;
    ck_assert_int_eq(s_add(st, S_VID, "late", "x", &dup), TW_OK);
    s_clock_us += 2LL * 60 * 1000000; /* 00:01 next day */
    ck_assert_int_eq(s_add(st, S_VID, "late", "x", &dup), TW_OK);
    ck_assert(dup);
    ck_assert_int_eq(s_add(st, S_VID, "early", "y", &dup), TW_OK);
    ck_assert(!dup);
    writer_store_destroy(&st);
    /* a restart after midnight rebuilds yesterday's index from disk */
    st = s_open(NULL, false, 0);
    ck_assert_int_eq(s_add(st, S_VID, "late", "x", &dup), TW_OK);
    ck_assert(dup);
    ck_assert_int_eq(s_add(st, S_VID, "early", "y", &dup), TW_OK);
    ck_assert(dup);
    writer_store_destroy(&st);
    char *s = s_slurp("comments/2026-03-11/" S_CH "/" S_VID ".tsv", NULL);
    ck_assert_uint_eq(s_count_lines(s), 2);
    ck_assert_ptr_null(strstr(s, "late"));
    free(s);
}
END_TEST

START_TEST(test_torn_line_repair)
{
    writer_store_t *st = s_open(NULL, true, 0);
    bool dup;
    ck_assert_int_eq(s_add(st, S_VID, "m1", "x", &dup), TW_OK);
    writer_store_destroy(&st);
    /* simulate a crash in the middle of writing m2's line */
    char path[512];
    snprintf(path, sizeof path, "%s/%s", s_dir, S_CFILE);
    FILE *f = fopen(path, "ab");
    ck_assert_ptr_nonnull(f);
    fputs("2026-03-10T12:00:00.000000Z\t\t" S_CH "\t" S_VID "\tm2\ttext\tA", f);
    fclose(f);
    snprintf(path, sizeof path, "%s/comments/2026-03-10/%s/%s.jsonl", s_dir,
             S_CH, S_VID);
    f = fopen(path, "ab");
    fputs("{\"received_at\":", f);
    fclose(f);
    st = s_open(NULL, true, 0);
    char *s = s_slurp(S_CFILE, NULL);
    ck_assert_uint_eq(s_count_lines(s), 2);
    ck_assert_int_eq(s[strlen(s) - 1], '\n');
    free(s);
    ck_assert_int_eq(s_add(st, S_VID, "m2", "y", &dup), TW_OK);
    ck_assert(!dup);
    writer_store_destroy(&st);
    s = s_slurp(S_CFILE, NULL);
    ck_assert_uint_eq(s_count_lines(s), 3);
    ck_assert_ptr_nonnull(strstr(s, "\tm2\ttext\tUCauthor\tAnn\t\ty\t"));
    free(s);
    /* the JSON Lines twin was repaired as well: every line parses */
    s = s_slurp("comments/2026-03-10/" S_CH "/" S_VID ".jsonl", NULL);
    ck_assert_uint_eq(s_count_lines(s), 2);
    char *save = NULL;
    for (char *l = strtok_r(s, "\n", &save); l;
         l = strtok_r(NULL, "\n", &save)) {
        json_error_t je;
        json_t *j = json_loads(l, 0, &je);
        ck_assert_msg(j != NULL, "bad JSON line: %s", l);
        ck_assert(json_is_null(json_object_get(j, "amount")));
        ck_assert_str_eq(json_string_value(json_object_get(j, "tokens")),
                         "hello world");
        json_decref(j);
    }
    free(s);
}
END_TEST

static bool s_zone_exists(const char *z)
{
    char p[256];
    snprintf(p, sizeof p, "/usr/share/zoneinfo/%s", z);
    return access(p, R_OK) == 0;
}

START_TEST(test_day_partition_by_zone)
{
    /* 2026-03-10T16:30Z = 2026-03-11 01:30 in Tokyo, 09:30 in Los Angeles */
    s_clock_us = S_T0 + (4LL * 3600 + 30 * 60) * 1000000;
    if (!s_zone_exists("Asia/Tokyo") || !s_zone_exists("America/Los_Angeles"))
        return; /* no zone database: nothing to test */
    writer_store_t *st = s_open("Asia/Tokyo", false, 0);
    ck_assert_int_eq(s_add(st, S_VID, "t1", "x", NULL), TW_OK);
    writer_store_destroy(&st);
    char *s = s_slurp("comments/2026-03-11/" S_CH "/" S_VID ".tsv", NULL);
    ck_assert_ptr_nonnull(s);
    /* times in the file stay UTC */
    ck_assert_ptr_nonnull(strstr(s, "2026-03-10T16:30:00.000000Z"));
    free(s);
    s_clock_us = S_T0 + 12LL * 3600 * 1000000; /* 2026-03-11T00:00Z */
    st = s_open("America/Los_Angeles", false, 0);
    ck_assert_int_eq(s_add(st, S_VID, "t2", "x", NULL), TW_OK);
    writer_store_destroy(&st);
    s = s_slurp(S_CFILE, NULL); /* still the 10th in LA (17:00 PDT) */
    ck_assert_ptr_nonnull(s);
    ck_assert_ptr_nonnull(strstr(s, "\tt2\t"));
    free(s);
    /* TZ of the process is left alone */
    ck_assert_ptr_null(getenv("TZ"));
    writer_store_opts_t o = {0};
    o.data_dir = s_dir;
    o.timezone = "Mars/Olympus";
    tw_err_t err;
    ck_assert_ptr_null(writer_store_open(&o, &err));
    o.timezone = "../../etc/passwd";
    ck_assert_ptr_null(writer_store_open(&o, &err));
}
END_TEST

START_TEST(test_absent_is_not_zero)
{
    writer_store_t *st = s_open(NULL, true, 0);
    writer_store_viewers_t v = {
        S_T0, S_CH, S_VID, 0, WRITER_STORE_ABSENT, 0, WRITER_STORE_ABSENT};
    ck_assert_int_eq(writer_store_add_viewers(st, &v, NULL, NULL), TW_OK);
    writer_store_stats_t sts = {
        S_T0, S_CH, S_VID, NULL, WRITER_STORE_ABSENT, 0, WRITER_STORE_ABSENT,
        7};
    ck_assert_int_eq(writer_store_add_stats(st, &sts, NULL, NULL), TW_OK);
    ck_assert_int_eq(writer_store_sync(st, NULL), TW_OK);
    writer_store_destroy(&st);
    char *s = s_slurp("viewers/2026-03-10/" S_CH "/" S_VID ".tsv", NULL);
    ck_assert_ptr_nonnull(strstr(s, "sampled_at\tchannel_id\tvideo_id\t"
                                    "concurrent_viewers\tviews\tlikes\t"
                                    "comments\n"));
    ck_assert_ptr_nonnull(strstr(s, "\t" S_VID "\t0\t\t0\t\n"));
    free(s);
    s = s_slurp("stats/2026-03-10/" S_CH ".tsv", NULL);
    ck_assert_ptr_nonnull(strstr(s, "\t" S_VID "\t\t\t0\t\t7\n"));
    free(s);
    s = s_slurp("viewers/2026-03-10/" S_CH "/" S_VID ".jsonl", NULL);
    json_t *j = json_loads(s, 0, NULL);
    ck_assert_ptr_nonnull(j);
    ck_assert(json_is_integer(json_object_get(j, "concurrent_viewers")));
    ck_assert(json_is_null(json_object_get(j, "views")));
    json_decref(j);
    free(s);
}
END_TEST

START_TEST(test_hostile_ids_rejected)
{
    writer_store_t *st = s_open(NULL, false, 0);
    const char *bad[] = {"../etc",
                         "a/b",
                         "",
                         ".",
                         "..",
                         "a b",
                         "x\ty",
                         "\xc3\xbc",
                         "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                         "aaaaaaaaaaaaaaaaaaaaaaaaaaaaa"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        ck_assert(!writer_store_id_ok(bad[i]));
        ck_assert_int_eq(s_add(st, bad[i], "m1", "x", NULL), TW_ERR_INVALID);
        writer_store_viewers_t v = {S_T0, bad[i], S_VID, 1, 1, 1, 1};
        ck_assert_int_eq(writer_store_add_viewers(st, &v, NULL, NULL),
                         TW_ERR_INVALID);
    }
    ck_assert(!writer_store_id_ok(NULL));
    ck_assert(writer_store_id_ok("UCabc_-09"));
    ck_assert_int_eq(s_add(st, S_VID, "bad\tid", "x", NULL), TW_ERR_INVALID);
    ck_assert_int_eq(s_add(st, S_VID, "", "x", NULL), TW_ERR_INVALID);
    writer_store_comment_t c = {0};
    c.channel_id = S_CH;
    c.video_id = S_VID;
    c.message_id = "m";
    c.kind = "bogus";
    c.received_at_us = S_T0;
    c.published_at_us = WRITER_STORE_ABSENT;
    tw_err_t err;
    ck_assert_int_eq(writer_store_add_comment(st, &c, NULL, &err),
                     TW_ERR_INVALID);
    writer_store_destroy(&st);
    struct stat sb;
    char p[256];
    snprintf(p, sizeof p, "%s/comments", s_dir);
    ck_assert_int_ne(stat(p, &sb), 0); /* nothing was created */
}
END_TEST

START_TEST(test_full_disk_then_resume)
{
    signal(SIGXFSZ, SIG_IGN);
    writer_store_t *st = s_open(NULL, true, 0);
    char text[300];
    memset(text, 'z', sizeof text - 1);
    text[sizeof text - 1] = '\0';
    struct rlimit old, lim;
    getrlimit(RLIMIT_FSIZE, &old);
    lim = old;
    lim.rlim_cur = 6000;
    /* no ck_assert while the limit holds: Check writes files too */
    setrlimit(RLIMIT_FSIZE, &lim);
    int ok = 0;
    tw_rc_t rc = TW_OK;
    char id[32];
    for (int i = 0; i < 100; i++) {
        snprintf(id, sizeof id, "msg%d", i);
        rc = s_add(st, S_VID, id, text, NULL);
        if (rc != TW_OK)
            break;
        ok++;
    }
    tw_rc_t rc_again = s_add(st, S_VID, id, text, NULL);
    setrlimit(RLIMIT_FSIZE, &old);
    ck_assert_int_eq(rc, TW_ERR_NOSPACE);
    ck_assert_int_eq(rc_again, TW_ERR_NOSPACE);
    ck_assert_int_gt(ok, 3);
    /* files end on a complete line; TSV and JSONL agree */
    size_t len;
    char *s = s_slurp(S_CFILE, &len);
    ck_assert_int_eq(s[len - 1], '\n');
    ck_assert_uint_eq(s_count_lines(s), (size_t)ok + 1);
    free(s);
    s = s_slurp("comments/2026-03-10/" S_CH "/" S_VID ".jsonl", &len);
    ck_assert_int_eq(s[len - 1], '\n');
    ck_assert_uint_eq(s_count_lines(s), (size_t)ok);
    free(s);
    /* space is back: the failed row and the rest go in, once */
    bool dup;
    for (int i = 0; i < ok + 5; i++) {
        snprintf(id, sizeof id, "msg%d", i);
        ck_assert_int_eq(s_add(st, S_VID, id, text, &dup), TW_OK);
        ck_assert(dup == (i < ok));
    }
    ck_assert_int_eq(writer_store_sync(st, NULL), TW_OK);
    writer_store_destroy(&st);
    s = s_slurp(S_CFILE, &len);
    ck_assert_uint_eq(s_count_lines(s), (size_t)ok + 6);
    for (int i = 0; i < ok + 5; i++) {
        char want[40];
        snprintf(want, sizeof want, "\tmsg%d\t", i);
        char *first = strstr(s, want);
        ck_assert_ptr_nonnull(first);
        ck_assert_ptr_null(strstr(first + 1, want));
    }
    free(s);
}
END_TEST

/* When the days move on, the files of days before yesterday are closed:
 * the open fds do not grow with the days. */
START_TEST(test_old_days_closed)
{
    writer_store_t *st = s_open(NULL, false, 0);
    char vid[32];
    for (int i = 0; i < 3; i++) {
        snprintf(vid, sizeof vid, "video%d", i);
        ck_assert_int_eq(s_add(st, vid, "m0", "x", NULL), TW_OK);
    }
    ck_assert_uint_eq(writer_store_open_files(st), 3);
    s_clock_us += 86400LL * 1000000; /* the next day: yesterday's stay */
    ck_assert_int_eq(s_add(st, "video9", "m1", "x", NULL), TW_OK);
    ck_assert_uint_eq(writer_store_open_files(st), 4);
    s_clock_us += 86400LL * 1000000; /* two days on: the first day's go */
    ck_assert_int_eq(s_add(st, "video8", "m2", "x", NULL), TW_OK);
    ck_assert_uint_eq(writer_store_open_files(st), 2);
    ck_assert_int_eq(writer_store_sync(st, NULL), TW_OK);
    writer_store_destroy(&st);
    /* nothing written was lost by closing */
    char *s = s_slurp("comments/2026-03-10/" S_CH "/video0.tsv", NULL);
    ck_assert_ptr_nonnull(s);
    ck_assert_ptr_nonnull(strstr(s, "\tm0\t"));
    free(s);
}
END_TEST

START_TEST(test_open_file_bound)
{
    writer_store_t *st = s_open(NULL, false, 4);
    char vid[32];
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < 10; i++) {
            snprintf(vid, sizeof vid, "video%d", i);
            char id[32];
            snprintf(id, sizeof id, "m%d", round);
            ck_assert_int_eq(s_add(st, vid, id, "x", NULL), TW_OK);
            ck_assert_uint_le(writer_store_open_files(st), 4);
        }
    }
    ck_assert_int_eq(writer_store_sync(st, NULL), TW_OK);
    writer_store_destroy(&st);
    for (int i = 0; i < 10; i++) {
        char rel[256];
        snprintf(rel, sizeof rel, "comments/2026-03-10/%s/video%d.tsv", S_CH,
                 i);
        char *s = s_slurp(rel, NULL);
        ck_assert_ptr_nonnull(s);
        ck_assert_uint_eq(s_count_lines(s), 3);
        free(s);
    }
}
END_TEST

Suite *writer_store_suite(void)
{
    Suite *s = suite_create("writer_store");
    TCase *tc = tcase_create("store");
    tcase_set_timeout(tc, 10);
    tcase_add_checked_fixture(tc, s_setup, s_teardown);
    tcase_add_test(tc, test_header_once);
    tcase_add_test(tc, test_escaping_round_trip);
    tcase_add_test(tc, test_dedup_across_reopen);
    tcase_add_test(tc, test_replacement_supersedes);
    tcase_add_test(tc, test_dedup_after_midnight);
    tcase_add_test(tc, test_torn_line_repair);
    tcase_add_test(tc, test_day_partition_by_zone);
    tcase_add_test(tc, test_absent_is_not_zero);
    tcase_add_test(tc, test_hostile_ids_rejected);
    tcase_add_test(tc, test_full_disk_then_resume);
    tcase_add_test(tc, test_open_file_bound);
    tcase_add_test(tc, test_old_days_closed);
    suite_add_tcase(s, tc);
    return s;
}
