/* tw_archive_zip - collects a day's files, builds its manifest and writes a
 * deterministic zip of both. */
#include "tw_archive.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zip.h>

#include "tw_file.h"
#include "tw_log.h"
#include "tw_time.h"
#include "tw_version.h"
#include "tw_fault.h"

bool tw_archive_valid_date(const char *s)
{
    if (!s || strlen(s) != 10)
        return false;
    for (int i = 0; i < 10; i++) {
        bool dash = i == 4 || i == 7;
        if (dash ? s[i] != '-' : (s[i] < '0' || s[i] > '9'))
            return false;
    }
    int64_t us;
    return tw_time_parse_date(s, &us, NULL) == TW_OK;
}

/* Growable entry list. */
typedef struct {
    tw_archive_entries_t *e; /* the list */
    size_t cap;              /* allocated entries */
} s_list_t;

static tw_rc_t s_hash(tw_archive_entry_t *en, tw_err_t *err)
{
    int fd = open(en->abs, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        tw_err_set(err, "unable to open %s: %s", en->abs, strerror(errno));
        return tw_file_errno_rc(errno);
    }
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
        EVP_MD_CTX_free(ctx);
        close(fd);
        return TW_ERR_NOMEM;
    }
    char buf[65536];
    tw_rc_t rc = TW_OK;
    en->size = 0;
    en->lines = 0;
    for (;;) {
        ssize_t r = read(fd, buf, sizeof buf);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            tw_err_set(err, "unable to read %s: %s", en->abs, strerror(errno));
            rc = tw_file_errno_rc(errno);
            break;
        }
        if (r == 0)
            break;
        EVP_DigestUpdate(ctx, buf, (size_t)r);
        en->size += (uint64_t)r;
        for (const char *p = buf; (p = memchr(p, '\n', (size_t)(buf + r - p)));
             p++)
            en->lines++;
    }
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_DigestFinal_ex(ctx, md, &len);
    EVP_MD_CTX_free(ctx);
    close(fd);
    for (unsigned i = 0; i < len && i < 32; i++)
        snprintf(en->sha256 + 2 * i, 3, "%02x", md[i]);
    return rc;
}

static tw_rc_t s_add(s_list_t *l, const char *abs, const char *rel,
                     int64_t mtime)
{
    if (l->e->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        tw_archive_entry_t *v = realloc(l->e->v, cap * sizeof *v);
        if (!v)
            return TW_ERR_NOMEM;
        l->e->v = v;
        l->cap = cap;
    }
    tw_archive_entry_t *en = &l->e->v[l->e->n];
    memset(en, 0, sizeof *en);
    en->abs = strdup(abs);
    en->rel = strdup(rel);
    en->mtime = mtime;
    if (!en->abs || !en->rel) {
        free(en->abs);
        free(en->rel);
        return TW_ERR_NOMEM;
    }
    l->e->n++;
    return TW_OK;
}

/* Walks abs (whose zip path is rel) recursively. */
static tw_rc_t s_walk(s_list_t *l, const char *abs, const char *rel, int depth,
                      tw_err_t *err)
{
    DIR *d = opendir(abs);
    if (!d) {
        if (errno == ENOENT)
            return TW_OK;
        tw_err_set(err, "unable to open directory %s: %s", abs,
                   strerror(errno));
        return tw_file_errno_rc(errno);
    }
    tw_rc_t rc = TW_OK;
    struct dirent *de;
    while (rc == TW_OK && (de = readdir(d)) != NULL) {
        const char *n = de->d_name;
        if (n[0] == '.' || strstr(n, ".tmp."))
            continue;
        char a[4096], r[4096];
        int la = snprintf(a, sizeof a, "%s/%s", abs, n);
        int lr = snprintf(r, sizeof r, "%s/%s", rel, n);
        if (la < 0 || lr < 0 || (size_t)la >= sizeof a ||
            (size_t)lr >= sizeof r)
            continue;
        struct stat st;
        if (lstat(a, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode) && depth < 8)
            rc = s_walk(l, a, r, depth + 1, err);
        else if (S_ISREG(st.st_mode))
            rc = s_add(l, a, r, (int64_t)st.st_mtime);
    }
    closedir(d);
    return rc;
}

static int s_cmp(const void *a, const void *b)
{
    const tw_archive_entry_t *x = a, *y = b;
    return strcmp(x->rel, y->rel);
}

