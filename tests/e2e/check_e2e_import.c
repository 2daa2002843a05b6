/* End-to-end tests of `tubewatch import` (docs/import.md): the real
 * tubewatchd runs tw-writer and tw-tokenizer; a saved yt-dlp chat file is
 * imported through them into DATA/comments like captured chat (text,
 * superchat, placeholder + replacement, deletion, tokens), a second import
 * adds nothing, and failures (no daemon, no tokenizer, a bad file, bad ids)
 * exit with their codes and store nothing. */
#include <check.h>
#include <glob.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tw_scan.h"
#include "e2e_sup.h"
#include "tw_file.h"
#include "tw_time.h"
#include "tw_tsv.h"

#define S_FIXTURE "tests/fixtures/youtube/import_ytdlp.live_chat.json"
#define S_VIDEO   "impVideo_01"
#define S_CHANNEL "UCimportChannel0000000ab"

static e2e_sup_t s_t;

static void s_teardown(void)
{
    if (s_t.pid > 0)
        e2e_sup_stop(&s_t, 8000);
    e2e_sup_cleanup(&s_t);
}

/* Absolute path of BUILD/rel. */
static void s_build_path(char *out, size_t cap, const char *rel)
{
    const char *build = getenv("BUILD");
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s/%s", build && *build ? build : "build", rel);
    if (!realpath(p, out))
        snprintf(out, cap, "%s", p);
}

/* Writes the config (writer, and the tokenizer when with_tokenizer) and
 * links the worker programs into the test dir (the libexec_dir). */
static void s_init(bool with_tokenizer)
{
    e2e_sup_init(&s_t, with_tokenizer ? "[worker.writer]\n"
                                        "fsync_interval = \"0s\"\n"
                                        "[worker.tokenizer]\n"
                                        "after = [\"writer\"]\n"
                                      : "[worker.writer]\n"
                                        "fsync_interval = \"0s\"\n");
    const char *kinds[] = {"writer", "tokenizer"};
    for (size_t i = 0; i < 2; i++) {
        char rel[64], target[PATH_MAX], link[600];
        snprintf(rel, sizeof rel, "libexec/tubewatch/tw-%s", kinds[i]);
        s_build_path(target, sizeof target, rel);
        snprintf(link, sizeof link, "%s/tw-%s", s_t.dir, kinds[i]);
        ck_assert_int_eq(symlink(target, link), 0);
    }
}

/* s_init, then tubewatchd, waiting until the pipeline runs. */
static void s_start(bool with_tokenizer)
{
    s_init(with_tokenizer);
    ck_assert(e2e_sup_start(&s_t));
    ck_assert(e2e_sup_wait_state(&s_t, "writer", "running", 5000));
    if (with_tokenizer)
        ck_assert(e2e_sup_wait_state(&s_t, "tokenizer", "running", 5000));
}

/* The CLI's output of its last run (stdout and stderr), owned. */
static char *s_cli_out(void)
{
    char p[600];
    snprintf(p, sizeof p, "%s/cli.out", s_t.dir);
    size_t len = 0;
    char *s = tw_test_slurp(p, &len);
    ck_assert_ptr_nonnull(s);
    return s;
}

/* Runs tubewatch import with args and returns its exit code. */
static int s_import(const char *const *args)
{
    const char *argv[16] = {"import"};
    size_t n = 1;
    for (size_t i = 0; args[i] && n < 15; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    return e2e_sup_cli(&s_t, argv);
}

/* Number of comments files (any day, channel, video). */
static size_t s_comments_files(void)
{
    char pat[600];
    snprintf(pat, sizeof pat, "%s/data/comments/*/*/*.tsv", s_t.dir);
    glob_t g;
    size_t n = glob(pat, 0, NULL, &g) == 0 ? g.gl_pathc : 0;
    globfree(&g);
    return n;
}

/* Contents of the one comments file of S_CHANNEL/S_VIDEO (owned). */
static char *s_comments(size_t *len)
{
    char pat[600];
    snprintf(pat, sizeof pat, "%s/data/comments/*/%s/%s.tsv", s_t.dir,
             S_CHANNEL, S_VIDEO);
    glob_t g;
    ck_assert_int_eq(glob(pat, 0, NULL, &g), 0);
    ck_assert_int_eq(g.gl_pathc, 1);
    char *s = tw_test_slurp(g.gl_pathv[0], len);
    globfree(&g);
    ck_assert_ptr_nonnull(s);
    return s;
}

/* One data row of the comments file, split into its 11 columns. */
typedef struct {
    char f[11][256]; /* unescaped enough for these fixtures: raw fields */
} s_row_t;

/* Splits the comments file into rows (header checked and skipped). */
static size_t s_rows(const char *data, size_t len, s_row_t *rows, size_t cap)
{
    size_t n = 0, line = 0;
    const char *p = data, *end = data + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        ck_assert_msg(nl != NULL, "torn last line");
        if (line++ == 0) {
            ck_assert(strncmp(p, "received_at\tpublished_at\t", 25) == 0);
        } else {
            ck_assert_uint_lt(n, cap);
            tw_tsv_field_t fl[12];
            size_t nf = tw_tsv_split(p, (size_t)(nl - p), fl, 12);
            ck_assert_int_eq(nf, 11);
            for (size_t i = 0; i < 11; i++)
                snprintf(rows[n].f[i], sizeof rows[n].f[i], "%.*s",
                         (int)fl[i].len, fl[i].ptr);
            n++;
        }
        p = nl + 1;
    }
    return n;
}

