/* Unit tests of tw_file: atomic replace, synced append (short writes,
 * ENOSPC), capped reads, mkdir -p and secret-file permission checks. */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tw_file.h"

static char s_dir[64];

static void s_setup(void)
{
    snprintf(s_dir, sizeof s_dir, "/tmp/tw-check-file-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(s_dir));
}

static void s_teardown(void)
{
    tw_test_rm_rf(s_dir);
}

static char *s_path(const char *name)
{
    static char path[256];
    snprintf(path, sizeof path, "%s/%s", s_dir, name);
    return path;
}

static size_t s_count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            n++;
    }
    closedir(d);
    return n;
}

static void s_expect_content(const char *path, const char *want)
{
    char *data = NULL;
    size_t len = 0;
    ck_assert_int_eq(tw_file_read_all(path, 1 << 20, &data, &len, NULL), TW_OK);
    ck_assert_uint_eq(len, strlen(want));
    ck_assert_str_eq(data, want);
    free(data);
}

START_TEST(test_write_atomic_replaces_with_mode)
{
    umask(022);
    char *path = strdup(s_path("state.json"));
    tw_err_t err;
    ck_assert_int_eq(tw_file_write_atomic(path, "one", 3, 0600, &err), TW_OK);
    s_expect_content(path, "one");
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_uint_eq(st.st_mode & 07777, 0600);
    ck_assert_int_eq(tw_file_write_atomic(path, "second", 6, 0664, &err),
                     TW_OK);
    s_expect_content(path, "second");
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_uint_eq(st.st_mode & 07777, 0664);
    ck_assert_int_eq(tw_file_write_atomic(path, NULL, 0, 0600, &err), TW_OK);
    s_expect_content(path, "");
    ck_assert_uint_eq(s_count_entries(s_dir), 1);
    free(path);
}
END_TEST

START_TEST(test_write_atomic_failure_leaves_nothing)
{
    tw_err_t err;
    ck_assert_int_eq(
        tw_file_write_atomic(s_path("missing/x"), "a", 1, 0600, &err),
        TW_ERR_NOTFOUND);
    ck_assert_ptr_nonnull(strstr(err.msg, "missing/x"));
    /* A directory in the way: rename fails, the temp file is removed. */
    ck_assert_int_eq(mkdir(s_path("adir"), 0700), 0);
    ck_assert_int_eq(mkdir(s_path("adir/sub"), 0700), 0);
    ck_assert_int_ne(
        tw_file_write_atomic(s_path("adir/sub"), "a", 1, 0600, &err), TW_OK);
    ck_assert_uint_eq(s_count_entries(s_path("adir")), 1);
    ck_assert_int_eq(
        tw_file_write_atomic("relative-in-cwd-unused/x", "a", 1, 0600, NULL),
        TW_ERR_NOTFOUND);
}
END_TEST

START_TEST(test_append_and_read)
{
    int fd = -1;
    char *path = strdup(s_path("journal"));
    ck_assert_int_eq(tw_file_open_append(path, 0600, &fd, NULL), TW_OK);
    ck_assert_int_eq(tw_file_append(fd, "line1\n", 6, NULL), TW_OK);
    ck_assert_int_eq(tw_file_append(fd, "line2\n", 6, NULL), TW_OK);
    ck_assert_int_eq(tw_file_append(fd, NULL, 0, NULL), TW_OK);
    close(fd);
    s_expect_content(path, "line1\nline2\n");
    ck_assert_int_eq(tw_file_open_append(path, 0600, &fd, NULL), TW_OK);
    ck_assert_int_eq(tw_file_write_all(fd, "x", 1, NULL), TW_OK);
    close(fd);
    s_expect_content(path, "line1\nline2\nx");
    free(path);
}
END_TEST

START_TEST(test_append_enospc)
{
    int fd = open("/dev/full", O_WRONLY | O_APPEND);
    if (fd < 0) {
        tw_test_skip("no /dev/full here");
        return;
    }
    tw_err_t err;
    ck_assert_int_eq(tw_file_append(fd, "data", 4, &err), TW_ERR_NOSPACE);
    ck_assert_ptr_nonnull(strstr(err.msg, "No space"));
    close(fd);
}
END_TEST

