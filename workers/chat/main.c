/* tw-chat - the chat@VIDEO worker: captures one live stream's chat and
 * sends it to the tokenizer (docs/chat.md). Started by tubewatchd with
 * TUBEWATCH_INSTANCE = the video id. Exit codes: 0 done (ended, reported
 * or stopped), 100 bad config or instance, 111 temporary failure. */
#include <stdio.h>
#include <string.h>

#include "chat.h"
#include "tw_log.h"
#include "tw_loop.h"
#include "tw_worker.h"

int main(int argc, char **argv)
{
    tw_log_init("tw-chat");
    if (argc > 1 &&
        (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        printf("usage: tw-chat (run by tubewatchd as chat@VIDEO)\n"
               "exit codes: 0 done, 100 bad config or video id, "
               "111 temporary failure\n");
        return TW_EXIT_OK;
    }
    int code = TW_EXIT_TEMP;
    tw_err_t err = {0};
    tw_worker_t *w = NULL;
    tw_rc_t rc = tw_worker_new(&w, "chat", &err);
    if (rc != TW_OK) {
        tw_log_write(TW_LOG_ERROR, "unable to start: %s", err.msg);
        return tw_rc_exit(rc);
    }
    tw_loop_t *loop = tw_loop_new();
    rc = loop ? tw_worker_attach(w, loop) : TW_ERR_NOMEM;
    if (rc != TW_OK) {
        tw_log_write(TW_LOG_ERROR, "unable to start the loop: %s",
                     tw_rc_str(rc));
        tw_worker_destroy(&w);
        tw_loop_destroy(&loop);
        return tw_rc_exit(rc);
    }
    code = chat_run(w, loop);
    tw_worker_destroy(&w);
    tw_loop_destroy(&loop);
    return code;
}
