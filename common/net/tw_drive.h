/* tw_drive - Google Drive v3 for archives: find or create the target
 * folder, look a file up by name, and resumable uploads that survive
 * dropped connections, 5xx, expired tokens and lost sessions, verified
 * by md5Checksum. */
#ifndef TW_DRIVE_H
#define TW_DRIVE_H

#include <stdint.h>

#include "tw_cfg.h"
#include "tw_gauth.h"
#include "tw_rc.h"

/* A Drive client (borrows a token source). */
typedef struct tw_drive tw_drive_t;

/* A file resource as Drive reports it. */
typedef struct {
    char id[128];   /* file id */
    char name[256]; /* file name (truncated if longer) */
    uint64_t size;  /* bytes */
    char md5[33];   /* md5Checksum (lower-case hex), "" when absent */
} tw_drive_file_t;

/* Counters of one client. */
typedef struct {
    uint64_t requests;   /* HTTP requests sent */
    uint64_t puts;       /* chunk PUTs */
    uint64_t bytes_sent; /* bytes of chunk bodies sent */
    uint64_t queries;    /* session status queries (bytes *\/TOTAL) */
    uint64_t failures;   /* 5xx, 429, rate limits and network errors */
    uint64_t refreshes;  /* token refreshes after a 401 */
} tw_drive_stats_t;

/* Called between requests and during backoff waits; a non-zero return
 * aborts the operation with TW_ERR_CLOSED (e.g. on SIGTERM). */
typedef int(tw_drive_tick_fn)(void *arg);

/* Creates a client of cfg->api_base_url using auth (borrowed; must
 * outlive the client). chunk size, backoff 1 s doubling to 64 s and at most
 * 10 consecutive failures come from cfg and defaults; the environment
 * variable TUBEWATCH_DRIVE_BACKOFF_MS (tests) replaces the base delay.
 * Returns TW_ERR_CONFIG for a chunk size that is not a multiple of
 * 256 KiB. */
tw_rc_t tw_drive_new(tw_drive_t **self_p, const tw_cfg_drive_t *cfg,
                     tw_gauth_t *auth, tw_err_t *err);
/* Frees *self_p and sets it to NULL; safe to call twice. */
void tw_drive_destroy(tw_drive_t **self_p);
/* Sets the tick callback (NULL: none). */
void tw_drive_set_tick(tw_drive_t *self, tw_drive_tick_fn *fn, void *arg);
/* Overrides the backoff (base and cap in ms) and the number of
 * consecutive failures after which an operation gives up. */
void tw_drive_set_backoff(tw_drive_t *self, uint32_t base_ms, uint32_t max_ms,
                          uint32_t max_failures);
/* Copies the counters into *stats. */
void tw_drive_stats(const tw_drive_t *self, tw_drive_stats_t *stats);

/* Parses a Drive file resource (JSON) into *file: TW_ERR_PARSE without a
 * usable id. Exposed for tests and fuzzing. */
tw_rc_t tw_drive_parse_file(const char *body, size_t len, tw_drive_file_t *file,
                            tw_err_t *err);
/* Writes Drive's error reason of an error body (errors[0].reason, else
 * status; "" when none) into out. Exposed for tests and fuzzing. */
void tw_drive_error_reason(const char *body, size_t len, char *out, size_t cap);
/* True when id looks like a Drive file or folder id (1..127 characters of
 * A-Z a-z 0-9 _ -): ids from answers go into URLs, queries and state. */
bool tw_drive_id_ok(const char *id);
/* Resolves the target folder: cfg->folder_id when set, else the folder
 * cfg->folder_name in My Drive's root (the oldest of several with that
 * name), created when missing. Writes its id into id (cap bytes). */
tw_rc_t tw_drive_folder(tw_drive_t *self, char *id, size_t cap, tw_err_t *err);
/* Looks for a non-trashed file called name in folder_id; when several
 * match, prefers one whose md5 equals want_md5 (may be NULL). Fills *file;
 * TW_ERR_NOTFOUND when there is none. */
tw_rc_t tw_drive_find(tw_drive_t *self, const char *folder_id, const char *name,
                      const char *want_md5, tw_drive_file_t *file,
                      tw_err_t *err);
/* Starts a resumable upload of size bytes of type mime as name in
 * folder_id. Stores the session URI (caller frees; persist it before
 * sending) in *session. TW_ERR_QUOTA when Drive is full. */
tw_rc_t tw_drive_start(tw_drive_t *self, const char *folder_id,
                       const char *name, const char *mime, uint64_t size,
                       char **session, tw_err_t *err);
/* Sends the file at path (size bytes) to session, resuming from what the
 * server holds (it asks first), chunk by chunk, until Drive returns the
 * file resource (*file). When md5 is not NULL the returned md5Checksum
 * must equal it, else TW_ERR_IO. Returns TW_ERR_NOTFOUND when the session
 * is gone (404/410: start a new one), TW_ERR_QUOTA for storageQuotaExceeded,
 * TW_ERR_AUTH when tokens are refused, TW_ERR_AGAIN after too many
 * consecutive failures, TW_ERR_CLOSED when the tick callback aborted,
 * TW_ERR_IO when the local file cannot be read or changed size. */
tw_rc_t tw_drive_send(tw_drive_t *self, const char *session, const char *path,
                      uint64_t size, const char *md5, tw_drive_file_t *file,
                      tw_err_t *err);

/* Deletes (permanently) the file file_id, e.g. an upload whose
 * md5Checksum was wrong. TW_OK also when it is already gone (404). */
tw_rc_t tw_drive_delete(tw_drive_t *self, const char *file_id, tw_err_t *err);

/* Writes the MD5 of the file at path as 32 lower-case hex digits plus NUL
 * into hex and its size into *size (may be NULL). */
tw_rc_t tw_drive_md5_file(const char *path, char hex[33], uint64_t *size,
                          tw_err_t *err);
/* Returns name escaped for a Drive query string literal ('\'' and '\\'
 * get a backslash), caller frees; NULL when out of memory. */
char *tw_drive_q_escape(const char *name);

#endif