/* The row with message id and kind, or NULL. */
static const s_row_t *s_find(const s_row_t *rows, size_t n, const char *id,
                             const char *kind)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(rows[i].f[4], id) == 0 && strcmp(rows[i].f[5], kind) == 0)
            return &rows[i];
    return NULL;
}

/* True when the space-separated tokens hold tok. */
static bool s_has_token(const char *tokens, const char *tok)
{
    size_t n = strlen(tok);
    for (const char *p = tokens; *p;) {
        size_t w = strcspn(p, " ");
        if (w == n && strncmp(p, tok, n) == 0)
            return true;
        p += w;
        p += *p == ' ';
    }
    return false;
}

START_TEST(test_import_stores_like_chat_and_twice_adds_nothing)
{
    s_start(true);
    int64_t t0 = tw_time_now_us();
    const char *args[] = {S_FIXTURE,   "--video", S_VIDEO,
                          "--channel", S_CHANNEL, NULL};
    int code = s_import(args);
    char *out = s_cli_out();
    ck_assert_msg(code == 0, "import exited %d: %s", code, out);
    ck_assert_msg(strstr(out,
                         S_FIXTURE ": 8 items read, 7 sent (deletions: 1), "
                                   "1 skipped; all durable\n"),
                  "summary: %s", out);
    free(out);
    int64_t t1 = tw_time_now_us();

    /* Acked durable means on disk now: no waiting. */
    size_t len = 0;
    char *data = s_comments(&len);
    s_row_t rows[16];
    size_t n = s_rows(data, len, rows, 16);
    /* text, superchat, placeholder, its replacement, spam, its deletion;
     * the repeated record and the ban are not rows */
    ck_assert_uint_eq(n, 6);
    for (size_t i = 0; i < n; i++) {
        ck_assert_str_eq(rows[i].f[2], S_CHANNEL);
        ck_assert_str_eq(rows[i].f[3], S_VIDEO);
        int64_t recv = 0;
        ck_assert_int_eq(tw_time_parse(rows[i].f[0], &recv, NULL), TW_OK);
        ck_assert_msg(recv >= t0 - 1000000 && recv <= t1,
                      "received_at %s is not the import time", rows[i].f[0]);
    }
    const s_row_t *r = s_find(rows, n, "imp-text-1", "text");
    ck_assert_ptr_nonnull(r);
    ck_assert_str_eq(r->f[1], "2026-01-01T10:00:01.000000Z");
    ck_assert_str_eq(r->f[6], "UCimportAuthorChan000100");
    ck_assert_str_eq(r->f[7], "Alice");
    ck_assert_str_eq(r->f[9], "Hello tubewatch import world");
    ck_assert_msg(s_has_token(r->f[10], "tubewatch") &&
                      s_has_token(r->f[10], "import"),
                  "tokens: %s", r->f[10]);

    r = s_find(rows, n, "imp-sc-1", "superchat");
    ck_assert_ptr_nonnull(r);
    ck_assert_str_eq(r->f[8], "$5.00");
    ck_assert(strncmp(r->f[9], "Great stream, thanks", 20) == 0);
    ck_assert_msg(s_has_token(r->f[10], "stream"), "tokens: %s", r->f[10]);

    r = s_find(rows, n, "imp-ph-1", "other");
    ck_assert_ptr_nonnull(r);
    ck_assert_str_eq(r->f[9], "");
    const s_row_t *rep = s_find(rows, n, "imp-ph-1", "text");
    ck_assert_ptr_nonnull(rep);
    ck_assert_msg(rep > r, "the replacement must follow its placeholder");
    ck_assert_str_eq(rep->f[7], "Carol");
    ck_assert_str_eq(rep->f[9], "The message behind the placeholder");
    ck_assert(s_has_token(rep->f[10], "placeholder"));

    ck_assert_ptr_nonnull(s_find(rows, n, "imp-text-2", "text"));
    r = s_find(rows, n, "imp-text-2", "deleted");
    ck_assert_ptr_nonnull(r);
    ck_assert_str_eq(r->f[9], "");
    ck_assert_str_eq(r->f[10], "");

    /* Again, this time with the channel from the scanner's stream table:
     * the writer knows every id, nothing is added. */
    char dir[600], path[700];
    snprintf(dir, sizeof dir, "%s/state/scanner", s_t.dir);
    ck_assert_int_eq(tw_file_mkdirs(dir, 0700, NULL), TW_OK);
    snprintf(path, sizeof path, "%s/streams.tsv", dir);
    tw_scan_stream_t st = {.state = TW_SCAN_ST_VIDEO};
    snprintf(st.video_id, sizeof st.video_id, "%s", S_VIDEO);
    snprintf(st.channel_id, sizeof st.channel_id, "%s", S_CHANNEL);
    ck_assert_int_eq(tw_scan_streams_save(path, &st, 1, NULL), TW_OK);
    const char *again[] = {"--video", S_VIDEO, S_FIXTURE, NULL};
    code = s_import(again);
    out = s_cli_out();
    ck_assert_msg(code == 0, "second import exited %d: %s", code, out);
    free(out);
    size_t len2 = 0;
    char *data2 = s_comments(&len2);
    ck_assert_uint_eq(len2, len);
    ck_assert(memcmp(data, data2, len) == 0);
    ck_assert_uint_eq(s_comments_files(), 1);
    free(data);
    free(data2);
    e2e_sup_stop_checked(&s_t);
}
END_TEST