tw_rc_t tw_archive_collect(const char *data_dir, const char *date,
                           tw_archive_entries_t *out, tw_err_t *err)
{
    memset(out, 0, sizeof *out);
    if (!tw_archive_valid_date(date)) {
        tw_err_set(err, "invalid date '%s' (want YYYY-MM-DD)", date);
        return TW_ERR_INVALID;
    }
    static const char *const trees[] = TW_ARCHIVE_TREES;
    s_list_t l = {out, 0};
    tw_rc_t rc = TW_OK;
    for (size_t t = 0; rc == TW_OK && t < sizeof trees / sizeof trees[0]; t++) {
        char abs[4096], rel[64];
        snprintf(abs, sizeof abs, "%s/%s/%s", data_dir, trees[t], date);
        snprintf(rel, sizeof rel, "%s/%s", trees[t], date);
        rc = s_walk(&l, abs, rel, 0, err);
    }
    if (rc == TW_OK && out->n > 1)
        qsort(out->v, out->n, sizeof *out->v, s_cmp);
    for (size_t i = 0; rc == TW_OK && i < out->n; i++)
        rc = s_hash(&out->v[i], err);
    if (rc != TW_OK)
        tw_archive_entries_free(out);
    return rc;
}

void tw_archive_entries_free(tw_archive_entries_t *e)
{
    if (!e)
        return;
    for (size_t i = 0; i < e->n; i++) {
        free(e->v[i].abs);
        free(e->v[i].rel);
    }
    free(e->v);
    memset(e, 0, sizeof *e);
}

char *tw_archive_manifest_json(const char *date, const tw_archive_entries_t *e)
{
    json_t *files = json_array();
    uint64_t lines = 0, bytes = 0;
    for (size_t i = 0; files && i < e->n; i++) {
        const tw_archive_entry_t *en = &e->v[i];
        json_t *f = json_pack("{s:s, s:I, s:I, s:s}", "path", en->rel, "size",
                              (json_int_t)en->size, "lines",
                              (json_int_t)en->lines, "sha256", en->sha256);
        if (!f || json_array_append_new(files, f) != 0) {
            json_decref(files);
            return NULL;
        }
        lines += en->lines;
        bytes += en->size;
    }
    if (!files)
        return NULL;
    json_t *root =
        json_pack("{s:s, s:s, s:o, s:I, s:I, s:I}", "date", date, "generator",
                  "tubewatch " TW_VERSION, "files", files, "total_files",
                  (json_int_t)e->n, "total_lines", (json_int_t)lines,
                  "total_bytes", (json_int_t)bytes);
    if (!root)
        return NULL;
    char *text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(root);
    if (!text)
        return NULL;
    size_t n = strlen(text);
    char *t2 = realloc(text, n + 2);
    if (!t2) {
        free(text);
        return NULL;
    }
    t2[n] = '\n';
    t2[n + 1] = '\0';
    return t2;
}

/* libzip callbacks: keep heartbeats going and allow an abort. */
typedef struct {
    tw_archive_tick_fn *tick; /* caller's tick */
    void *arg;                /* its argument */
} s_tick_t;

static void s_progress(zip_t *za, double done, void *ud)
{
    (void)za;
    (void)done;
    s_tick_t *t = ud;
    if (t->tick)
        (void)t->tick(t->arg);
}

static int s_cancel(zip_t *za, void *ud)
{
    (void)za;
    s_tick_t *t = ud;
    return t->tick ? t->tick(t->arg) : 0;
}

/* The system call behind one of libzip's errors, "" when none is. */
static const char *s_zip_call(int code)
{
    switch (code) {
    case ZIP_ER_RENAME:
        return "rename: ";
    case ZIP_ER_WRITE:
        return "write: ";
    case ZIP_ER_CLOSE:
        return "close: ";
    case ZIP_ER_READ:
        return "read: ";
    case ZIP_ER_SEEK:
        return "seek: ";
    case ZIP_ER_OPEN:
    case ZIP_ER_TMPOPEN:
        return "open: ";
    case ZIP_ER_REMOVE:
        return "unlink: ";
    default:
        return "";
    }
}

static tw_rc_t s_zip_err(zip_t *za, const char *what, const char *path,
                         tw_err_t *err)
{
    zip_error_t *ze = zip_get_error(za);
    int sys = zip_error_code_system(ze);
    tw_err_set(err, "unable to %s %s: %s%s", what, path,
               s_zip_call(zip_error_code_zip(ze)), zip_error_strerror(ze));
    return sys == ENOSPC ? TW_ERR_NOSPACE : TW_ERR_IO;
}

/* Removes "<zip>.tmp.*" left by a run killed while zipping (the caller
 * holds the uploader lock, so no live run owns them). */