START_TEST(test_append_short_write_is_rolled_back)
{
    /* RLIMIT_FSIZE makes the kernel accept part of a write and fail the
     * rest (EFBIG): a torn record must not stay in the file. */
    signal(SIGXFSZ, SIG_IGN);
    int fd = -1;
    char *path = strdup(s_path("limited"));
    ck_assert_int_eq(tw_file_open_append(path, 0600, &fd, NULL), TW_OK);
    char rec[60];
    memset(rec, 'a', sizeof rec);
    ck_assert_int_eq(tw_file_append(fd, rec, sizeof rec, NULL), TW_OK);
    struct rlimit rl = {100, 100};
    ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &rl), 0);
    tw_err_t err;
    ck_assert_int_eq(tw_file_append(fd, rec, sizeof rec, &err), TW_ERR_TOOBIG);
    struct stat st;
    ck_assert_int_eq(fstat(fd, &st), 0);
    ck_assert_int_eq(st.st_size, 60);
    ck_assert_int_eq(tw_file_append(fd, "ok\n", 3, NULL), TW_OK);
    ck_assert_int_eq(fstat(fd, &st), 0);
    ck_assert_int_eq(st.st_size, 63);
    close(fd);
    free(path);
}
END_TEST

static volatile sig_atomic_t s_alarms;

static void s_on_alarm(int sig)
{
    (void)sig;
    s_alarms++;
}

START_TEST(test_write_all_survives_eintr_and_short_writes)
{
    /* A blocked pipe write interrupted by a signal (no SA_RESTART) returns
     * short or fails with EINTR; write_all must carry on. */
    struct sigaction sa = {0};
    sa.sa_handler = s_on_alarm;
    ck_assert_int_eq(sigaction(SIGALRM, &sa, NULL), 0);
    int p[2];
    ck_assert_int_eq(pipe(p), 0);
    size_t total = 8u << 20;
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        close(p[1]);
        char buf[4096];
        size_t got = 0;
        ssize_t n;
        while ((n = read(p[0], buf, sizeof buf)) != 0) {
            if (n > 0)
                got += (size_t)n;
        }
        _exit(got == total ? 0 : 1);
    }
    close(p[0]);
    char *data = calloc(1, total);
    struct itimerval it = {{0, 500}, {0, 500}};
    setitimer(ITIMER_REAL, &it, NULL);
    tw_rc_t rc = tw_file_write_all(p[1], data, total, NULL);
    struct itimerval off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &off, NULL);
    close(p[1]);
    int status = 0;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_int_eq(rc, TW_OK);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    free(data);
}
END_TEST

START_TEST(test_errno_mapping)
{
    ck_assert_int_eq(tw_file_errno_rc(ENOSPC), TW_ERR_NOSPACE);
    ck_assert_int_eq(tw_file_errno_rc(EDQUOT), TW_ERR_NOSPACE);
    ck_assert_int_eq(tw_file_errno_rc(EIO), TW_ERR_IO);
    ck_assert_int_eq(tw_file_errno_rc(ENOENT), TW_ERR_NOTFOUND);
    ck_assert_int_eq(tw_file_errno_rc(EACCES), TW_ERR_PERM);
    ck_assert_int_eq(tw_file_errno_rc(EEXIST), TW_ERR_EXISTS);
}
END_TEST

START_TEST(test_read_all_caps)
{
    char *path = strdup(s_path("ten"));
    ck_assert_int_eq(tw_file_write_atomic(path, "0123456789", 10, 0600, NULL),
                     TW_OK);
    char *data = NULL;
    size_t len = 0;
    ck_assert_int_eq(tw_file_read_all(path, 10, &data, &len, NULL), TW_OK);
    ck_assert_uint_eq(len, 10);
    free(data);
    tw_err_t err;
    ck_assert_int_eq(tw_file_read_all(path, 9, &data, &len, &err),
                     TW_ERR_TOOBIG);
    ck_assert_ptr_null(data);
    ck_assert_int_eq(tw_file_read_all(s_path("nope"), 10, &data, NULL, &err),
                     TW_ERR_NOTFOUND);
    ck_assert_ptr_nonnull(strstr(err.msg, "nope"));
    ck_assert_int_eq(tw_file_read_all(s_dir, 10, &data, NULL, &err), TW_ERR_IO);
    /* Files whose size stat cannot tell (procfs) are read and capped. */
    ck_assert_int_eq(
        tw_file_read_all("/proc/self/status", 1 << 20, &data, &len, NULL),
        TW_OK);
    ck_assert_uint_gt(len, 10);
    ck_assert_ptr_nonnull(strstr(data, "Pid:"));
    free(data);
    ck_assert_int_eq(
        tw_file_read_all("/proc/self/status", 16, &data, &len, NULL),
        TW_ERR_TOOBIG);
    free(path);
}
END_TEST

