/* Fuzz target of the Drive answers tw_drive reads: a file resource (its id
 * must come out as a Drive id, md5 empty or 32 characters) and an error
 * body's reason, on arbitrary bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tw_drive.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *body = (const char *)data;
    tw_drive_file_t f;
    tw_err_t err = {{0}, 0, 0};
    if (tw_drive_parse_file(body, size, &f, &err) == TW_OK) {
        if (!tw_drive_id_ok(f.id) || !memchr(f.name, '\0', sizeof f.name))
            abort();
        size_t m = strlen(f.md5);
        if (m != 0 && (m != 32 || strspn(f.md5, "0123456789abcdef") != 32))
            abort();
    } else if (!err.msg[0]) {
        abort();
    }
    char reason[64];
    tw_drive_error_reason(body, size, reason, sizeof reason);
    if (!memchr(reason, '\0', sizeof reason))
        abort();
    return 0;
}