static void s_remove_stale(const char *zip_path)
{
    char dir[4200];
    snprintf(dir, sizeof dir, "%s", zip_path);
    char *slash = strrchr(dir, '/');
    const char *base = zip_path;
    if (slash) {
        *slash = '\0';
        base = slash + 1;
    } else {
        snprintf(dir, sizeof dir, ".");
    }
    char prefix[300];
    snprintf(prefix, sizeof prefix, "%s.tmp.", base);
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (strncmp(de->d_name, prefix, strlen(prefix)) != 0)
            continue;
        char path[4600];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        unlink(path);
    }
    closedir(d);
}

tw_rc_t tw_archive_zip_write(const char *zip_path, const char *date,
                             const tw_archive_entries_t *e,
                             const char *manifest, tw_archive_tick_fn *tick,
                             void *tick_arg, tw_err_t *err)
{
    s_remove_stale(zip_path);
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", zip_path, (long)getpid());
    unlink(tmp);
    int zerr = 0;
    zip_t *za = zip_open(tmp, ZIP_CREATE | ZIP_TRUNCATE, &zerr);
    if (!za) {
        zip_error_t ze;
        zip_error_init_with_code(&ze, zerr);
        tw_err_set(err, "unable to create %s: %s", tmp,
                   zip_error_strerror(&ze));
        zip_error_fini(&ze);
        return TW_ERR_IO;
    }
    s_tick_t t = {tick, tick_arg};
    zip_register_progress_callback_with_state(za, 0.02, s_progress, NULL, &t);
    zip_register_cancel_callback_with_state(za, s_cancel, NULL, &t);
    int64_t day_us = 0;
    (void)tw_time_parse_date(date, &day_us, NULL);
    time_t fixed = (time_t)(day_us / 1000000);
    tw_rc_t rc = TW_OK;
    for (size_t i = 0; rc == TW_OK && i < e->n; i++) {
        const tw_archive_entry_t *en = &e->v[i];
        zip_source_t *src = zip_source_file(za, en->abs, 0, 0);
        zip_int64_t idx =
            src ? zip_file_add(za, en->rel, src, ZIP_FL_ENC_UTF_8) : -1;
        if (idx < 0) {
            if (src)
                zip_source_free(src);
            rc = s_zip_err(za, "add", en->abs, err);
            break;
        }
        zip_set_file_compression(za, (zip_uint64_t)idx, ZIP_CM_DEFLATE, 6);
        zip_file_set_mtime(za, (zip_uint64_t)idx, (time_t)en->mtime, 0);
    }
    if (rc == TW_OK) {
        zip_source_t *src =
            zip_source_buffer(za, manifest, strlen(manifest), 0);
        zip_int64_t idx =
            src ? zip_file_add(za, TW_ARCHIVE_MANIFEST, src, ZIP_FL_ENC_UTF_8)
                : -1;
        if (idx < 0) {
            if (src)
                zip_source_free(src);
            rc = s_zip_err(za, "add the manifest to", tmp, err);
        } else {
            zip_set_file_compression(za, (zip_uint64_t)idx, ZIP_CM_DEFLATE, 6);
            zip_file_set_mtime(za, (zip_uint64_t)idx, fixed, 0);
        }
    }
    if (rc != TW_OK) {
        zip_discard(za);
        unlink(tmp);
        return rc;
    }
    if (zip_close(za) != 0) {
        bool aborted = tick && tick(tick_arg) != 0;
        rc = aborted ? TW_ERR_CLOSED : s_zip_err(za, "write", tmp, err);
        zip_discard(za);
        unlink(tmp);
        return rc;
    }
    /* make the zip durable before it replaces anything */
    int fd = open(tmp, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e2 = errno;
        unlink(tmp);
        tw_err_set(err, "unable to open %s: %s", tmp, strerror(e2));
        return tw_file_errno_rc(e2);
    }
    tw_fault_crash("uploader/zip", "before_fsync");
    if (fsync(fd) != 0) {
        int e2 = errno;
        close(fd);
        unlink(tmp);
        tw_err_set(err, "unable to fsync %s: %s", tmp, strerror(e2));
        return tw_file_errno_rc(e2);
    }
    close(fd);
    tw_fault_crash("uploader/zip", "after_fsync");
    if (rename(tmp, zip_path) != 0) {
        int e2 = errno;
        unlink(tmp);
        tw_err_set(err, "unable to rename %s: %s", tmp, strerror(e2));
        return tw_file_errno_rc(e2);
    }
    tw_fault_crash("uploader/zip", "after_rename");
    char dir[4200];
    snprintf(dir, sizeof dir, "%s", zip_path);
    char *slash = strrchr(dir, '/');
    if (slash) {
        *slash = '\0';
        return tw_file_sync_dir(*dir ? dir : "/", err);
    }
    return tw_file_sync_dir(".", err);
}
