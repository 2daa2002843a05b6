/* ctl_parse_chat - `tubewatch parse-chat FILE...`: prints one TSV line per
 * chat item of saved YouTube chat responses (get_live_chat, replay, live_chat
 * page data, action arrays, Data API liveChatMessages), in the columns id,
 * kind, author_channel_id, author_name, timestamp_usec, amount, message. */
#include <stdio.h>
#include <stdlib.h>

#include "ctl.h"
#include "tw_file.h"
#include "tw_rc.h"
#include "tw_ytchat.h"

/* Larger than any chat response; a bigger file is not a chat response. */
#define MAX_RESPONSE_BYTES (256u * 1024 * 1024)

int ctl_parse_chat_main(ctl_t *ctl, int argc, char **argv)
{
    (void)ctl;
    if (argc < 2)
        return ctl_usage_of(argv[0]);
    int status = TW_EXIT_OK;
    for (int i = 1; i < argc; i++) {
        char *buf = NULL;
        size_t len = 0;
        tw_err_t err = {0};
        tw_rc_t rc =
            tw_file_read_all(argv[i], MAX_RESPONSE_BYTES, &buf, &len, &err);
        int code = tw_rc_exit(rc);
        if (rc == TW_OK) {
            rc = tw_ytchat_print_tsv(stdout, buf, len, &err);
            code = ctl_parse_exit(rc);
        }
        if (rc != TW_OK) {
            fprintf(stderr, "tubewatch: unable to parse %s: %s\n", argv[i],
                    err.msg[0] ? err.msg : tw_rc_str(rc));
            status = code;
        }
        free(buf);
    }
    if (fflush(stdout) != 0)
        status = TW_EXIT_TEMP;
    return status;
}
