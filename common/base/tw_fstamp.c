/* tw_fstamp - noticing that a file changed (see tw_fstamp.h). */
#include "tw_fstamp.h"

#include <assert.h>
#include <sys/stat.h>

bool tw_fstamp_changed(tw_fstamp_t *stamp, const char *path)
{
    assert(stamp);
    assert(path);
    tw_fstamp_t now = {0, 0, 0};
    struct stat st;
    if (stat(path, &st) == 0) {
        now.ino = (uint64_t)st.st_ino;
        now.size = (int64_t)st.st_size;
        now.mtime_ns =
            (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
    }
    bool changed = now.ino != stamp->ino || now.size != stamp->size ||
                   now.mtime_ns != stamp->mtime_ns;
    *stamp = now;
    return changed;
}
