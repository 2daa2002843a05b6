/* ctl_logs - `tubewatch logs [NAME] [-n N] [-f]`: reads the worker log
 * files directly (LOG_DIR of the config) and follows them across
 * rotations. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"
#include "tw_rc.h"

/* Most files followed at once. */
#define MAX_FOLLOW 1024

typedef struct {
    char name[128];      /* worker name (file stem) */
    char path[PATH_MAX]; /* LOG_DIR/NAME.log */
    int fd;              /* open file, -1 when not open */
    dev_t dev;           /* identity of the open file */
    ino_t ino;           /* identity of the open file */
    off_t off;           /* bytes consumed */
    char part[8192];     /* partial last line */
    size_t partlen;      /* bytes in part */
} s_follow_t;

static void s_emit(ctl_t *ctl, const char *name, bool prefix, const char *line,
                   size_t len)
{
    if (ctl->json) {
        json_t *o = json_pack("{s:s,s:s%}", "worker", name, "line", line, len);
        if (o) {
            ctl_print_json(o);
            json_decref(o);
        }
    } else if (prefix) {
        printf("%s | %.*s\n", name, (int)len, line);
    } else {
        printf("%.*s\n", (int)len, line);
    }
}

/* Prints the lines in buf[0..len), keeping an unfinished tail in f. */
static void s_lines(ctl_t *ctl, s_follow_t *f, bool prefix, const char *buf,
                    size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (buf[i] == '\n' || f->partlen == sizeof f->part) {
            s_emit(ctl, f->name, prefix, f->part, f->partlen);
            f->partlen = 0;
            if (buf[i] == '\n')
                continue;
        }
        f->part[f->partlen++] = buf[i];
    }
}

/* Offset where the last n lines of fd begin. */
static off_t s_tail_start(int fd, off_t size, long n)
{
    char buf[65536];
    off_t pos = size;
    long seen = 0;
    while (pos > 0) {
        off_t chunk = pos > (off_t)sizeof buf ? (off_t)sizeof buf : pos;
        pos -= chunk;
        ssize_t r = pread(fd, buf, (size_t)chunk, pos);
        if (r <= 0)
            return 0;
        for (ssize_t i = r - 1; i >= 0; i--) {
            if (buf[i] != '\n' || pos + i == size - 1)
                continue;
            if (++seen == n)
                return pos + i + 1;
        }
    }
    return 0;
}

static bool s_open(s_follow_t *f, long tail_lines)
{
    /* A rotation renames NAME.log and creates it again at once: retry
     * briefly when we hit that gap. */
    for (int tries = 0; tries < 50; tries++) {
        f->fd = open(f->path, O_RDONLY | O_CLOEXEC);
        if (f->fd >= 0 || errno != ENOENT)
            break;
        struct timespec gap = {0, 2 * 1000 * 1000};
        nanosleep(&gap, NULL);
    }
    if (f->fd < 0)
        return false;
    struct stat st;
    fstat(f->fd, &st);
    f->dev = st.st_dev;
    f->ino = st.st_ino;
    f->off = tail_lines < 0 ? 0 : s_tail_start(f->fd, st.st_size, tail_lines);
    if (tail_lines == 0)
        f->off = st.st_size;
    f->partlen = 0;
    return true;
}

/* Prints whatever was appended since the last call; reopens the file after
 * a rotation or truncation. */
static void s_pump(ctl_t *ctl, s_follow_t *f, bool prefix)
{
    if (f->fd < 0 && !s_open(f, -1))
        return;
    char buf[65536];
    for (;;) {
        ssize_t r = pread(f->fd, buf, sizeof buf, f->off);
        if (r <= 0)
            break;
        f->off += r;
        s_lines(ctl, f, prefix, buf, (size_t)r);
    }
    struct stat st;
    if (stat(f->path, &st) != 0)
        return; /* mid-rotation: the new file appears shortly */
    if (st.st_dev != f->dev || st.st_ino != f->ino) {
        close(f->fd);
        if (s_open(f, -1))
            s_pump(ctl, f, prefix);
    } else if (st.st_size < f->off) {
        f->off = 0;
    }
}

