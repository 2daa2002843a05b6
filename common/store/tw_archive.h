/* uploader - archives closed days of DATA into DATA/archive/DAY.zip (with a
 * manifest) and uploads them to Google Drive, journaling every step in
 * STATE/uploader/uploaded.tsv so that a crash at any point neither loses
 * nor duplicates an upload. Shared by tw-uploader and `tubewatch archive`. */
#ifndef TW_ARCHIVE_H
#define TW_ARCHIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tw_cfg.h"
#include "tw_rc.h"

/* The trees of DATA that make up a day. */
#define TW_ARCHIVE_TREES                                                       \
    {                                                                          \
        "comments", "viewers", "stats"                                         \
    }
/* Name of the manifest inside every zip. */
#define TW_ARCHIVE_MANIFEST "manifest.json"

/* ---- manifest and zip (uploader_zip.c) ---- */

/* One data file of a day. */
typedef struct {
    char *rel;       /* path inside the zip: "comments/DAY/CH/VID.tsv" */
    char *abs;       /* path on disk */
    uint64_t size;   /* bytes */
    uint64_t lines;  /* newline characters */
    char sha256[65]; /* lower-case hex */
    int64_t mtime;   /* modification time, Unix seconds */
} tw_archive_entry_t;

/* The data files of a day, sorted by rel. */
typedef struct {
    tw_archive_entry_t *v; /* entries */
    size_t n;              /* how many */
} tw_archive_entries_t;

/* Called while zipping and uploading; non-zero aborts (TW_ERR_CLOSED). */
typedef int(tw_archive_tick_fn)(void *arg);

/* True when s is a valid calendar date "YYYY-MM-DD". */
bool tw_archive_valid_date(const char *s);
/* Collects the files of DATA/{comments,viewers,stats}/date (skipping
 * temporary "*.tmp.*" names) with their size, line count and sha256.
 * Free with tw_archive_entries_free. */
tw_rc_t tw_archive_collect(const char *data_dir, const char *date,
                           tw_archive_entries_t *out, tw_err_t *err);
/* Frees what e owns and zeroes it. */
void tw_archive_entries_free(tw_archive_entries_t *e);
/* Returns the manifest JSON of a day (caller frees), NULL when out of
 * memory: {"date", "generator", "files": [{path, size, lines, sha256}],
 * "total_files", "total_lines", "total_bytes"}. No timestamps, so the same
 * data gives the same bytes. */
char *tw_archive_manifest_json(const char *date, const tw_archive_entries_t *e);
/* Writes the zip of entries plus manifest (deflate, fixed mtimes, sorted:
 * the same input gives the same zip) to zip_path through a temporary file
 * in the same directory, fsynced and renamed. tick may be NULL. */
tw_rc_t tw_archive_zip_write(const char *zip_path, const char *date,
                             const tw_archive_entries_t *e,
                             const char *manifest, tw_archive_tick_fn *tick,
                             void *tick_arg, tw_err_t *err);

/* ---- journal (uploader_state.c) ---- */

/* How far a day got. */
typedef enum {
    TW_ARCHIVE_NONE = 0,     /* nothing done */
    TW_ARCHIVE_ZIPPED = 1,   /* zip written (size, md5 known) */
    TW_ARCHIVE_SESSION = 2,  /* upload session started (session URI kept) */
    TW_ARCHIVE_UPLOADED = 3, /* on Drive, md5 verified (file id kept) */
    TW_ARCHIVE_DELETED = 4,  /* uploaded and local day dirs deleted */
} tw_archive_phase_t;

/* One day of the journal. */
typedef struct {
    char date[11];            /* "YYYY-MM-DD" */
    tw_archive_phase_t phase; /* how far it got */
    uint64_t size;            /* zip bytes */
    char md5[33];             /* zip md5, "" when unknown */
    char session[2048];       /* resumable session URI, "" when none */
    char file_id[128];        /* Drive file id, "" when not uploaded */
    int64_t updated_us;       /* last change */
} tw_archive_day_t;

/* The journal: every day it knows, sorted by date. */
typedef struct tw_archive_state tw_archive_state_t;

