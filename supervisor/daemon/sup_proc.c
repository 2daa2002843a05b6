/* sup_proc - fork/exec of one worker with a clean slate. */
#define _GNU_SOURCE
#include "sup_proc.h"

#include <assert.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Only async-signal-safe calls from here to exec. */
static void s_child_fail(const char *what, int e)
{
    char msg[256];
    int n = snprintf(msg, sizeof msg, "tubewatchd: unable to %s: %s\n", what,
                     strerror(e));
    if (n > 0) {
        ssize_t w = write(STDERR_FILENO, msg, (size_t)n);
        (void)w;
    }
    _exit(e == ENOENT || e == EACCES || e == ENOEXEC ? 100 : 111);
}

static void s_close_from(int lowfd)
{
#ifdef SYS_close_range
    if (syscall(SYS_close_range, (unsigned)lowfd, ~0U, 0) == 0)
        return;
#endif
    long max = sysconf(_SC_OPEN_MAX);
    if (max < 0 || max > 65536)
        max = 65536;
    for (int fd = lowfd; fd < max; fd++)
        close(fd);
}

static void s_child(const sup_proc_spec_t *spec, pid_t parent)
{
    /* Handlers first, then the mask: a signal pending since the fork must
     * meet the default action, not tubewatchd's forwarding handler. */
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    for (int sig = 1; sig < NSIG; sig++) {
        if (sig == SIGKILL || sig == SIGSTOP)
            continue;
        if (sigaction(sig, &dfl, NULL) == 0)
            continue;
        /* glibc refuses its two internal signals (32, 33), which an
         * ignoring parent (make does that) would hand down: ask the kernel
         * directly. */
        struct {
            void *handler;         /* SIG_DFL */
            unsigned long flags;   /* none */
            void *restorer;        /* unused */
            unsigned long mask[1]; /* empty */
        } ksa = {0};
        syscall(SYS_rt_sigaction, sig, &ksa, NULL, sizeof ksa.mask);
    }
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    if (setsid() < 0)
        s_child_fail("create a session", errno);
    /* When tubewatchd dies, its workers stop as on any stop (SIGTERM):
     * they finish the step they are in (a sent notification is trimmed
     * from the outbox, a checkpoint written) instead of dying inside it;
     * one that does not stop is killed by the next tubewatchd at its start
     * (sup_runtime: leftovers). */
    if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0)
        s_child_fail("set the parent-death signal", errno);
    /* The parent may have died before prctl took effect. */
    if (getppid() != parent)
        _exit(111);
    if (dup2(spec->null_fd, STDIN_FILENO) < 0 ||
        dup2(spec->out_fd, STDOUT_FILENO) < 0 ||
        dup2(spec->out_fd, STDERR_FILENO) < 0)
        s_child_fail("set up stdio", errno);
    /* Before RLIMIT_NOFILE shrinks: without close_range the fallback loop
     * stops at the (new) limit and would leave higher fds open. */
    s_close_from(3);
    if (spec->memory_limit > 0) {
        struct rlimit rl = {spec->memory_limit, spec->memory_limit};
        if (setrlimit(RLIMIT_AS, &rl) != 0)
            s_child_fail("set the memory limit", errno);
    }
    if (spec->open_files > 0) {
        struct rlimit rl = {spec->open_files, spec->open_files};
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
            s_child_fail("set the open files limit", errno);
    }
    execve(spec->argv[0], spec->argv, spec->envp);
    s_child_fail("execute the program", errno);
}

tw_rc_t sup_proc_spawn(const sup_proc_spec_t *spec, pid_t *pid, tw_err_t *err)
{
    assert(spec);
    assert(spec->argv && spec->argv[0]);
    assert(spec->envp);
    assert(pid);
    pid_t parent = getpid();
    pid_t p = fork();
    if (p < 0) {
        tw_err_set(err, "unable to fork: %s", strerror(errno));
        return TW_ERR_AGAIN;
    }
    if (p == 0)
        s_child(spec, parent);
    *pid = p;
    return TW_OK;
}

void sup_proc_kill_group(pid_t pgid, int sig)
{
    assert(pgid > 1);
    /* Right after fork the child may not have called setsid yet. */
    if (kill(-pgid, sig) != 0 && errno == ESRCH)
        kill(pgid, sig);
}