static int s_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Adds every NAME.log of dir not followed yet. */
static void s_scan(const char *dir, s_follow_t *fs, size_t *n, long tail)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    char *names[MAX_FOLLOW];
    size_t nn = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && nn < MAX_FOLLOW) {
        size_t l = strlen(e->d_name);
        if (l > 4 && l - 4 < sizeof fs->name &&
            strcmp(e->d_name + l - 4, ".log") == 0)
            names[nn++] = strndup(e->d_name, l - 4);
    }
    closedir(d);
    qsort(names, nn, sizeof *names, s_cmp);
    for (size_t i = 0; i < nn; i++) {
        bool known = false;
        for (size_t j = 0; j < *n; j++)
            known = known || strcmp(fs[j].name, names[i]) == 0;
        if (!known && *n < MAX_FOLLOW) {
            s_follow_t *f = &fs[(*n)++];
            memset(f, 0, sizeof *f);
            f->fd = -1;
            snprintf(f->name, sizeof f->name, "%s", names[i]);
            snprintf(f->path, sizeof f->path, "%s/%s.log", dir, names[i]);
            s_open(f, tail);
        }
        free(names[i]);
    }
}

int ctl_logs_main(ctl_t *ctl, int argc, char **argv)
{
    long lines = 20;
    bool follow = false;
    const char *name = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-n") == 0 && i + 1 < argc) {
            char *end;
            lines = strtol(argv[++i], &end, 10);
            if (*end || lines < 0)
                return ctl_usage_of(argv[0]);
        } else if (strcmp(argv[i], "-f") == 0) {
            follow = true;
        } else if (argv[i][0] != '-' && !name) {
            name = argv[i];
        } else {
            return ctl_usage_of(argv[0]);
        }
    }
    if (name && (strchr(name, '/') || name[0] == '.')) {
        fprintf(stderr, "tubewatch: bad worker name '%s'\n", name);
        return TW_EXIT_USAGE;
    }
    const tw_cfg_t *cfg = ctl_cfg(ctl);
    if (!cfg)
        return TW_EXIT_USAGE;
    const char *dir = cfg->supervisor.log_dir;
    s_follow_t *fs = calloc(MAX_FOLLOW, sizeof *fs);
    if (!fs)
        return TW_EXIT_BUG;
    size_t n = 0;
    bool prefix = name == NULL;
    if (name) {
        s_follow_t *f = &fs[n++];
        f->fd = -1;
        snprintf(f->name, sizeof f->name, "%s", name);
        snprintf(f->path, sizeof f->path, "%s/%s.log", dir, name);
        if (!s_open(f, lines) && !follow) {
            fprintf(stderr, "tubewatch: unable to open %s: %s\n", f->path,
                    strerror(errno));
            free(fs);
            return TW_EXIT_REFUSED;
        }
    } else {
        DIR *d = opendir(dir);
        if (!d) {
            fprintf(stderr, "tubewatch: unable to open %s: %s\n", dir,
                    strerror(errno));
            free(fs);
            return TW_EXIT_REFUSED;
        }
        closedir(d);
        s_scan(dir, fs, &n, lines);
    }
    for (size_t i = 0; i < n; i++)
        s_pump(ctl, &fs[i], prefix);
    fflush(stdout);
    int64_t next_scan = 0;
    while (follow) {
        if (!name) {
            struct timespec ts;
            clock_gettime(CLOCK_MONOTONIC, &ts);
            int64_t now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
            if (now >= next_scan) {
                size_t before = n;
                s_scan(dir, fs, &n, 0);
                for (size_t i = before; i < n; i++)
                    fs[i].off = 0; /* a new worker: show it all */
                next_scan = now + 1000;
            }
        }
        for (size_t i = 0; i < n; i++)
            s_pump(ctl, &fs[i], prefix);
        if (fflush(stdout) != 0)
            break; /* the reader went away */
        struct timespec pause = {0, 100 * 1000 * 1000};
        nanosleep(&pause, NULL);
    }
    for (size_t i = 0; i < n; i++) {
        if (fs[i].fd >= 0)
            close(fs[i].fd);
    }
    free(fs);
    return TW_EXIT_OK;
}
