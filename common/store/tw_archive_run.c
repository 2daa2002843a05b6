/* tw_archive_run - one archive pass: find the closed days, zip them, upload
 * them resumably, verify, journal each step, delete old local days. */
#define _XOPEN_SOURCE 700 /* nftw */
#include "tw_archive.h"

#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tw_drive.h"
#include "tw_file.h"
#include "tw_gauth.h"
#include "tw_log.h"
#include "tw_time.h"

#define ZIP_MIME     "application/zip"
#define MAX_RESTARTS 3 /* new sessions per day and pass after 404s */

/* State of one pass. */
typedef struct {
    const tw_archive_opts_t *o;    /* options */
    const tw_cfg_t *cfg;           /* configuration */
    char data[4096];               /* DATA */
    char state_dir[4096];          /* STATE/uploader */
    char archive[4200];            /* DATA/archive */
    char today[TW_TIME_DATE_SIZE]; /* local date now */
    int64_t now_us;                /* the pass's "now" */
    bool upload;                   /* Drive enabled and wanted */
    bool blocked;                  /* uploads stopped (credentials, quota) */
    tw_archive_state_t *st;        /* the journal */
    tw_gauth_t *auth;              /* token source, made on first need */
    tw_drive_t *drive;             /* Drive client, made on first need */
    char folder[256];              /* target folder id, "" until resolved */
    tw_archive_report_t *rep;      /* what happened */
} s_pass_t;

/* Test hook: TUBEWATCH_UPLOADER_CRASH_AT=point kills the process with
 * SIGKILL at that point (zip, zipped, session, sent, deleting), so tests
 * can prove that a crash at every step is harmless. */
static void s_crash_point(const char *point)
{
    const char *at = getenv("TUBEWATCH_UPLOADER_CRASH_AT");
    if (at && strcmp(at, point) == 0)
        raise(SIGKILL);
}

static void s_fail(s_pass_t *p, const char *date, tw_rc_t rc, const tw_err_t *e)
{
    p->rep->failed++;
    tw_log_error("unable to archive %s: %s", date,
                 e->msg[0] ? e->msg : tw_rc_str(rc));
    if (p->rep->first_rc == TW_OK) {
        p->rep->first_rc = rc;
        snprintf(p->rep->first_error, sizeof p->rep->first_error, "%s: %.480s",
                 date, e->msg[0] ? e->msg : tw_rc_str(rc));
    }
}

static tw_rc_t s_save(s_pass_t *p, tw_archive_day_t *d, tw_err_t *err)
{
    d->updated_us = tw_time_now_us();
    return tw_archive_state_save(p->st, err);
}

/* Adds the YYYY-MM-DD subdirectories of DATA/tree to the journal as
 * phase-none days (no save: only days that do something are written). */
static tw_rc_t s_scan_tree(s_pass_t *p, const char *tree)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", p->data, tree);
    DIR *d = opendir(path);
    if (!d)
        return TW_OK;
    struct dirent *de;
    tw_rc_t rc = TW_OK;
    while ((de = readdir(d)) != NULL) {
        if (!tw_archive_valid_date(de->d_name))
            continue;
        if (!tw_archive_state_get(p->st, de->d_name, true)) {
            rc = TW_ERR_NOMEM;
            break;
        }
    }
    closedir(d);
    return rc;
}

static tw_rc_t s_need_drive(s_pass_t *p, tw_err_t *err)
{
    tw_rc_t rc = TW_OK;
    if (!p->auth)
        rc = tw_gauth_new(&p->auth, &p->cfg->drive, err);
    if (rc == TW_OK && !p->drive) {
        rc = tw_drive_new(&p->drive, &p->cfg->drive, p->auth, err);
        if (rc == TW_OK)
            tw_drive_set_tick(p->drive, p->o->tick, p->o->tick_arg);
    }
    if (rc == TW_OK && !p->folder[0])
        rc = tw_drive_folder(p->drive, p->folder, sizeof p->folder, err);
    return rc;
}

static bool s_exists(const char *path, uint64_t *size)
{
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
        return false;
    if (size)
        *size = (uint64_t)st.st_size;
    return true;
}

/* Writes DATA/archive/DATE.zip and journals "zipped". TW_ERR_NOTFOUND when
 * the day holds no file at all. */
