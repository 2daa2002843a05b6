/* tw_file - durable file operations: atomic replace, synced append, whole
 * file reads with a size cap, mkdir -p, and permission checks of secrets. */
#ifndef TW_FILE_H
#define TW_FILE_H

#include <stddef.h>
#include <sys/types.h>

#include "tw_rc.h"

/* Returns the tw_rc_t for an errno value: ENOSPC/EDQUOT -> TW_ERR_NOSPACE,
 * ENOENT -> TW_ERR_NOTFOUND, EEXIST -> TW_ERR_EXISTS, EACCES/EPERM/EROFS ->
 * TW_ERR_PERM, ENOMEM -> TW_ERR_NOMEM, anything else (EIO) -> TW_ERR_IO. */
tw_rc_t tw_file_errno_rc(int e);

/* Replaces path with len bytes of data atomically and durably: writes a
 * temporary file in the same directory, fsyncs it, renames it over path
 * and fsyncs the directory. The file gets exactly mode (e.g. 0644, 0600;
 * the umask does not apply). The temporary file is "<path>.tmp.<pid>.<n>";
 * on failure path is untouched and the temporary file removed (a crash can
 * leave one behind: skip "*.tmp.*" names when scanning directories).
 * Returns TW_ERR_INVALID for an empty path. */
tw_rc_t tw_file_write_atomic(const char *path, const void *data, size_t len,
                             mode_t mode, tw_err_t *err);
/* tw_file_write_atomic with the crash points "tw/crash/<point>/before_fsync",
 * ".../after_fsync" and ".../after_rename" (tw_fault.h); point NULL: none. */
tw_rc_t tw_file_write_atomic_at(const char *point, const char *path,
                                const void *data, size_t len, mode_t mode,
                                tw_err_t *err);

/* Opens (creating with mode if needed) path for appending; stores the
 * descriptor (close-on-exec) in *fd. */
tw_rc_t tw_file_open_append(const char *path, mode_t mode, int *fd,
                            tw_err_t *err);
/* Writes all len bytes to fd, retrying short writes and EINTR; no sync. */
tw_rc_t tw_file_write_all(int fd, const void *data, size_t len, tw_err_t *err);
/* Appends len bytes to fd (opened with O_APPEND) and fdatasyncs it, so the
 * bytes are durable when TW_OK is returned. On failure the file is cut
 * back to its previous size where possible, so no torn record remains.
 * Returns TW_ERR_NOSPACE on ENOSPC/EDQUOT, TW_ERR_IO on EIO. */
tw_rc_t tw_file_append(int fd, const void *data, size_t len, tw_err_t *err);

/* Reads the whole of path into a malloc'ed NUL-terminated buffer the
 * caller frees (*data) and stores its length in *len (if not NULL).
 * Returns TW_ERR_NOTFOUND when path does not exist, TW_ERR_TOOBIG when it
 * is larger than max bytes. */
tw_rc_t tw_file_read_all(const char *path, size_t max, char **data, size_t *len,
                         tw_err_t *err);

/* Creates directory path and its missing parents with mode (like mkdir
 * -p); existing directories are fine. Returns TW_ERR_EXISTS when a part
 * exists but is not a directory, TW_ERR_INVALID for an empty path. */
tw_rc_t tw_file_mkdirs(const char *path, mode_t mode, tw_err_t *err);
/* Fsyncs directory dir, making renames and creations inside it durable. */
tw_rc_t tw_file_sync_dir(const char *dir, tw_err_t *err);

/* Checks that the secret file path (API key, token) is a regular file not
 * readable or writable by group or others. Returns TW_ERR_PERM with "PATH
 * is readable by group or others (mode 0644); chmod 600 it" in err, or
 * TW_ERR_NOTFOUND / TW_ERR_IO. */
tw_rc_t tw_file_check_secret(const char *path, tw_err_t *err);

/* Returns the real path of the first of the n directories rel[i] (relative
 * to the directory of the running program) that exists, or NULL. Lets a
 * program find its siblings both installed and in the build tree. The caller
 * frees the result. */
char *tw_file_exe_relative_dir(const char *const *rel, size_t n);

#endif
