/* Helpers shared by the Check suites (unit and e2e runners): recorded skips,
 * the shared fixtures folder, whole-file reads, recursive removal of temp
 * dirs and resource limits that make calls fail. */
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* True when skips are failures: .ci/run sets TW_NO_SKIP=1, and CI has every
 * input beside the checkout. */
static bool s_no_skip(void)
{
    const char *ns = getenv("TW_NO_SKIP");
    const char *ci = getenv("CI");
    return (ns && strcmp(ns, "1") == 0) || (ci && strcmp(ci, "true") == 0);
}

void tw_test_skip_at(const char *file, int line, const char *why)
{
    if (s_no_skip())
        ck_abort_msg("%s:%d: would skip (%s), and skips are failures here "
                     "(TW_NO_SKIP=1 or CI=true)",
                     file, line, why);
    fprintf(stderr, "%s:%d: skipped: %s\n", file, line, why);
    const char *log = getenv("TW_SKIP_FILE");
    if (!log || !*log)
        return;
    char rec[512];
    int n = snprintf(rec, sizeof rec, "%s:%d: %s\n", file, line, why);
    if (n <= 0)
        return;
    if ((size_t)n >= sizeof rec)
        n = (int)sizeof rec - 1;
    int fd = open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return;
    /* one short O_APPEND write: lines of forked checks never interleave */
    ssize_t w = write(fd, rec, (size_t)n);
    (void)w;
    close(fd);
}

const char *tw_test_shared_dir_at(const char *file, int line)
{
    const char *dir = getenv("TW_SHARED");
    if (!dir || !*dir)
        dir = "../shared";
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        char why[300];
        snprintf(why, sizeof why, "no shared fixtures at %.200s", dir);
        tw_test_skip_at(file, line, why);
        return NULL;
    }
    return dir;
}

char *tw_test_slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    char *buf = malloc(n > 0 ? (size_t)n + 1 : 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (buf) {
        buf[n] = '\0';
        *len = (size_t)n;
    }
    return buf;
}

void tw_test_rm_rf(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return;
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        struct dirent *e;
        while (d && (e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            char sub[1024];
            snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
            tw_test_rm_rf(sub);
        }
        if (d)
            closedir(d);
    }
    remove(path);
}

int tw_test_limit_fds(struct rlimit *old)
{
    getrlimit(RLIMIT_NOFILE, old);
    int probe = dup(0);
    if (probe < 0)
        return -1;
    close(probe);
    struct rlimit low = {(rlim_t)probe, old->rlim_max};
    return setrlimit(RLIMIT_NOFILE, &low);
}

int tw_test_limit_fsize(rlim_t bytes, struct rlimit *old)
{
    getrlimit(RLIMIT_FSIZE, old);
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit small = {bytes, old->rlim_max};
    return setrlimit(RLIMIT_FSIZE, &small);
}

void tw_test_limit_restore(int resource, const struct rlimit *old)
{
    setrlimit(resource, old);
    if (resource == RLIMIT_FSIZE)
        signal(SIGXFSZ, SIG_DFL);
}
