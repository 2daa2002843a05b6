/* fiu_shim - LD_PRELOAD helper of the fault tests (tests/faults/run),
 * loaded before libfiu's fiu_posix_preload.so:
 * - every failure libfiu injects is counted: one line "PID NAME" appended
 *   to $TW_FIU_COUNT_FILE with raw system calls, so the count survives a
 *   SIGKILL and is never itself failed;
 * - with TW_FIU_FIRST=NAME, the point NAME fails at its first hit in the
 *   cell (while the count file is empty), whatever libfiu's probability
 *   says: a point reached once per run (the uploader's zip) is then
 *   crashed at for sure, later hits follow the probability;
 * - a forked child fails nothing before its exec: libfiu's wrappers take a
 *   rwlock (enabled_fails_lock) that another thread of a multi-threaded
 *   parent may hold at the fork, and the child would wait on it forever
 *   (seen in tubewatchd's cells: a child stuck in the sigaction wrapper
 *   between fork and exec, docs/reliability.md);
 * - write() and fwrite() fail only on regular files: ZeroMQ aborts when a write
 * to its eventfd fails (it cannot fail for real), and a failed write to the log
 *   pipe would hide the very line the test looks for. Disk writes are the
 *   ones that fail in production (EIO, ENOSPC, short writes). */
#include <dlfcn.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

int fiu_fail(const char *name);
ssize_t write(int fd, const void *buf, size_t count);

static int s_count_fd = -2;

static void s_count_open(void)
{
    if (s_count_fd == -2) {
        const char *path = getenv("TW_FIU_COUNT_FILE");
        s_count_fd =
            path ? (int)syscall(SYS_openat, AT_FDCWD, path,
                                O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600)
                 : -1;
    }
}

/* True when no failure was counted yet in this cell (any process). */
static int s_count_empty(void)
{
    s_count_open();
    struct stat st;
    return s_count_fd >= 0 && syscall(SYS_fstat, s_count_fd, &st) == 0 &&
           st.st_size == 0;
}

static void s_count(const char *name)
{
    s_count_open();
    if (s_count_fd < 0)
        return;
    char line[256];
    int n = snprintf(line, sizeof line, "%ld %s\n", (long)getpid(), name);
    if (n > 0 && (size_t)n < sizeof line)
        (void)syscall(SYS_write, s_count_fd, line, (size_t)n);
}

/* Set in a forked child (pthread_atfork), until its exec. */
static volatile int s_forked;

static void s_on_fork_child(void)
{
    s_forked = 1;
}

__attribute__((constructor)) static void s_init(void)
{
    pthread_atfork(NULL, NULL, s_on_fork_child);
}

int fiu_fail(const char *name)
{
    if (s_forked)
        return 0; /* before libfiu's lock: see the top of this file */
    static int (*real)(const char *);
    if (!real)
        real = (int (*)(const char *))dlsym(RTLD_NEXT, "fiu_fail");
    int r = real ? real(name) : 0;
    if (!r) {
        static const char *first;
        static int first_read;
        if (!first_read) {
            first = getenv("TW_FIU_FIRST");
            first_read = 1;
        }
        if (first && strcmp(name, first) == 0 && s_count_empty())
            r = 1;
    }
    if (r)
        s_count(name);
    return r;
}

ssize_t write(int fd, const void *buf, size_t count)
{
    static ssize_t (*wrapped)(int, const void *, size_t);
    static ssize_t (*plain)(int, const void *, size_t);
    if (!wrapped) {
        void *libc = dlopen("libc.so.6", RTLD_LAZY | RTLD_NOLOAD);
        plain = (ssize_t(*)(int, const void *, size_t))(
            libc ? dlsym(libc, "write") : NULL);
        wrapped =
            (ssize_t(*)(int, const void *, size_t))dlsym(RTLD_NEXT, "write");
    }
    struct stat st;
    int regular = syscall(SYS_fstat, fd, &st) == 0 && S_ISREG(st.st_mode);
    if (regular || !plain)
        return wrapped(fd, buf, count);
    return plain(fd, buf, count);
}

size_t fwrite(const void *ptr, size_t size, size_t n, FILE *stream)
{
    static size_t (*wrapped)(const void *, size_t, size_t, FILE *);
    static size_t (*plain)(const void *, size_t, size_t, FILE *);
    if (!wrapped) {
        void *libc = dlopen("libc.so.6", RTLD_LAZY | RTLD_NOLOAD);
        plain = (size_t(*)(const void *, size_t, size_t, FILE *))(
            libc ? dlsym(libc, "fwrite") : NULL);
        wrapped = (size_t(*)(const void *, size_t, size_t, FILE *))dlsym(
            RTLD_NEXT, "fwrite");
    }
    struct stat st;
    int regular =
        syscall(SYS_fstat, fileno(stream), &st) == 0 && S_ISREG(st.st_mode);
    if (regular || !plain)
        return wrapped(ptr, size, n, stream);
    return plain(ptr, size, n, stream);
}
