/* Unit tests of tw_signal: a signal the kernel hands to a thread that
 * leaves it unblocked (a foreign thread, started before the mask was set)
 * still reaches the signalfd; in a forked child the handler does what the
 * default action would; signals that cannot be caught are refused. */
#define _GNU_SOURCE
#include <check.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tw_signal.h"

/* The foreign thread: everything unblocked, parked on a pipe. */
typedef struct {
    int park[2];   /* the thread reads park[0] until the test writes */
    int ready[2];  /* the thread writes a byte once its mask is set */
    pthread_t tid; /* the thread */
} s_thief_t;

static void *s_thief_main(void *arg)
{
    s_thief_t *t = arg;
    sigset_t none;
    sigemptyset(&none);
    pthread_sigmask(SIG_SETMASK, &none, NULL);
    char c = 1;
    ck_assert_int_eq(write(t->ready[1], &c, 1), 1);
    while (read(t->park[0], &c, 1) < 0)
        ; /* EINTR: a signal ran its handler here */
    return NULL;
}

static void s_thief_start(s_thief_t *t)
{
    ck_assert_int_eq(pipe(t->park), 0);
    ck_assert_int_eq(pipe(t->ready), 0);
    ck_assert_int_eq(pthread_create(&t->tid, NULL, s_thief_main, t), 0);
    char c;
    ck_assert_int_eq(read(t->ready[0], &c, 1), 1);
}

static void s_thief_stop(s_thief_t *t)
{
    char c = 0;
    ck_assert_int_eq(write(t->park[1], &c, 1), 1);
    pthread_join(t->tid, NULL);
    close(t->park[0]);
    close(t->park[1]);
    close(t->ready[0]);
    close(t->ready[1]);
}

/* The next signal read from fd within timeout_ms, 0 if none. The fd can
 * be readable while the signal is still on its way (queued for the whole
 * process, then taken by the foreign thread's handler, which sends it on):
 * a read that finds nothing polls again, as tubewatchd's loop does. */
static int s_next(int fd, int timeout_ms)
{
    int64_t deadline = tw_test_now_ms() + timeout_ms;
    for (;;) {
        int64_t left = deadline - tw_test_now_ms();
        struct pollfd p = {fd, POLLIN, 0};
        if (left < 0 || poll(&p, 1, (int)left) != 1)
            return 0;
        struct signalfd_siginfo si;
        if (read(fd, &si, sizeof si) == (ssize_t)sizeof si)
            return (int)si.ssi_signo;
    }
}

static void s_restore(const int *sigs, size_t n)
{
    sigset_t set;
    sigemptyset(&set);
    for (size_t i = 0; i < n; i++) {
        signal(sigs[i], SIG_DFL);
        sigaddset(&set, sigs[i]);
    }
    sigprocmask(SIG_UNBLOCK, &set, NULL);
}

START_TEST(test_foreign_thread_forwards)
{
    s_thief_t t;
    s_thief_start(&t);
    static const int sigs[] = {SIGCHLD, SIGHUP, SIGTERM};
    int fd = -1;
    ck_assert_int_eq(tw_signal_fd(sigs, 3, &fd, NULL), TW_OK);
    ck_assert_int_ge(fd, 0);
    /* Only the foreign thread leaves them unblocked, so the kernel hands
     * each one to it: without the forwarding SIGCHLD would be lost there
     * and SIGHUP and SIGTERM would end the process. */
    pid_t child = fork();
    ck_assert_int_ge(child, 0);
    if (child == 0)
        _exit(0);
    ck_assert_int_eq(s_next(fd, 5000), SIGCHLD);
    int st;
    ck_assert_int_eq(waitpid(child, &st, 0), child);
    ck_assert_int_eq(kill(getpid(), SIGHUP), 0);
    ck_assert_int_eq(s_next(fd, 5000), SIGHUP);
    ck_assert_int_eq(kill(getpid(), SIGTERM), 0);
    ck_assert_int_eq(s_next(fd, 5000), SIGTERM);
    /* Each arrived once. */
    ck_assert_int_eq(s_next(fd, 50), 0);
    close(fd);
    s_thief_stop(&t);
    s_restore(sigs, 3);
}
END_TEST

START_TEST(test_without_foreign_thread)
{
    static const int sigs[] = {SIGUSR1};
    int fd = -1;
    ck_assert_int_eq(tw_signal_fd(sigs, 1, &fd, NULL), TW_OK);
    ck_assert_int_eq(kill(getpid(), SIGUSR1), 0);
    ck_assert_int_eq(s_next(fd, 5000), SIGUSR1);
    ck_assert_int_eq(s_next(fd, 50), 0);
    close(fd);
    s_restore(sigs, 1);
}
END_TEST

START_TEST(test_forked_child_gets_default_action)
{
    static const int sigs[] = {SIGTERM};
    int fd = -1;
    ck_assert_int_eq(tw_signal_fd(sigs, 1, &fd, NULL), TW_OK);
    pid_t child = fork();
    ck_assert_int_ge(child, 0);
    if (child == 0) {
        /* Unblocked with the handler still in place (what a child does
         * wrongly between fork and exec): it must die of SIGTERM, not send
         * it on to its parent's thread. */
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGTERM);
        sigprocmask(SIG_UNBLOCK, &set, NULL);
        raise(SIGTERM);
        _exit(0);
    }
    int st;
    ck_assert_int_eq(waitpid(child, &st, 0), child);
    ck_assert(WIFSIGNALED(st));
    ck_assert_int_eq(WTERMSIG(st), SIGTERM);
    ck_assert_int_eq(s_next(fd, 50), 0);
    close(fd);
    s_restore(sigs, 1);
}
END_TEST

START_TEST(test_uncatchable_refused)
{
    int fd = 7;
    tw_err_t err = {{0}, 0, 0};
    static const int kill9[] = {SIGKILL};
    ck_assert_int_eq(tw_signal_fd(kill9, 1, &fd, &err), TW_ERR_INVALID);
    ck_assert_int_eq(fd, -1);
    ck_assert_ptr_nonnull(strstr(err.msg, "cannot be caught"));
    static const int zero[] = {0};
    ck_assert_int_eq(tw_signal_fd(zero, 1, &fd, NULL), TW_ERR_INVALID);
}
END_TEST

Suite *signal_suite(void)
{
    Suite *s = suite_create("signal");
    TCase *tc = tcase_create("signal");
    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, test_foreign_thread_forwards);
    tcase_add_test(tc, test_without_foreign_thread);
    tcase_add_test(tc, test_forked_child_gets_default_action);
    tcase_add_test(tc, test_uncatchable_refused);
    suite_add_tcase(s, tc);
    return s;
}
