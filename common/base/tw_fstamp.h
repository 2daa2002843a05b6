/* tw_fstamp - noticing that a file changed: its identity (inode, size,
 * modification time) at the last look, a missing file being all zero.
 * Used for the channels file and the files one worker reads of another. */
#ifndef TW_FSTAMP_H
#define TW_FSTAMP_H

#include <stdbool.h>
#include <stdint.h>

/* Identity of a file at one look; zero-initialised = missing. */
typedef struct {
    uint64_t ino;     /* inode number */
    int64_t size;     /* size in bytes */
    int64_t mtime_ns; /* modification time, ns since the epoch */
} tw_fstamp_t;

/* Looks at path: stores its identity in *stamp and returns true when it
 * differs from the one stored there (appeared, disappeared, replaced,
 * written). A file that stays missing is no change. */
bool tw_fstamp_changed(tw_fstamp_t *stamp, const char *path);

#endif
