/* sup_log - captures each worker's stdout/stderr through a pipe owned by
 * tubewatchd and writes LOG_DIR/NAME.log with an RFC 3339 timestamp per
 * line, rotating by size. File I/O happens on one writer thread, so a slow
 * disk never blocks the event loop: each log has a bounded buffer, lines
 * that do not fit are dropped and counted, then reported in the file. */
#ifndef SUP_LOG_H
#define SUP_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tw_rc.h"

/* Bytes buffered per worker log before lines are dropped (allocated as
 * needed, freed while no process writes to the log). */
#define SUP_LOG_BUF_CAP (64 * 1024)
/* Longest line written; longer ones are split. */
#define SUP_LOG_LINE_MAX 4000

/* The writer thread and every open log. */
typedef struct sup_logger sup_logger_t;
/* One worker's log: its pipe and its buffer. */
typedef struct sup_log sup_log_t;

/* Starts the writer thread for logs in dir (created 0750 if missing).
 * Files rotate above max_size bytes keeping keep old files. NULL with err
 * set on failure. */
sup_logger_t *sup_logger_new(const char *dir, uint64_t max_size, uint32_t keep,
                             tw_err_t *err);
/* Writes out everything queued, stops the thread, closes and frees every
 * log and the logger; sets *self_p to NULL; safe on NULL. When the writer
 * is stuck (hung disk) for timeout_ms, it is abandoned (logged), nothing is
 * freed: the caller is about to exit. */
void sup_logger_destroy(sup_logger_t **self_p, int timeout_ms);
/* Changes the rotation limits (config reload). */
void sup_logger_set_limits(sup_logger_t *self, uint64_t max_size,
                           uint32_t keep);
/* Blocks up to timeout_ms until every queued line is written; true if so.
 * For shutdown and tests only: never call it from the event loop. */
bool sup_logger_flush(sup_logger_t *self, int timeout_ms);

/* Opens the log called name (NAME.log), without a pipe: until a process
 * runs (sup_log_pipe) it holds no fd and no buffer between writes. NULL
 * with err set on failure. The log belongs to the logger; release it with
 * sup_log_destroy. */
sup_log_t *sup_log_open(sup_logger_t *lg, const char *name, tw_err_t *err);
/* Reads what is left in the pipe (at most 1 MiB), then hands the log to the
 * writer thread, which writes and frees it; sets *self_p to NULL; safe on NULL.
 */
void sup_log_destroy(sup_log_t **self_p);
/* Opens the pipe a process writes to (a no-op while it is open).
 * TW_ERR_AGAIN (out of fds), TW_ERR_IO or TW_ERR_NOMEM with err set. */
tw_rc_t sup_log_pipe(sup_log_t *self, tw_err_t *err);
/* Reads what is left in the pipe (at most 1 MiB, a last line without a
 * newline included) and closes it, once no process uses it; a no-op
 * without a pipe. */
void sup_log_unpipe(sup_log_t *self);
/* True while the pipe is open. */
bool sup_log_piped(const sup_log_t *self);
/* Changes whenever a pipe of the logger's logs is opened or closed. */
uint64_t sup_logger_pipes(const sup_logger_t *self);
/* Read end of the pipe (non-blocking), to poll; -1 without a pipe. */
int sup_log_fd(const sup_log_t *self);
/* Write end of the pipe, the child's stdout and stderr; -1 without one. */
int sup_log_child_fd(const sup_log_t *self);
/* Reads at most max_bytes from the pipe and queues the complete lines.
 * Returns the number of bytes read. */
size_t sup_log_drain(sup_log_t *self, size_t max_bytes);
/* Queues one line written by tubewatchd itself ("tubewatchd: ..."). */
void sup_log_note(sup_log_t *self, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Lines dropped so far because the buffer was full. */
uint64_t sup_log_dropped(const sup_log_t *self);

#endif
