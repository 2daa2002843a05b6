/* tw_file - durable file operations: atomic replace, synced append, whole
 * file reads with a size cap, mkdir -p, and permission checks of secrets. */
#include "tw_file.h"
#include "tw_fault.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

tw_rc_t tw_file_errno_rc(int e)
{
    switch (e) {
    case ENOSPC:
#ifdef EDQUOT
    case EDQUOT:
#endif
        return TW_ERR_NOSPACE;
    case ENOENT:
        return TW_ERR_NOTFOUND;
    case EEXIST:
        return TW_ERR_EXISTS;
    case EACCES:
    case EPERM:
    case EROFS:
        return TW_ERR_PERM;
    case ENOMEM:
        return TW_ERR_NOMEM;
    case EFBIG:
        return TW_ERR_TOOBIG;
    default:
        return TW_ERR_IO;
    }
}

/* Sets err to "unable to <what> <path>: <strerror>" and returns the rc. */
static tw_rc_t s_fail(tw_err_t *err, const char *what, const char *path, int e)
{
    tw_err_set(err, "unable to %s %s: %s", what, path, strerror(e));
    return tw_file_errno_rc(e);
}

/* Writes all len bytes; returns 0 or the errno of the failure. */
static int s_write_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return errno;
        }
        if (n == 0)
            return EIO;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

tw_rc_t tw_file_write_all(int fd, const void *data, size_t len, tw_err_t *err)
{
    assert(fd >= 0);
    assert(data || len == 0);
    int e = s_write_all(fd, data, len);
    return e ? s_fail(err, "write to", "file", e) : TW_OK;
}

static int s_fsync(int fd, int data_only)
{
    int r;
    do {
        r = data_only ? fdatasync(fd) : fsync(fd);
    } while (r != 0 && errno == EINTR);
    return r;
}

tw_rc_t tw_file_sync_dir(const char *dir, tw_err_t *err)
{
    assert(dir);
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return s_fail(err, "open directory", dir, errno);
    int r = s_fsync(fd, 0);
    int e = errno;
    close(fd);
    /* Some file systems cannot sync directories; that is not a failure. */
    if (r != 0 && e != EINVAL && e != ENOTSUP)
        return s_fail(err, "fsync directory", dir, e);
    return TW_OK;
}

tw_rc_t tw_file_write_atomic(const char *path, const void *data, size_t len,
                             mode_t mode, tw_err_t *err)
{
    return tw_file_write_atomic_at(NULL, path, data, len, mode, err);
}

tw_rc_t tw_file_write_atomic_at(const char *point, const char *path,
                                const void *data, size_t len, mode_t mode,
                                tw_err_t *err)
{
    assert(path);
    assert(data || len == 0);
    if (!*path) {
        tw_err_set(err, "unable to write a file with an empty name");
        return TW_ERR_INVALID;
    }
    size_t plen = strlen(path);
    char *tmp = malloc(plen + 32);
    char *dir = strdup(path);
    if (!tmp || !dir) {
        free(tmp);
        free(dir);
        tw_err_set(err, "out of memory");
        return TW_ERR_NOMEM;
    }
    char *slash = strrchr(dir, '/');
    if (!slash)
        strcpy(dir, ".");
    else if (slash == dir)
        dir[1] = '\0';
    else
        *slash = '\0';
    int fd = -1;
    tw_rc_t rc = TW_OK;
    for (int attempt = 0; attempt < 100 && fd < 0; attempt++) {
        snprintf(tmp, plen + 32, "%s.tmp.%ld.%d", path, (long)getpid(),
                 attempt);
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
        if (fd < 0 && errno != EEXIST) {
            rc = s_fail(err, "create", tmp, errno);
            break;
        }
    }
    if (fd < 0 && rc == TW_OK)
        rc = s_fail(err, "create", tmp, EEXIST);
    if (rc != TW_OK)
        goto out;
    /* open() applied the umask; the caller asked for exactly mode. */
    if (fchmod(fd, mode) != 0) {
        rc = s_fail(err, "chmod", tmp, errno);
        goto fail;
    }
    int e = s_write_all(fd, data, len);
    if (e != 0) {
        rc = s_fail(err, "write", tmp, e);
        goto fail;
    }
    if (point)
        tw_fault_crash(point, "before_fsync");
    if (s_fsync(fd, 0) != 0) {
        rc = s_fail(err, "fsync", tmp, errno);
        goto fail;
    }
    if (point)
        tw_fault_crash(point, "after_fsync");
    if (close(fd) != 0) {
        fd = -1;
        rc = s_fail(err, "close", tmp, errno);
        goto fail;
    }
    fd = -1;
    if (rename(tmp, path) != 0) {
        rc = s_fail(err, "rename into", path, errno);
        goto fail;
    }
    if (point)
        tw_fault_crash(point, "after_rename");
    rc = tw_file_sync_dir(dir, err);
    goto out;
fail:
    if (fd >= 0)
        close(fd);
    unlink(tmp);
out:
    free(tmp);
    free(dir);
    return rc;
}

tw_rc_t tw_file_open_append(const char *path, mode_t mode, int *fd,
                            tw_err_t *err)
{
    assert(path);
    assert(fd);
    int f = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, mode);
    if (f < 0)
        return s_fail(err, "open", path, errno);
    *fd = f;
    return TW_OK;
}

