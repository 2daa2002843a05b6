/* tw_journal - an append-only on-disk journal of records (length-prefixed,
 * CRC32-checked, fdatasync'd), trimmed by an ack watermark, replayed at start
 * and repaired when its tail is torn (docs/protocol.md). */
#ifndef TW_JOURNAL_H
#define TW_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

#include "tw_rc.h"

/* Largest record payload accepted, in bytes. */
#define TW_JOURNAL_MAX_RECORD (64u * 1024 * 1024)

/* An open journal file, locked for this process. */
typedef struct tw_journal tw_journal_t;

/* Called by tw_journal_foreach for each live record, oldest first; data is
 * borrowed until the callback returns. A return other than TW_OK stops the
 * walk and is returned by tw_journal_foreach. */
typedef tw_rc_t(tw_journal_fn)(void *arg, uint64_t id, const void *data,
                               size_t len);

/* Opens (creating, mode 0600) the journal at path and reads it: a torn or
 * corrupt tail is truncated away (see tw_journal_repaired). Fails with
 * TW_ERR_STATE when another open journal holds the file's lock, TW_ERR_IO
 * (or TW_ERR_PERM, TW_ERR_NOSPACE) on I/O errors. */
tw_rc_t tw_journal_open(tw_journal_t **self_p, const char *path, tw_err_t *err);
/* Closes and frees *self_p, sets it to NULL; safe to call twice. */
void tw_journal_destroy(tw_journal_t **self_p);

/* Appends a record and waits until it is on disk (fdatasync). Sets *id (if
 * not NULL) to its id; ids increase by 1 per record, across reopenings.
 * On failure nothing is appended (a partial write is cut off again). */
tw_rc_t tw_journal_append(tw_journal_t *self, const void *data, size_t len,
                          uint64_t *id, tw_err_t *err);
/* Marks every record with id <= upto as done: they are no longer replayed.
 * The mark is written without fdatasync (losing it replays more, never
 * less); the file is rewritten atomically when done records dominate it. */
tw_rc_t tw_journal_trim(tw_journal_t *self, uint64_t upto, tw_err_t *err);
/* Calls fn for each live (not trimmed) record in id order. */
tw_rc_t tw_journal_foreach(tw_journal_t *self, tw_journal_fn *fn, void *arg,
                           tw_err_t *err);

/* Returns the number of live records. */
size_t tw_journal_count(const tw_journal_t *self);
/* Returns the id the next appended record will get. */
uint64_t tw_journal_next_id(const tw_journal_t *self);
/* Returns the current size of the file in bytes. */
uint64_t tw_journal_size(const tw_journal_t *self);
/* Returns how many bytes of torn or corrupt tail open cut away (0 when the
 * file was intact); the caller logs it. */
uint64_t tw_journal_repaired(const tw_journal_t *self);

/* Returns the CRC-32 (IEEE 802.3, as zlib's crc32) of data, continuing
 * from crc (start with 0). */
uint32_t tw_journal_crc32(uint32_t crc, const void *data, size_t len);

#endif
