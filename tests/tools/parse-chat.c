/* parse-chat - prints the chat rows of YouTube chat JSON files as TSV
 * (columns of fixtures/innertube/expected_chat.jq). Exit 0 ok, 100 usage,
 * 111 unreadable or malformed file. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tw_rc.h"
#include "tw_ytchat.h"

static char *s_slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        if (n == cap) {
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    if (buf && ferror(f)) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    *len = n;
    return buf;
}

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0) {
        fprintf(stderr, "usage: parse-chat FILE...\n"
                        "exit: 0 ok, 100 usage, 111 unreadable/malformed\n");
        return argc < 2 ? TW_EXIT_USAGE : TW_EXIT_OK;
    }
    int status = TW_EXIT_OK;
    for (int i = 1; i < argc; i++) {
        size_t len;
        char *buf = s_slurp(argv[i], &len);
        if (!buf) {
            fprintf(stderr, "parse-chat: unable to read %s: %s\n", argv[i],
                    strerror(errno));
            status = TW_EXIT_TEMP;
            continue;
        }
        tw_err_t err = {0};
        tw_rc_t rc = tw_ytchat_print_tsv(stdout, buf, len, &err);
        if (rc != TW_OK) {
            fprintf(stderr, "parse-chat: unable to parse %s: %s\n", argv[i],
                    err.msg[0] ? err.msg : tw_rc_str(rc));
            status = TW_EXIT_TEMP;
        }
        free(buf);
    }
    if (fflush(stdout) != 0)
        status = TW_EXIT_TEMP;
    return status;
}
