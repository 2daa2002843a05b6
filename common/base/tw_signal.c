/* tw_signal - signals read from a signalfd, forwarded from threads that
 * leave them unblocked (see tw_signal.h). */
#define _GNU_SOURCE
#include "tw_signal.h"

#include <assert.h>
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Per signal: the process and the thread that read it; 0 = none. Written
 * before the handler is installed, read in the handler. */
static volatile pid_t s_pid[NSIG];
static volatile pid_t s_tid[NSIG];

static void s_forward(int sig)
{
    int saved = errno;
    pid_t pid = s_pid[sig], tid = s_tid[sig];
    if (pid != 0 && (pid_t)syscall(SYS_getpid) == pid) {
        syscall(SYS_tgkill, pid, tid, sig);
    } else {
        /* A forked child before it reset its handlers: what the default
         * action would have done. */
        signal(sig, SIG_DFL);
        raise(sig);
    }
    errno = saved;
}

tw_rc_t tw_signal_fd(const int *sigs, size_t n, int *fd, tw_err_t *err)
{
    assert(sigs || n == 0);
    assert(fd);
    *fd = -1;
    sigset_t set;
    sigemptyset(&set);
    for (size_t i = 0; i < n; i++) {
        int sig = sigs[i];
        if (sig <= 0 || sig >= NSIG || sig == SIGKILL || sig == SIGSTOP) {
            tw_err_set(err, "signal %d cannot be caught", sig);
            return TW_ERR_INVALID;
        }
        sigaddset(&set, sig);
    }
    if (sigprocmask(SIG_BLOCK, &set, NULL) != 0) {
        tw_err_set(err, "unable to block signals: %s", strerror(errno));
        return TW_ERR_IO;
    }
    pid_t pid = (pid_t)syscall(SYS_getpid);
    pid_t tid = (pid_t)syscall(SYS_gettid);
    for (size_t i = 0; i < n; i++) {
        int sig = sigs[i];
        s_pid[sig] = pid;
        s_tid[sig] = tid;
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = s_forward;
        sa.sa_flags = SA_RESTART;
        sigfillset(&sa.sa_mask);
        if (sigaction(sig, &sa, NULL) != 0) {
            tw_err_set(err, "unable to handle signal %d: %s", sig,
                       strerror(errno));
            return TW_ERR_IO;
        }
    }
    int sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (sfd < 0) {
        tw_err_set(err, "unable to create signalfd: %s", strerror(errno));
        return TW_ERR_IO;
    }
    *fd = sfd;
    return TW_OK;
}