static tw_rc_t s_zip(s_pass_t *p, const char *date, const char *zip,
                     tw_err_t *err)
{
    tw_archive_entries_t e;
    tw_rc_t rc = tw_archive_collect(p->data, date, &e, err);
    if (rc != TW_OK)
        return rc;
    if (e.n == 0) {
        tw_archive_entries_free(&e);
        return TW_ERR_NOTFOUND;
    }
    char *manifest = tw_archive_manifest_json(date, &e);
    if (!manifest) {
        tw_archive_entries_free(&e);
        return TW_ERR_NOMEM;
    }
    rc = tw_file_mkdirs(p->archive, 0755, err);
    if (rc == TW_OK)
        rc = tw_archive_zip_write(zip, date, &e, manifest, p->o->tick,
                                  p->o->tick_arg, err);
    size_t nfiles = e.n;
    free(manifest);
    tw_archive_entries_free(&e);
    if (rc != TW_OK)
        return rc;
    s_crash_point("zip");
    char md5[33];
    uint64_t size = 0;
    rc = tw_drive_md5_file(zip, md5, &size, err);
    if (rc != TW_OK)
        return rc;
    tw_archive_day_t *d = tw_archive_state_get(p->st, date, true);
    if (!d)
        return TW_ERR_NOMEM;
    d->phase = TW_ARCHIVE_ZIPPED;
    d->size = size;
    snprintf(d->md5, sizeof d->md5, "%s", md5);
    d->session[0] = '\0';
    d->file_id[0] = '\0';
    rc = s_save(p, d, err);
    s_crash_point("zipped");
    if (rc == TW_OK) {
        p->rep->zipped++;
        tw_log_info("archived %s: %zu files, %" PRIu64 " bytes, md5 %s", date,
                    nfiles, size, md5);
    }
    return rc;
}

static tw_rc_t s_mark_uploaded(s_pass_t *p, const char *date,
                               const tw_drive_file_t *f, const char *how,
                               tw_err_t *err)
{
    tw_archive_day_t *d = tw_archive_state_get(p->st, date, false);
    d->phase = TW_ARCHIVE_UPLOADED;
    snprintf(d->file_id, sizeof d->file_id, "%s", f->id);
    d->session[0] = '\0';
    tw_rc_t rc = s_save(p, d, err);
    if (rc == TW_OK) {
        p->rep->uploaded++;
        tw_log_info("uploaded %s.zip to Drive (%s): file %s, md5 %s verified",
                    date, how, f->id, f->md5);
    }
    return rc;
}

/* Uploads a zipped day, resuming its journaled session if any. */
static tw_rc_t s_upload(s_pass_t *p, const char *date, const char *zip,
                        tw_err_t *err)
{
    tw_rc_t rc = s_need_drive(p, err);
    if (rc != TW_OK)
        return rc;
    char name[32];
    snprintf(name, sizeof name, "%s.zip", date);
    for (int restarts = 0;; restarts++) {
        tw_archive_day_t *d = tw_archive_state_get(p->st, date, false);
        char md5[33];
        snprintf(md5, sizeof md5, "%s", d->md5);
        uint64_t size = d->size;
        if (d->phase == TW_ARCHIVE_ZIPPED) {
            /* a crash may have come after Drive stored the file */
            tw_drive_file_t f = {0};
            rc = tw_drive_find(p->drive, p->folder, name, md5, &f, err);
            if (rc == TW_OK && strcmp(f.md5, md5) == 0)
                return s_mark_uploaded(p, date, &f, "found already there", err);
            if (rc == TW_OK)
                tw_log_warn("Drive already holds a different %s (md5 %s); "
                            "uploading this one too",
                            name, f.md5);
            else if (rc != TW_ERR_NOTFOUND)
                return rc;
            char *session = NULL;
            rc = tw_drive_start(p->drive, p->folder, name, ZIP_MIME, size,
                                &session, err);
            if (rc != TW_OK)
                return rc;
            d = tw_archive_state_get(p->st, date, false);
            if (strlen(session) >= sizeof d->session ||
                strpbrk(session, "\t\r\n")) {
                free(session);
                tw_err_set(err, "unusable upload session URI from Drive");
                return TW_ERR_PROTO;
            }
            d->phase = TW_ARCHIVE_SESSION;
            snprintf(d->session, sizeof d->session, "%s", session);
            free(session);
            /* journaled before the first byte leaves */
            rc = s_save(p, d, err);
            if (rc != TW_OK)
                return rc;
            s_crash_point("session");
        }
        char session[2048];
        snprintf(session, sizeof session, "%s", d->session);
        tw_drive_file_t f = {0};
        rc = tw_drive_send(p->drive, session, zip, size, md5, &f, err);
        if (rc == TW_OK) {
            s_crash_point("sent");
            return s_mark_uploaded(p, date, &f, "resumable upload", err);
        }
        if (rc != TW_ERR_NOTFOUND && rc != TW_ERR_IO)
            return rc;
        if (rc == TW_ERR_IO && !f.id[0])
            return rc; /* local read error */
        if (rc == TW_ERR_IO) {
            /* Drive holds a corrupt copy: remove it so that one good file
             * remains */
            tw_err_t derr = {0};
            tw_log_warn("%s; deleting Drive file %s", err ? err->msg : "",
                        f.id);
            if (tw_drive_delete(p->drive, f.id, &derr) != TW_OK)
                tw_log_warn("unable to delete Drive file %s: %s", f.id,
                            derr.msg);
        }
        /* the session is gone, or Drive stored a wrong copy: start over
         * (the lookup first, in case the file is complete after all) */
        tw_log_warn("restarting the upload of %s: %s", name,
                    err ? err->msg : tw_rc_str(rc));
        d = tw_archive_state_get(p->st, date, false);
        d->phase = TW_ARCHIVE_ZIPPED;
        d->session[0] = '\0';
        tw_rc_t src = s_save(p, d, err);
        if (src != TW_OK)
            return src;
        if (restarts + 1 >= MAX_RESTARTS)
            return rc == TW_ERR_NOTFOUND ? TW_ERR_AGAIN : rc;
    }
}