START_TEST(test_no_daemon_exits_111)
{
    s_init(true);
    const char *args[] = {S_FIXTURE,   "--video", S_VIDEO,
                          "--channel", S_CHANNEL, NULL};
    ck_assert_int_eq(s_import(args), 111);
    char *out = s_cli_out();
    ck_assert_msg(strstr(out, "tubewatchd is not reachable") &&
                      strstr(out, "nothing imported"),
                  "%s", out);
    free(out);
    ck_assert_uint_eq(s_comments_files(), 0);
}
END_TEST

START_TEST(test_no_tokenizer_exits_111)
{
    s_start(false);
    const char *args[] = {S_FIXTURE,   "--video", S_VIDEO,
                          "--channel", S_CHANNEL, NULL};
    ck_assert_int_eq(s_import(args), 111);
    char *out = s_cli_out();
    ck_assert_msg(strstr(out, "the tokenizer is not running"), "%s", out);
    free(out);
    ck_assert_uint_eq(s_comments_files(), 0);
}
END_TEST

START_TEST(test_bad_input_exits_100_and_stores_nothing)
{
    s_start(true);
    char bad[600];
    snprintf(bad, sizeof bad, "%s/bad.live_chat.json", s_t.dir);
    FILE *f = fopen(bad, "w");
    ck_assert_ptr_nonnull(f);
    fputs("{\"replayChatItemAction\":{\"actions\":[]}}\n{\"replayChat", f);
    fclose(f);
    /* a good file before the bad one is not stored either */
    const char *args[] = {S_FIXTURE,   bad,       "--video", S_VIDEO,
                          "--channel", S_CHANNEL, NULL};
    ck_assert_int_eq(s_import(args), 100);
    char *out = s_cli_out();
    ck_assert_msg(strstr(out, "bad.live_chat.json") &&
                      strstr(out, "nothing imported"),
                  "%s", out);
    free(out);
    const char *missing[] = {"/nonexistent/chat.json",
                             "--video",
                             S_VIDEO,
                             "--channel",
                             S_CHANNEL,
                             NULL};
    ck_assert_int_eq(s_import(missing), 100);
    const char *badvid[] = {S_FIXTURE,   "--video", "short",
                            "--channel", S_CHANNEL, NULL};
    ck_assert_int_eq(s_import(badvid), 100);
    const char *badchan[] = {
        S_FIXTURE, "--video", S_VIDEO, "--channel", "UC../../etc/passwd0000000",
        NULL};
    ck_assert_int_eq(s_import(badchan), 100);
    /* not in the stream table and no --channel */
    const char *nochan[] = {S_FIXTURE, "--video", S_VIDEO, NULL};
    ck_assert_int_eq(s_import(nochan), 100);
    out = s_cli_out();
    ck_assert_msg(strstr(out, "give --channel"), "%s", out);
    free(out);
    const char *nofile[] = {"--video", S_VIDEO, NULL};
    ck_assert_int_eq(s_import(nofile), 100);
    ck_assert_uint_eq(s_comments_files(), 0);
    e2e_sup_stop_checked(&s_t);
}
END_TEST

Suite *e2e_import_suite(void)
{
    Suite *s = suite_create("e2e_import");
    TCase *tc = tcase_create("import");
    tcase_set_timeout(tc, 60);
    tcase_add_checked_fixture(tc, NULL, s_teardown);
    tcase_add_test(tc, test_import_stores_like_chat_and_twice_adds_nothing);
    tcase_add_test(tc, test_no_daemon_exits_111);
    tcase_add_test(tc, test_no_tokenizer_exits_111);
    tcase_add_test(tc, test_bad_input_exits_100_and_stores_nothing);
    suite_add_tcase(s, tc);
    return s;
}