START_TEST(test_mkdirs)
{
    umask(022);
    char *path = strdup(s_path("a/b/c/"));
    ck_assert_int_eq(tw_file_mkdirs(path, 0700, NULL), TW_OK);
    ck_assert_int_eq(tw_file_mkdirs(path, 0700, NULL), TW_OK);
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert(S_ISDIR(st.st_mode));
    ck_assert_uint_eq(st.st_mode & 0777, 0700);
    ck_assert_int_eq(tw_file_write_atomic(s_path("a/file"), "x", 1, 0600, NULL),
                     TW_OK);
    tw_err_t err;
    ck_assert_int_eq(tw_file_mkdirs(s_path("a/file/d"), 0700, &err),
                     TW_ERR_EXISTS);
    ck_assert_int_eq(tw_file_sync_dir(s_path("a"), NULL), TW_OK);
    ck_assert_int_eq(tw_file_mkdirs("", 0700, &err), TW_ERR_INVALID);
    ck_assert_int_eq(tw_file_mkdirs("/", 0700, &err), TW_OK);
    ck_assert_int_eq(tw_file_write_atomic("", "x", 1, 0600, &err),
                     TW_ERR_INVALID);
    free(path);
}
END_TEST

START_TEST(test_check_secret)
{
    char *path = strdup(s_path("api.key"));
    ck_assert_int_eq(tw_file_write_atomic(path, "k", 1, 0600, NULL), TW_OK);
    tw_err_t err;
    ck_assert_int_eq(tw_file_check_secret(path, &err), TW_OK);
    ck_assert_int_eq(chmod(path, 0644), 0);
    ck_assert_int_eq(tw_file_check_secret(path, &err), TW_ERR_PERM);
    char want[300];
    snprintf(want, sizeof want,
             "%s is readable by group or others (mode 0644); chmod 600 it",
             path);
    ck_assert_str_eq(err.msg, want);
    ck_assert_int_eq(chmod(path, 0620), 0);
    ck_assert_int_eq(tw_file_check_secret(path, &err), TW_ERR_PERM);
    ck_assert_ptr_nonnull(strstr(err.msg, "writable"));
    ck_assert_int_eq(chmod(path, 0400), 0);
    ck_assert_int_eq(tw_file_check_secret(path, &err), TW_OK);
    ck_assert_int_eq(tw_file_check_secret(s_path("none"), &err),
                     TW_ERR_NOTFOUND);
    free(path);
}
END_TEST

START_TEST(test_exe_relative_dir)
{
    /* The runner lives in BUILD/tests: the repo's data/stopwords is two
     * levels up; the first existing candidate wins. */
    static const char *const rel[] = {"../nonexistent-dir",
                                      "../../data/stopwords"};
    char *dir = tw_file_exe_relative_dir(rel, 2);
    ck_assert_ptr_nonnull(dir);
    char *want = realpath("data/stopwords", NULL);
    ck_assert_ptr_nonnull(want);
    ck_assert_str_eq(dir, want);
    free(dir);
    free(want);
    ck_assert_ptr_null(tw_file_exe_relative_dir(rel, 1));
}
END_TEST

Suite *file_suite(void)
{
    Suite *s = suite_create("file");
    TCase *tc = tcase_create("file");
    tcase_set_timeout(tc, 10);
    tcase_add_checked_fixture(tc, s_setup, s_teardown);
    tcase_add_test(tc, test_write_atomic_replaces_with_mode);
    tcase_add_test(tc, test_write_atomic_failure_leaves_nothing);
    tcase_add_test(tc, test_append_and_read);
    tcase_add_test(tc, test_append_enospc);
    tcase_add_test(tc, test_append_short_write_is_rolled_back);
    tcase_add_test(tc, test_write_all_survives_eintr_and_short_writes);
    tcase_add_test(tc, test_errno_mapping);
    tcase_add_test(tc, test_read_all_caps);
    tcase_add_test(tc, test_mkdirs);
    tcase_add_test(tc, test_check_secret);
    tcase_add_test(tc, test_exe_relative_dir);
    suite_add_tcase(s, tc);
    return s;
}
