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

/* Starts a supervisor with writer, tokenizer and a producer given its
 * extra arguments; the worker programs are linked into the test dir (the
 * harness's libexec_dir). */
static void s_start(const char *producer_args, const char *data_mount_size)
{
    char prod[PATH_MAX];
    s_build_path(prod, sizeof prod, "tests/tw-test-producer");
    char workers[8192];
    snprintf(workers, sizeof workers,
             "[worker.writer]\n"
             "fsync_interval = \"0s\"\n"
             "[worker.tokenizer]\n"
             "after = [\"writer\"]\n"
             "[worker.producer]\n"
             "command = [\"%s\", %s]\n"
             "restart = \"transient\"\n"
             "after = [\"tokenizer\"]\n",
             prod, producer_args);
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
    ck_assert_int_eq(WEXITSTATUS(e2e_sup_stop(&s_t, 8000)), 0);
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

static bool s_writer_full(void *arg)
{
    (void)arg;
    char path[600];
    snprintf(path, sizeof path, "%s/logs/writer.log", s_t.dir);
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    char buf[4096];
    bool found = false;
    while (!found && fgets(buf, sizeof buf, f))
        found = strstr(buf, "holding frame") != NULL;
    fclose(f);
    return found;
}

START_TEST(test_disk_full_then_space_returns)
{
    if (geteuid() != 0) {
        printf("e2e_pipeline: disk-full test skipped (needs root to mount "
               "a small tmpfs)\n");
        return;
    }
    /* 4000 rows of ~250 bytes do not fit in 256 KiB. */
    s_start("\"--batches\", \"200\", \"--items\", \"20\"", "256k");
    ck_assert_msg(tw_test_wait_until(s_writer_full, NULL, 15000),
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
    suite_add_tcase(s, tc);
    return s;
}
