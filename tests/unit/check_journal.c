/* Unit tests of tw_journal: append and replay, torn tail repair, trimming
 * and compaction, locking. */
#include <check.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tw_journal.h"

static char s_dir[256];
static char s_path[300];

static void s_setup(void)
{
    snprintf(s_dir, sizeof s_dir, "/tmp/tw-journal-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(s_dir));
    snprintf(s_path, sizeof s_path, "%s/chat.journal", s_dir);
}

static void s_teardown(void)
{
    char tmp[320];
    unlink(s_path);
    snprintf(tmp, sizeof tmp, "%s.tmp", s_path);
    unlink(tmp);
    rmdir(s_dir);
}

/* Collected records of a replay. */
typedef struct {
    uint64_t ids[4096];  /* record ids */
    char data[4096][32]; /* payloads, NUL-terminated (truncated) */
    size_t n;            /* records seen */
} s_seen_t;

static tw_rc_t s_collect(void *arg, uint64_t id, const void *data, size_t len)
{
    s_seen_t *s = arg;
    ck_assert_uint_lt(s->n, 4096);
    s->ids[s->n] = id;
    size_t k = len < 31 ? len : 31;
    memcpy(s->data[s->n], data, k);
    s->data[s->n][k] = '\0';
    s->n++;
    return TW_OK;
}

static s_seen_t *s_replay(tw_journal_t *j)
{
    s_seen_t *s = calloc(1, sizeof *s);
    ck_assert_ptr_nonnull(s);
    ck_assert_int_eq(tw_journal_foreach(j, s_collect, s, NULL), TW_OK);
    return s;
}

static uint64_t s_append(tw_journal_t *j, const char *text)
{
    uint64_t id = 0;
    tw_err_t err;
    tw_rc_t rc = tw_journal_append(j, text, strlen(text), &id, &err);
    ck_assert_msg(rc == TW_OK, "%s", err.msg);
    return id;
}

static uint64_t s_file_size(void)
{
    struct stat st;
    ck_assert_int_eq(stat(s_path, &st), 0);
    return (uint64_t)st.st_size;
}

START_TEST(test_crc32_known_value)
{
    /* The standard check value of CRC-32/IEEE. */
    ck_assert_uint_eq(tw_journal_crc32(0, "123456789", 9), 0xcbf43926u);
    uint32_t c = tw_journal_crc32(0, "12345", 5);
    ck_assert_uint_eq(tw_journal_crc32(c, "6789", 4), 0xcbf43926u);
}
END_TEST

START_TEST(test_append_and_replay)
{
    tw_journal_t *j = NULL;
    tw_err_t err;
    ck_assert_int_eq(tw_journal_open(&j, s_path, &err), TW_OK);
    ck_assert_uint_eq(tw_journal_count(j), 0);
    ck_assert_uint_eq(s_append(j, "one"), 1);
    ck_assert_uint_eq(s_append(j, "two"), 2);
    ck_assert_uint_eq(s_append(j, ""), 3);
    ck_assert_uint_eq(tw_journal_count(j), 3);
    tw_journal_destroy(&j);
    ck_assert_ptr_null(j);
    tw_journal_destroy(&j);

    struct stat st;
    ck_assert_int_eq(stat(s_path, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0600);

    ck_assert_int_eq(tw_journal_open(&j, s_path, &err), TW_OK);
    ck_assert_uint_eq(tw_journal_repaired(j), 0);
    s_seen_t *s = s_replay(j);
    ck_assert_uint_eq(s->n, 3);
    ck_assert_uint_eq(s->ids[0], 1);
    ck_assert_str_eq(s->data[0], "one");
    ck_assert_str_eq(s->data[1], "two");
    ck_assert_str_eq(s->data[2], "");
    ck_assert_uint_eq(s_append(j, "four"), 4);
    free(s);
    tw_journal_destroy(&j);
}
END_TEST

START_TEST(test_second_open_refused)
{
    tw_journal_t *a = NULL, *b = NULL;
    ck_assert_int_eq(tw_journal_open(&a, s_path, NULL), TW_OK);
    tw_err_t err;
    ck_assert_int_eq(tw_journal_open(&b, s_path, &err), TW_ERR_STATE);
    ck_assert_ptr_null(b);
    ck_assert_ptr_nonnull(strstr(err.msg, "in use"));
    tw_journal_destroy(&a);
    ck_assert_int_eq(tw_journal_open(&b, s_path, NULL), TW_OK);
    tw_journal_destroy(&b);

    ck_assert_int_eq(tw_journal_open(&a, "/nonexistent-dir/x.journal", &err),
                     TW_ERR_IO);
}
END_TEST

START_TEST(test_torn_tail_truncated)
{
    tw_journal_t *j = NULL;
    ck_assert_int_eq(tw_journal_open(&j, s_path, NULL), TW_OK);
    s_append(j, "alpha");
    s_append(j, "beta");
    uint64_t good = tw_journal_size(j);
    s_append(j, "gamma-is-longer");
    uint64_t full = tw_journal_size(j);
    tw_journal_destroy(&j);

    /* Every cut inside the last record loses only that record. */
    for (uint64_t cut = good + 1; cut < full; cut++) {
        ck_assert_int_eq(truncate(s_path, (off_t)cut), 0);
        ck_assert_int_eq(tw_journal_open(&j, s_path, NULL), TW_OK);
        ck_assert_uint_eq(tw_journal_repaired(j), cut - good);
        ck_assert_uint_eq(tw_journal_count(j), 2);
        ck_assert_uint_eq(s_file_size(), good);
        tw_journal_destroy(&j);
    }

    /* The journal goes on after a repair; ids do not repeat. */
    ck_assert_int_eq(tw_journal_open(&j, s_path, NULL), TW_OK);
    ck_assert_uint_eq(s_append(j, "delta"), 3);
    tw_journal_destroy(&j);
    ck_assert_int_eq(tw_journal_open(&j, s_path, NULL), TW_OK);
    s_seen_t *s = s_replay(j);
    ck_assert_uint_eq(s->n, 3);
    ck_assert_str_eq(s->data[2], "delta");
    free(s);
    tw_journal_destroy(&j);
}
END_TEST

START_TEST(test_bad_crc_and_garbage_truncated)
{
    tw_journal_t *j = NULL;
    ck_assert_int_eq(tw_journal_open(&j, s_path, NULL), TW_OK);
    s_append(j, "alpha");
    uint64_t good = tw_journal_size(j);
    s_append(j, "beta");
    uint64_t full = tw_journal_size(j);
    tw_journal_destroy(&j);

    /* Flip a payload byte of the last record. */
    int fd = open(s_path, O_RDWR);
    ck_assert_int_ge(fd, 0);
    char c = 'X';
    ck_assert_int_eq(pwrite(fd, &c, 1, (off_t)full - 1), 1);
    close(fd);
    ck_assert_int_eq(tw_journal_open(&j, s_path, NULL), TW_OK);
    ck_assert_uint_eq(tw_journal_count(j), 1);
    ck_assert_uint_eq(tw_journal_repaired(j), full - good);
    tw_journal_destroy(&j);

    /* Garbage after valid records, including a huge length. */
    fd = open(s_path, O_WRONLY | O_APPEND);
    ck_assert_int_ge(fd, 0);
    static const unsigned char junk[] = {0xff, 0xff, 0xff, 0x7f, 1, 2, 3,
                                         4,    5,    6,    7,    8, 9};
    ck_assert_int_eq(write(fd, junk, sizeof junk), (ssize_t)sizeof junk);
    close(fd);
    ck_assert_int_eq(tw_journal_open(&j, s_path, NULL), TW_OK);
    ck_assert_uint_eq(tw_journal_count(j), 1);
    ck_assert_uint_eq(tw_journal_repaired(j), sizeof junk);
    ck_assert_uint_eq(s_file_size(), good);
    tw_journal_destroy(&j);
}
END_TEST

START_TEST(test_trim_and_replay)
{
    tw_journal_t *j = NULL;
    ck_assert_int_eq(tw_journal_open(&j, s_path, NULL), TW_OK);
    for (int i = 0; i < 5; i++) {
        char b[16];
        snprintf(b, sizeof b, "r%d", i + 1);
        s_append(j, b);
    }
    ck_assert_int_eq(tw_journal_trim(j, 3, NULL), TW_OK);
    ck_assert_uint_eq(tw_journal_count(j), 2);
    ck_assert_int_eq(tw_journal_trim(j, 2, NULL), TW_OK); /* no going back */
    ck_assert_uint_eq(tw_journal_count(j), 2);
    s_seen_t *s = s_replay(j);
    ck_assert_uint_eq(s->n, 2);
    ck_assert_uint_eq(s->ids[0], 4);
    ck_assert_str_eq(s->data[1], "r5");
    free(s);
    tw_journal_destroy(&j);

    ck_assert_int_eq(tw_journal_open(&j, s_path, NULL), TW_OK);
    s = s_replay(j);
    ck_assert_uint_eq(s->n, 2);
    ck_assert_uint_eq(s->ids[0], 4);
    free(s);
    /* Trimming past the end trims everything, not future records. */
    ck_assert_int_eq(tw_journal_trim(j, 1000, NULL), TW_OK);
    ck_assert_uint_eq(tw_journal_count(j), 0);
    ck_assert_uint_eq(s_append(j, "r6"), 6);
    ck_assert_uint_eq(tw_journal_count(j), 1);
    tw_journal_destroy(&j);
}
END_TEST

/* A trim whose record cannot be written (past a file size limit) fails,
 * and the same trim tried again writes it: after a reopen the trimmed
 * records stay gone. (It used to count as done in memory, so the retry
 * wrote nothing and a restart replayed them.) */
START_TEST(test_failed_trim_written_on_retry)
{
    tw_journal_t *j = NULL;
    ck_assert_int_eq(tw_journal_open(&j, s_path, NULL), TW_OK);
    s_append(j, "r1");
    s_append(j, "r2");
    struct rlimit old;
    int lim = tw_test_limit_fsize(0, &old);
    tw_rc_t rc = tw_journal_trim(j, 1, NULL);
    tw_test_limit_restore(RLIMIT_FSIZE, &old);
    ck_assert_int_eq(lim, 0);
    ck_assert_int_eq(rc, TW_ERR_IO);
    ck_assert_int_eq(tw_journal_trim(j, 1, NULL), TW_OK);
    tw_journal_destroy(&j);
    ck_assert_int_eq(tw_journal_open(&j, s_path, NULL), TW_OK);
    s_seen_t *s = s_replay(j);
    ck_assert_uint_eq(s->n, 1);
    ck_assert_uint_eq(s->ids[0], 2);
    free(s);
    tw_journal_destroy(&j);
}
END_TEST

START_TEST(test_compaction_bounds_size)
{
    tw_journal_t *j = NULL;
    ck_assert_int_eq(tw_journal_open(&j, s_path, NULL), TW_OK);
    char payload[1000];
    memset(payload, 'p', sizeof payload);
    uint64_t maxsize = 0;
    /* A sender that keeps ~3 records unacked: the file stays small. */
    for (int i = 1; i <= 400; i++) {
        uint64_t id = 0;
        ck_assert_int_eq(
            tw_journal_append(j, payload, sizeof payload, &id, NULL), TW_OK);
        ck_assert_uint_eq(id, (uint64_t)i);
        if (i > 3)
            ck_assert_int_eq(tw_journal_trim(j, id - 3, NULL), TW_OK);
        if (tw_journal_size(j) > maxsize)
            maxsize = tw_journal_size(j);
    }
    ck_assert_uint_lt(maxsize, 80 * 1024);
    ck_assert_uint_eq(tw_journal_count(j), 3);
    ck_assert_uint_eq(tw_journal_size(j), s_file_size());
    tw_journal_destroy(&j);

    ck_assert_int_eq(tw_journal_open(&j, s_path, NULL), TW_OK);
    ck_assert_uint_eq(tw_journal_repaired(j), 0);
    s_seen_t *s = s_replay(j);
    ck_assert_uint_eq(s->n, 3);
    ck_assert_uint_eq(s->ids[0], 398);
    ck_assert_uint_eq(s->ids[2], 400);
    free(s);
    ck_assert_uint_eq(tw_journal_next_id(j), 401);
    /* Trim everything: compaction keeps the id counter. */
    for (int i = 0; i < 100; i++)
        s_append(j, "x");
    ck_assert_int_eq(tw_journal_trim(j, 500, NULL), TW_OK);
    tw_journal_destroy(&j);
    ck_assert_int_eq(tw_journal_open(&j, s_path, NULL), TW_OK);
    ck_assert_uint_eq(tw_journal_count(j), 0);
    ck_assert_uint_eq(tw_journal_next_id(j), 501);
    tw_journal_destroy(&j);
}
END_TEST

Suite *journal_suite(void)
{
    Suite *s = suite_create("journal");
    TCase *tc = tcase_create("journal");
    tcase_set_timeout(tc, 20);
    tcase_add_checked_fixture(tc, s_setup, s_teardown);
    tcase_add_test(tc, test_crc32_known_value);
    tcase_add_test(tc, test_append_and_replay);
    tcase_add_test(tc, test_second_open_refused);
    tcase_add_test(tc, test_torn_tail_truncated);
    tcase_add_test(tc, test_bad_crc_and_garbage_truncated);
    tcase_add_test(tc, test_failed_trim_written_on_retry);
    tcase_add_test(tc, test_trim_and_replay);
    tcase_add_test(tc, test_compaction_bounds_size);
    suite_add_tcase(s, tc);
    return s;
}