tw_rc_t tw_file_append(int fd, const void *data, size_t len, tw_err_t *err)
{
    assert(fd >= 0);
    assert(data || len == 0);
    off_t before = lseek(fd, 0, SEEK_END);
    tw_rc_t rc = TW_OK;
    int e = s_write_all(fd, data, len);
    if (e != 0)
        rc = s_fail(err, "append to", "file", e);
    else if (s_fsync(fd, 1) != 0)
        rc = s_fail(err, "fdatasync", "file", errno);
    if (rc != TW_OK && before >= 0) {
        /* Drop the torn record; a later append then starts clean. */
        int r;
        do {
            r = ftruncate(fd, before);
        } while (r != 0 && errno == EINTR);
    }
    return rc;
}

tw_rc_t tw_file_read_all(const char *path, size_t max, char **data, size_t *len,
                         tw_err_t *err)
{
    assert(path);
    assert(data);
    *data = NULL;
    if (max > SIZE_MAX / 2)
        max = SIZE_MAX / 2;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return s_fail(err, "open", path, errno);
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return s_fail(err, "stat", path, e);
    }
    if (S_ISDIR(st.st_mode)) {
        close(fd);
        return s_fail(err, "read", path, EISDIR);
    }
    if (S_ISREG(st.st_mode) && (uint64_t)st.st_size > (uint64_t)max) {
        close(fd);
        tw_err_set(err, "unable to read %s: larger than %zu bytes", path, max);
        return TW_ERR_TOOBIG;
    }
    size_t cap = S_ISREG(st.st_mode) ? (size_t)st.st_size + 1 : 4096;
    if (cap > max + 1)
        cap = max + 1;
    size_t used = 0;
    char *buf = malloc(cap + 1);
    tw_rc_t rc = buf ? TW_OK : TW_ERR_NOMEM;
    while (rc == TW_OK) {
        if (used == cap) {
            /* The file grew (or is not regular): one more byte than max
             * tells us it is too big. */
            if (cap > max) {
                tw_err_set(err, "unable to read %s: larger than %zu bytes",
                           path, max);
                rc = TW_ERR_TOOBIG;
                break;
            }
            size_t ncap = cap * 2 > max + 1 ? max + 1 : cap * 2;
            char *nb = realloc(buf, ncap + 1);
            if (!nb) {
                rc = TW_ERR_NOMEM;
                break;
            }
            buf = nb;
            cap = ncap;
        }
        ssize_t n = read(fd, buf + used, cap - used);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            rc = s_fail(err, "read", path, errno);
            break;
        }
        if (n == 0)
            break;
        used += (size_t)n;
    }
    close(fd);
    if (rc == TW_OK && used > max) {
        tw_err_set(err, "unable to read %s: larger than %zu bytes", path, max);
        rc = TW_ERR_TOOBIG;
    }
    if (rc != TW_OK) {
        if (rc == TW_ERR_NOMEM)
            tw_err_set(err, "unable to read %s: out of memory", path);
        free(buf);
        return rc;
    }
    buf[used] = '\0';
    *data = buf;
    if (len)
        *len = used;
    return TW_OK;
}

tw_rc_t tw_file_mkdirs(const char *path, mode_t mode, tw_err_t *err)
{
    assert(path);
    if (!*path) {
        tw_err_set(err, "unable to create a directory with an empty name");
        return TW_ERR_INVALID;
    }
    char *copy = strdup(path);
    if (!copy) {
        tw_err_set(err, "out of memory");
        return TW_ERR_NOMEM;
    }
    size_t len = strlen(copy);
    while (len > 1 && copy[len - 1] == '/')
        copy[--len] = '\0';
    tw_rc_t rc = TW_OK;
    for (char *p = copy + 1;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char saved = *p;
        *p = '\0';
        if (mkdir(copy, mode) != 0) {
            int e = errno;
            struct stat st;
            if (e != EEXIST) {
                rc = s_fail(err, "create directory", copy, e);
            } else if (stat(copy, &st) != 0 || !S_ISDIR(st.st_mode)) {
                tw_err_set(err,
                           "unable to create directory %s: exists and "
                           "is not a directory",
                           copy);
                rc = TW_ERR_EXISTS;
            }
        }
        *p = saved;
        if (rc != TW_OK || saved == '\0')
            break;
    }
    free(copy);
    return rc;
}

tw_rc_t tw_file_check_secret(const char *path, tw_err_t *err)
{
    assert(path);
    struct stat st;
    if (stat(path, &st) != 0)
        return s_fail(err, "stat", path, errno);
    if (!S_ISREG(st.st_mode)) {
        tw_err_set(err, "%s is not a regular file", path);
        return TW_ERR_IO;
    }
    if (st.st_mode & 077) {
        tw_err_set(err, "%s is %s by group or others (mode %04o); chmod 600 it",
                   path, (st.st_mode & 044) ? "readable" : "writable",
                   (unsigned)(st.st_mode & 07777));
        return TW_ERR_PERM;
    }
    return TW_OK;
}

char *tw_file_exe_relative_dir(const char *const *rel, size_t n)
{
    assert(rel || n == 0);
    char exe[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len <= 0)
        return NULL;
    exe[len] = '\0';
    char *slash = strrchr(exe, '/');
    if (!slash)
        return NULL;
    *slash = '\0';
    for (size_t i = 0; i < n; i++) {
        char cand[PATH_MAX + 64];
        struct stat st;
        snprintf(cand, sizeof cand, "%s/%s", exe, rel[i]);
        if (stat(cand, &st) == 0 && S_ISDIR(st.st_mode)) {
            char *real = realpath(cand, NULL);
            if (real)
                return real;
        }
    }
    return NULL;
}