/* Returns the wire name of a phase ("zipped", ...). */
const char *tw_archive_phase_name(tw_archive_phase_t p);
/* Loads path (missing = empty journal). Malformed lines are skipped with a
 * warning. */
tw_rc_t tw_archive_state_load(const char *path, tw_archive_state_t **self_p,
                              tw_err_t *err);
/* Frees *self_p and sets it to NULL; safe to call twice. */
void tw_archive_state_destroy(tw_archive_state_t **self_p);
/* Returns the day (borrowed, valid until the next get with create), or
 * NULL when unknown and create is false. */
tw_archive_day_t *tw_archive_state_get(tw_archive_state_t *self,
                                       const char *date, bool create);
/* Number of days known. */
size_t tw_archive_state_count(const tw_archive_state_t *self);
/* The i-th day in date order (borrowed). */
tw_archive_day_t *tw_archive_state_at(tw_archive_state_t *self, size_t i);
/* Writes the journal atomically (temporary file, fsync, rename). */
tw_rc_t tw_archive_state_save(tw_archive_state_t *self, tw_err_t *err);

/* ---- a pass (tw_archive_run.c) ---- */

/* Options of one pass. */
typedef struct {
    const tw_cfg_t *cfg;      /* the configuration (borrowed) */
    const char *data_dir;     /* NULL: cfg->supervisor.data_dir */
    const char *state_dir;    /* NULL: cfg->supervisor.state_dir + /uploader */
    const char *only_date;    /* one day, or NULL for every closed day */
    bool no_upload;           /* archive only, even when Drive is enabled */
    bool no_wait;             /* fail at once when another run holds the lock */
    int64_t now_us;           /* 0: the wall clock (tests set it) */
    tw_archive_tick_fn *tick; /* heartbeat / stop check, or NULL */
    void *tick_arg;           /* its argument */
} tw_archive_opts_t;

/* What a pass did. */
typedef struct {
    uint32_t zipped;       /* zips written */
    uint32_t uploaded;     /* uploads verified (or found already there) */
    uint32_t deleted;      /* days whose local dirs were deleted */
    uint32_t failed;       /* days that failed */
    uint32_t pending;      /* days still waiting for an upload */
    tw_rc_t first_rc;      /* rc of the first failure, TW_OK if none */
    char first_error[512]; /* its message */
} tw_archive_report_t;

/* Archives (and uploads when Drive is enabled and !no_upload) every closed
 * day (< today in cfg->supervisor.timezone) not done yet, or only_date;
 * then deletes the local dirs of verified days older than keep_days.
 * Holds STATE/uploader/lock (flock) meanwhile. Returns TW_OK when every
 * day succeeded, else the first failure's rc (the report has details);
 * TW_ERR_AGAIN (with no_wait) when another run holds the lock;
 * TW_ERR_CLOSED when tick aborted. */
tw_rc_t tw_archive_run(const tw_archive_opts_t *opts,
                       tw_archive_report_t *report, tw_err_t *err);

/* The same pass one day at a time, for a caller on an event loop: between
 * two steps it serves its loop (a day's zip and upload still call tick). */
typedef struct tw_archive_pass tw_archive_pass_t;
/* Starts a pass as tw_archive_run does (checks, lock, journal, the list of
 * days); report (the caller's, zeroed here) fills as days are done. Errors
 * as tw_archive_run's before any day; *self_p is NULL then. */
tw_rc_t tw_archive_pass_new(tw_archive_pass_t **self_p,
                            const tw_archive_opts_t *opts,
                            tw_archive_report_t *report, tw_err_t *err);
/* Works on the next day that needs it; *done becomes true when no day is
 * left. A failed day is counted in the report and the pass goes on (TW_OK);
 * TW_ERR_CLOSED (err set) when tick aborted: the pass is over. */
tw_rc_t tw_archive_pass_step(tw_archive_pass_t *self, bool *done,
                             tw_err_t *err);
/* Ends the pass (releases the lock, frees *self_p) and returns its result
 * as tw_archive_run does. */
tw_rc_t tw_archive_pass_end(tw_archive_pass_t **self_p, tw_err_t *err);
/* Frees *self_p without a result (abandoned pass); safe on NULL. */
void tw_archive_pass_destroy(tw_archive_pass_t **self_p);

#endif