static int s_rm(const char *path, const struct stat *sb, int flag,
                struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    if (remove(path) != 0 && errno != ENOENT)
        return -1;
    return 0;
}

/* Deletes DATA/{comments,viewers,stats}/DATE. */
static tw_rc_t s_delete_day(s_pass_t *p, const char *date, tw_err_t *err)
{
    static const char *const trees[] = TW_ARCHIVE_TREES;
    for (size_t t = 0; t < sizeof trees / sizeof trees[0]; t++) {
        char path[4200];
        snprintf(path, sizeof path, "%s/%s/%s", p->data, trees[t], date);
        struct stat st;
        if (lstat(path, &st) != 0)
            continue;
        if (nftw(path, s_rm, 16, FTW_DEPTH | FTW_PHYS) != 0) {
            tw_err_set(err, "unable to delete %s: %s", path, strerror(errno));
            return tw_file_errno_rc(errno);
        }
    }
    return TW_OK;
}

/* True when date is more than keep days before today. */
static bool s_old_enough(s_pass_t *p, const char *date, uint32_t keep)
{
    int64_t d_us = 0, t_us = 0;
    if (tw_time_parse_date(date, &d_us, NULL) != TW_OK ||
        tw_time_parse_date(p->today, &t_us, NULL) != TW_OK)
        return false;
    int64_t days = (t_us - d_us) / (86400LL * 1000000);
    return days > (int64_t)keep;
}

static tw_rc_t s_day(s_pass_t *p, const char *date, tw_err_t *err)
{
    char zip[4300];
    snprintf(zip, sizeof zip, "%s/%s.zip", p->archive, date);
    tw_archive_day_t *d = tw_archive_state_get(p->st, date, true);
    if (!d)
        return TW_ERR_NOMEM;
    tw_rc_t rc = TW_OK;
    if (d->phase < TW_ARCHIVE_UPLOADED) {
        uint64_t have = 0;
        bool ok = d->phase >= TW_ARCHIVE_ZIPPED && s_exists(zip, &have) &&
                  have == d->size;
        if (!ok) {
            if (d->phase >= TW_ARCHIVE_ZIPPED)
                tw_log_warn("%s is missing or changed; archiving %s again", zip,
                            date);
            rc = s_zip(p, date, zip, err);
            if (rc == TW_ERR_NOTFOUND) {
                tw_err_clear(err);
                return TW_OK; /* nothing recorded that day */
            }
            if (rc != TW_OK)
                return rc;
        }
        if (!p->upload || p->blocked) {
            p->rep->pending += p->blocked;
            return TW_OK;
        }
        if (p->o->tick && p->o->tick(p->o->tick_arg) != 0)
            return TW_ERR_CLOSED;
        rc = s_upload(p, date, zip, err);
        if (rc != TW_OK) {
            p->rep->pending++;
            return rc;
        }
    }
    d = tw_archive_state_get(p->st, date, false);
    uint32_t keep = p->cfg->uploader.keep_days;
    if (d->phase == TW_ARCHIVE_UPLOADED && keep > 0 &&
        s_old_enough(p, date, keep)) {
        rc = s_delete_day(p, date, err);
        if (rc != TW_OK)
            return rc;
        s_crash_point("deleting");
        d->phase = TW_ARCHIVE_DELETED;
        rc = s_save(p, d, err);
        if (rc == TW_OK) {
            p->rep->deleted++;
            tw_log_info("deleted the local data of %s (uploaded, older than "
                        "%u days)",
                        date, keep);
        }
    }
    return rc;
}

