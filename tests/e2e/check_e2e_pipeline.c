/* End-to-end tests of the chat pipeline (docs/pipeline.md): the real
 * tubewatchd runs tw-writer, tw-tokenizer and tw-test-producer (a journaled
 * chat@-like source); the comments file must hold every produced message
 * exactly once, with its text, whatever gets killed, and nothing may be lost
 * while the disk is full. */
#include <check.h>
#include <errno.h>
#include <glob.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "e2e_sup.h"
#include "tw_buf.h"
#include "tw_tsv.h"

static e2e_sup_t s_t;
static bool s_mounted;
static char s_mnt[400];

static void s_teardown(void)
{
    if (s_t.pid > 0)
        e2e_sup_stop(&s_t, 8000);
    if (s_mounted) {
        umount2(s_mnt, MNT_DETACH);
        s_mounted = false;
    }
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

/* Starts a supervisor with writer (writer_toml: its settings), tokenizer,
 * a producer given its extra arguments, and a second producer "sampler"
 * when sampler_args is not NULL; the worker programs are linked into the
 * test dir (the harness's libexec_dir). */
static void s_start2(const char *writer_toml, const char *producer_args,
                     const char *sampler_args, const char *data_mount_size)
{
    char prod[PATH_MAX];
    s_build_path(prod, sizeof prod, "tests/tw-test-producer");
    char workers[8192];
    int n = snprintf(workers, sizeof workers,
                     "[worker.writer]\n"
                     "%s\n"
                     "[worker.tokenizer]\n"
                     "after = [\"writer\"]\n"
                     "[worker.producer]\n"
                     "command = [\"%s\", %s]\n"
                     "restart = \"transient\"\n"
                     "after = [\"tokenizer\"]\n",
                     writer_toml, prod, producer_args);
    if (sampler_args)
        snprintf(workers + n, sizeof workers - (size_t)n,
                 "[worker.sampler]\n"
                 "command = [\"%s\", %s]\n"
                 "restart = \"transient\"\n"
                 "after = [\"writer\"]\n",
                 prod, sampler_args);
    e2e_sup_init(&s_t, workers);
    const char *kinds[] = {"writer", "tokenizer"};
    for (size_t i = 0; i < 2; i++) {
        char rel[64], target[PATH_MAX], link[600];
        snprintf(rel, sizeof rel, "libexec/tubewatch/tw-%s", kinds[i]);
        s_build_path(target, sizeof target, rel);
        snprintf(link, sizeof link, "%s/tw-%s", s_t.dir, kinds[i]);
        ck_assert_int_eq(symlink(target, link), 0);
    }
    if (data_mount_size) {
        snprintf(s_mnt, sizeof s_mnt, "%s/data", s_t.dir);
        ck_assert_int_eq(mkdir(s_mnt, 0700), 0);
        char opts[64];
        snprintf(opts, sizeof opts, "size=%s,mode=0700", data_mount_size);
        ck_assert_msg(mount("tmpfs", s_mnt, "tmpfs", 0, opts) == 0,
                      "mount tmpfs: %s", strerror(errno));
        s_mounted = true;
    }
    ck_assert(e2e_sup_start(&s_t));
}

/* s_start2 with the default writer and no sampler. */
static void s_start(const char *producer_args, const char *data_mount_size)
{
    s_start2("fsync_interval = \"0s\"", producer_args, NULL, data_mount_size);
}

/* Path of the one comments file, or "" when there is none yet. */
static void s_comments_path(char *out, size_t cap)
{
    char pat[600];
    snprintf(pat, sizeof pat, "%s/data/comments/*/*/*.tsv", s_t.dir);
    glob_t g;
    out[0] = '\0';
    if (glob(pat, 0, NULL, &g) == 0) {
        ck_assert_int_eq(g.gl_pathc, 1);
        snprintf(out, cap, "%s", g.gl_pathv[0]);
    }
    globfree(&g);
}

/* Lines in the comments file (header included); 0 when absent. */
static long s_lines(void)
{
    char path[PATH_MAX];
    s_comments_path(path, sizeof path);
    if (!path[0])
        return 0;
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    long n = 0;
    int c;
    while ((c = getc(f)) != EOF)
        if (c == '\n')
            n++;
    fclose(f);
    return n;
}

static int s_cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Reads lines of f into a sorted array (newlines stripped). */
static char **s_read_sorted(FILE *f, size_t *n_out)
{
    char **v = NULL;
    size_t n = 0, cap = 0;
    char *line = NULL;
    size_t lcap = 0;
    ssize_t len;
    while ((len = getline(&line, &lcap, f)) > 0) {
        if (line[len - 1] == '\n')
            line[len - 1] = '\0';
        if (n == cap) {
            cap = cap ? cap * 2 : 1024;
            v = realloc(v, cap * sizeof *v);
            ck_assert_ptr_nonnull(v);
        }
        v[n++] = strdup(line);
    }
    free(line);
    qsort(v, n, sizeof *v, s_cmp_str);
    *n_out = n;
    return v;
}

static void s_free_lines(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

/* Asserts the comments file holds exactly the producer's batches x items
 * messages: "message_id\ttext" of every row equal to the producer's
 * --print output (so each id once, text equal), one header line. */
static void s_assert_exactly_once(long batches, long items)
{
    char prod[PATH_MAX], cmd[PATH_MAX + 64];
    s_build_path(prod, sizeof prod, "tests/tw-test-producer");
    snprintf(cmd, sizeof cmd, "'%s' --print %ld %ld", prod, batches, items);
    FILE *p = popen(cmd, "r");
    ck_assert_ptr_nonnull(p);
    size_t n_want = 0;
    char **want = s_read_sorted(p, &n_want);
    ck_assert_int_eq(pclose(p), 0);
    ck_assert_int_eq(n_want, (size_t)(batches * items));

    char path[PATH_MAX];
    s_comments_path(path, sizeof path);
    ck_assert_msg(path[0], "no comments file");
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    char tmp[] = "/tmp/tw-e2e-pipe-XXXXXX";
    int fd = mkstemp(tmp);
    ck_assert_int_ge(fd, 0);
    FILE *out = fdopen(fd, "w+");
    char *line = NULL;
    size_t lcap = 0;
    ssize_t len;
    long row = 0;
    while ((len = getline(&line, &lcap, f)) > 0) {
        ck_assert_msg(line[len - 1] == '\n', "torn last line");
        if (row++ == 0) {
            ck_assert(strncmp(line, "received_at\t", 12) == 0);
            continue;
        }
        tw_tsv_field_t fl[12];
        size_t nf = tw_tsv_split(line, (size_t)len, fl, 12);
        ck_assert_int_eq(nf, 11);
        fprintf(out, "%.*s\t%.*s\n", (int)fl[4].len, fl[4].ptr, (int)fl[9].len,
                fl[9].ptr);
    }
    free(line);
    fclose(f);
    rewind(out);
    size_t n_got = 0;
    char **got = s_read_sorted(out, &n_got);
    fclose(out);
    unlink(tmp);
    for (size_t i = 1; i < n_got; i++) {
        size_t a = strcspn(got[i - 1], "\t"), b = strcspn(got[i], "\t");
        ck_assert_msg(a != b || strncmp(got[i - 1], got[i], a) != 0,
                      "message stored twice: %s", got[i]);
    }
    ck_assert_int_eq(n_got, n_want);
    for (size_t i = 0; i < n_want; i++)
        ck_assert_str_eq(got[i], want[i]);
    s_free_lines(want, n_want);
    s_free_lines(got, n_got);
}

typedef struct {
    long want; /* lines wanted */
} s_lines_t;

static bool s_has_lines(void *arg)
{
    return s_lines() >= ((s_lines_t *)arg)->want;
}

/* Waits until the producer finished (all acked) and the file is whole. */
static void s_wait_done(long batches, long items, int timeout_ms)
{
    ck_assert_msg(e2e_sup_wait_state(&s_t, "producer", "exited", timeout_ms),
                  "producer did not finish");
    s_lines_t l = {batches * items + 1};
    ck_assert(tw_test_wait_until(s_has_lines, &l, 5000));
}

START_TEST(test_exactly_once)
{
    s_start("\"--batches\", \"300\", \"--items\", \"20\"", NULL);
    s_wait_done(300, 20, 20000);
    s_assert_exactly_once(300, 20);
    /* A clean stop leaves the same file. */
    e2e_sup_stop_checked(&s_t);
    s_assert_exactly_once(300, 20);
}
END_TEST

/* Sleeps ms (pacing the kills; the assertions wait on conditions). */
static void s_pause_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

START_TEST(test_kill9_mid_stream)
{
    s_start("\"--batches\", \"600\", \"--items\", \"10\", \"--rate\", \"200\"",
            NULL);
    ck_assert(e2e_sup_wait_state(&s_t, "producer", "running", 5000));
    const char *victims[] = {"writer",    "tokenizer", "producer", "writer",
                             "tokenizer", "writer",    "producer", "tokenizer"};
    int kills = 0;
    for (size_t i = 0; i < sizeof victims / sizeof *victims; i++) {
        s_pause_ms(250);
        if (s_lines() > 600 * 10)
            break;
        pid_t pid = e2e_sup_pid(&s_t, victims[i]);
        if (pid > 0 && kill(pid, SIGKILL) == 0)
            kills++;
        e2e_sup_wait_state(&s_t, victims[i], "running", 3000);
    }
    ck_assert_int_ge(kills, 4);
    s_wait_done(600, 10, 40000);
    s_assert_exactly_once(600, 10);
    e2e_sup_stop_checked(&s_t);
}
END_TEST

/* Size of the comments file. */
static long s_size(void)
{
    char path[PATH_MAX];
    s_comments_path(path, sizeof path);
    struct stat st;
    return path[0] && stat(path, &st) == 0 ? (long)st.st_size : 0;
}

typedef struct {
    const char *worker; /* log of this worker */
    const char *text;   /* line content looked for */
    int n;              /* at least this many lines */
} s_log_t;

static bool s_log_has(void *arg)
{
    const s_log_t *l = arg;
    char path[600];
    snprintf(path, sizeof path, "%s/logs/%s.log", s_t.dir, l->worker);
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    char buf[4096];
    int n = 0;
    while (fgets(buf, sizeof buf, f))
        n += strstr(buf, l->text) != NULL;
    fclose(f);
    return n >= l->n;
}

START_TEST(test_disk_full_then_space_returns)
{
    if (geteuid() != 0) {
        tw_test_skip("the disk-full test needs root to mount a small tmpfs");
        return;
    }
    /* 4000 rows of ~250 bytes do not fit in 256 KiB. */
    s_start("\"--batches\", \"200\", \"--items\", \"20\"", "256k");
    s_log_t full = {"writer", "holding frame", 1};
    ck_assert_msg(tw_test_wait_until(s_log_has, &full, 15000),
                  "the writer never reported a full disk");
    long size = s_size();
    s_pause_ms(1500);
    ck_assert_int_eq(s_size(), size); /* no torn growth while full */
    json_t *o = e2e_sup_worker(&s_t, "producer");
    ck_assert_ptr_nonnull(o);
    ck_assert_str_eq(json_string_value(json_object_get(o, "state")),
                     "running"); /* not everything acked */
    json_decref(o);
    pid_t wpid = e2e_sup_pid(&s_t, "writer");
    ck_assert_int_gt(wpid, 0);
    ck_assert_msg(mount("tmpfs", s_mnt, "tmpfs", MS_REMOUNT, "size=16m") == 0,
                  "remount: %s", strerror(errno));
    s_wait_done(200, 20, 20000);
    ck_assert_int_eq(e2e_sup_pid(&s_t, "writer"), wpid); /* no restart */
    s_assert_exactly_once(200, 20);
    e2e_sup_stop_checked(&s_t);
}
END_TEST

/* Lines of the files matching DIR/data/PATTERN (headers included). */
static long s_glob_lines(const char *pattern)
{
    char pat[600];
    snprintf(pat, sizeof pat, "%s/data/%s", s_t.dir, pattern);
    glob_t g;
    long n = 0;
    if (glob(pat, 0, NULL, &g) == 0) {
        for (size_t i = 0; i < g.gl_pathc; i++) {
            FILE *f = fopen(g.gl_pathv[i], "r");
            ck_assert_ptr_nonnull(f);
            int c;
            while ((c = getc(f)) != EOF)
                n += c == '\n';
            fclose(f);
        }
    }
    globfree(&g);
    return n;
}

/* Counts comments rows whose kind (column 6) is "deleted" and checks
 * that each names the item before it as deleted. */
static long s_deleted_rows(void)
{
    char path[PATH_MAX];
    s_comments_path(path, sizeof path);
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    char line[8192];
    long n = 0;
    while (fgets(line, sizeof line, f)) {
        tw_tsv_field_t fl[12];
        size_t nf = tw_tsv_split(line, strlen(line), fl, 12);
        ck_assert_int_eq(nf, 11);
        if (fl[5].len == 7 && memcmp(fl[5].ptr, "deleted", 7) == 0) {
            /* VID-bB-iI deletes VID-bB-i(I-1): I = 4, 9, ... */
            ck_assert(fl[4].len > 2);
            char last = fl[4].ptr[fl[4].len - 1];
            ck_assert(last == '3' || last == '8');
            ck_assert_int_eq(fl[9].len, 0);
            n++;
        }
    }
    fclose(f);
    return n;
}

START_TEST(test_stats_deletions_jsonl_interval)
{
    s_start2("fsync_interval = \"200ms\"\nformats = [\"tsv\", \"jsonl\"]",
             "\"--batches\", \"20\", \"--items\", \"10\", "
             "\"--deleted\", \"5\"",
             "\"--samples\", \"--batches\", \"60\", \"--to\", "
             "\"writer\"",
             NULL);
    ck_assert(e2e_sup_wait_state(&s_t, "sampler", "exited", 20000));
    s_wait_done(20, 10, 20000);
    /* 200 chat rows of which 40 deletions; jsonl twin without header */
    ck_assert_int_eq(s_lines(), 201);
    ck_assert_int_eq(s_deleted_rows(), 40);
    ck_assert_int_eq(s_glob_lines("comments/*/*/*.jsonl"), 200);
    /* samples 0..59: viewers when even (30), stats when n % 3 != 0 (40) */
    ck_assert_int_eq(s_glob_lines("viewers/*/*/*.tsv"), 31);
    ck_assert_int_eq(s_glob_lines("stats/*/*.tsv"), 41);
    ck_assert_int_eq(s_glob_lines("stats/*/*.jsonl"), 40);
    /* a restarted writer rebuilds its index: the sampler sending all 60
     * samples again (checkpoint removed) stores nothing twice */
    pid_t wpid = e2e_sup_pid(&s_t, "writer");
    ck_assert_int_eq(kill(wpid, SIGKILL), 0);
    ck_assert(e2e_wait_dead(wpid, 5000));
    char ckpt[600];
    snprintf(ckpt, sizeof ckpt, "%s/state/sampler/next", s_t.dir);
    ck_assert_int_eq(unlink(ckpt), 0);
    const char *restart[] = {"restart", "sampler", NULL};
    ck_assert_int_eq(e2e_sup_cli(&s_t, restart), 0);
    ck_assert(e2e_sup_wait_state(&s_t, "writer", "running", 5000));
    s_log_t l = {"sampler", "all 60 batches acked", 2};
    ck_assert(tw_test_wait_until(s_log_has, &l, 20000));
    ck_assert_int_eq(s_glob_lines("viewers/*/*/*.tsv"), 31);
    ck_assert_int_eq(s_glob_lines("stats/*/*.tsv"), 41);
    e2e_sup_stop_checked(&s_t);
}
END_TEST

START_TEST(test_hostile_ids_are_acked_not_stored)
{
    /* a video id that would escape DATA: refused, logged, acked */
    s_start("\"--batches\", \"30\", \"--items\", \"5\", \"--video\", "
            "\"../../etc\"",
            NULL);
    ck_assert_msg(e2e_sup_wait_state(&s_t, "producer", "exited", 20000),
                  "refused frames were never acked");
    s_log_t l = {"writer", "dropped invalid chat item", 1};
    ck_assert(tw_test_wait_until(s_log_has, &l, 5000));
    ck_assert_int_eq(s_glob_lines("comments/*/*/*.tsv"), 0);
    char esc[600];
    snprintf(esc, sizeof esc, "%s/etc", s_t.dir);
    ck_assert_int_ne(access(esc, F_OK), 0);
    e2e_sup_stop_checked(&s_t);
}
END_TEST

Suite *e2e_pipeline_suite(void)
{
    Suite *s = suite_create("e2e_pipeline");
    TCase *tc = tcase_create("pipeline");
    tcase_set_timeout(tc, 60);
    tcase_add_checked_fixture(tc, NULL, s_teardown);
    tcase_add_test(tc, test_exactly_once);
    tcase_add_test(tc, test_kill9_mid_stream);
    tcase_add_test(tc, test_disk_full_then_space_returns);
    tcase_add_test(tc, test_stats_deletions_jsonl_interval);
    tcase_add_test(tc, test_hostile_ids_are_acked_not_stored);
    suite_add_tcase(s, tc);
    return s;
}