static int s_lock(const char *dir, bool no_wait, tw_err_t *err)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/lock", dir);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        tw_err_set(err, "unable to open %s: %s", path, strerror(errno));
        return -1;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) == 0)
        return fd;
    if (errno == EWOULDBLOCK && !no_wait) {
        tw_log_info("waiting for another archive run to finish");
        if (flock(fd, LOCK_EX) == 0)
            return fd;
    }
    int e = errno;
    close(fd);
    tw_err_set(err, "another archive run holds %s%s", path,
               e == EWOULDBLOCK ? "" : strerror(e));
    errno = e;
    return -2;
}

/* A pass in progress: the state of s_day plus the days left. */
struct tw_archive_pass {
    s_pass_t p;                       /* what s_day works with */
    tw_archive_opts_t opts;           /* copy of the caller's options */
    int lock;                         /* STATE/uploader/lock, held */
    char (*dates)[TW_TIME_DATE_SIZE]; /* the journal's days, in order */
    size_t n;                         /* entries of dates */
    size_t next;                      /* index of the next day to try */
    tw_rc_t rc;                       /* TW_ERR_CLOSED once interrupted */
};

tw_rc_t tw_archive_pass_new(tw_archive_pass_t **self_p,
                            const tw_archive_opts_t *o,
                            tw_archive_report_t *rep, tw_err_t *err)
{
    assert(self_p);
    assert(o);
    assert(rep);
    *self_p = NULL;
    memset(rep, 0, sizeof *rep);
    tw_archive_pass_t *self = calloc(1, sizeof *self);
    if (!self)
        return TW_ERR_NOMEM;
    self->opts = *o;
    self->lock = -1;
    o = &self->opts;
    s_pass_t *p = &self->p;
    p->o = o;
    p->cfg = o->cfg;
    p->rep = rep;
    const tw_cfg_supervisor_t *sv = &o->cfg->supervisor;
    snprintf(p->data, sizeof p->data, "%s",
             o->data_dir ? o->data_dir : sv->data_dir);
    if (o->state_dir)
        snprintf(p->state_dir, sizeof p->state_dir, "%s", o->state_dir);
    else
        snprintf(p->state_dir, sizeof p->state_dir, "%s/uploader",
                 sv->state_dir);
    snprintf(p->archive, sizeof p->archive, "%s/archive", p->data);
    p->now_us = o->now_us ? o->now_us : tw_time_now_us();
    p->upload = o->cfg->drive.enabled && !o->no_upload;
    tw_rc_t rc = tw_time_local_date(sv->timezone, p->now_us, p->today, err);
    if (rc == TW_OK && o->only_date && !tw_archive_valid_date(o->only_date)) {
        tw_err_set(err, "invalid date '%s' (want YYYY-MM-DD)", o->only_date);
        rc = TW_ERR_INVALID;
    }
    if (rc == TW_OK && o->only_date && strcmp(o->only_date, p->today) >= 0) {
        tw_err_set(err, "%s is not closed yet (today is %s in %s)",
                   o->only_date, p->today, sv->timezone);
        rc = TW_ERR_INVALID;
    }
    if (rc == TW_OK)
        rc = tw_file_mkdirs(p->state_dir, 0700, err);
    if (rc == TW_OK) {
        self->lock = s_lock(p->state_dir, o->no_wait, err);
        if (self->lock < 0)
            rc = self->lock == -2 ? TW_ERR_AGAIN : TW_ERR_IO;
    }
    char jpath[4300];
    snprintf(jpath, sizeof jpath, "%s/uploaded.tsv", p->state_dir);
    if (rc == TW_OK)
        rc = tw_archive_state_load(jpath, &p->st, err);
    if (rc == TW_OK && o->only_date) {
        if (!tw_archive_state_get(p->st, o->only_date, true))
            rc = TW_ERR_NOMEM;
    } else if (rc == TW_OK) {
        static const char *const trees[] = TW_ARCHIVE_TREES;
        for (size_t t = 0; rc == TW_OK && t < sizeof trees / sizeof trees[0];
             t++)
            rc = s_scan_tree(p, trees[t]);
    }
    /* dates first: s_day may add to the journal and move entries */
    if (rc == TW_OK) {
        self->n = tw_archive_state_count(p->st);
        self->dates = calloc(self->n ? self->n : 1, sizeof *self->dates);
        if (!self->dates)
            rc = TW_ERR_NOMEM;
    }
    for (size_t i = 0; rc == TW_OK && i < self->n; i++)
        snprintf(self->dates[i], sizeof self->dates[i], "%s",
                 tw_archive_state_at(p->st, i)->date);
    if (rc != TW_OK) {
        tw_archive_pass_destroy(&self);
        return rc;
    }
    *self_p = self;
    return TW_OK;
}

/* Moves self->next to the next day a step works on (closed, not deleted,
 * the only_date if one); n when none is left. */
static void s_skip(tw_archive_pass_t *self)
{
    const tw_archive_opts_t *o = &self->opts;
    for (; self->next < self->n; self->next++) {
        const char *date = self->dates[self->next];
        if (o->only_date && strcmp(date, o->only_date) != 0)
            continue;
        if (strcmp(date, self->p.today) >= 0)
            continue; /* not closed yet */
        tw_archive_day_t *d = tw_archive_state_get(self->p.st, date, false);
        if (d->phase == TW_ARCHIVE_DELETED)
            continue;
        return;
    }
}

tw_rc_t tw_archive_pass_step(tw_archive_pass_t *self, bool *done, tw_err_t *err)
{
    assert(self);
    assert(done);
    s_pass_t *p = &self->p;
    *done = true;
    if (self->rc != TW_OK)
        return self->rc;
    s_skip(self);
    if (self->next >= self->n)
        return TW_OK;
    const char *date = self->dates[self->next++];
    tw_err_t e = {0};
    tw_rc_t drc = s_day(p, date, &e);
    if (drc == TW_ERR_CLOSED) {
        self->rc = drc;
        tw_err_set(err, "archive run interrupted");
        return drc;
    }
    if (drc != TW_OK) {
        s_fail(p, date, drc, &e);
        /* credentials or a full Drive fail every day alike: keep zipping,
         * stop asking Drive */
        if (drc == TW_ERR_AUTH || drc == TW_ERR_QUOTA || drc == TW_ERR_CONFIG)
            p->blocked = true;
    }
    s_skip(self);
    *done = self->next >= self->n;
    return TW_OK;
}

tw_rc_t tw_archive_pass_end(tw_archive_pass_t **self_p, tw_err_t *err)
{
    assert(self_p);
    tw_archive_pass_t *self = *self_p;
    if (!self)
        return TW_OK;
    tw_rc_t rc = self->rc;
    tw_archive_report_t *rep = self->p.rep;
    tw_archive_pass_destroy(self_p);
    if (rc != TW_OK)
        return rc;
    if (rep->first_rc != TW_OK) {
        tw_err_set(err, "%s", rep->first_error);
        return rep->first_rc;
    }
    return TW_OK;
}

void tw_archive_pass_destroy(tw_archive_pass_t **self_p)
{
    assert(self_p);
    tw_archive_pass_t *self = *self_p;
    if (!self)
        return;
    free(self->dates);
    tw_drive_destroy(&self->p.drive);
    tw_gauth_destroy(&self->p.auth);
    tw_archive_state_destroy(&self->p.st);
    if (self->lock >= 0)
        close(self->lock);
    free(self);
    *self_p = NULL;
}

tw_rc_t tw_archive_run(const tw_archive_opts_t *o, tw_archive_report_t *rep,
                       tw_err_t *err)
{
    tw_archive_pass_t *pass = NULL;
    tw_rc_t rc = tw_archive_pass_new(&pass, o, rep, err);
    if (rc != TW_OK)
        return rc;
    bool done = false;
    while (rc == TW_OK && !done)
        rc = tw_archive_pass_step(pass, &done, err);
    return tw_archive_pass_end(&pass, err);
}
