/* Fuzz target of the chat worker's checkpoint (STATE/chat@VIDEO/
 * checkpoint): any bytes load or are refused without a crash, and what
 * loads saves and loads back to the same checkpoint. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../workers/chat/chat.h"
#include "tw_log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char s_path[128];

static void s_cleanup(void)
{
    unlink(s_path);
}

static int s_same_str(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!s_path[0]) {
        struct stat st;
        const char *base = stat("/dev/shm", &st) == 0 ? "/dev/shm" : "/tmp";
        snprintf(s_path, sizeof s_path, "%s/tw-fuzz-ckpt-%d", base,
                 (int)getpid());
        atexit(s_cleanup);
        tw_log_set_level(TW_LOG_ERROR);
    }
    FILE *f = fopen(s_path, "wb");
    if (!f)
        return 0;
    fwrite(data, 1, size, f);
    fclose(f);
    chat_ckpt_t ck, again;
    memset(&ck, 0, sizeof ck);
    memset(&again, 0, sizeof again);
    if (chat_ckpt_load(s_path, &ck, NULL) == TW_OK) {
        if (!memchr(ck.video_id, '\0', sizeof ck.video_id) ||
            !memchr(ck.channel_id, '\0', sizeof ck.channel_id))
            abort();
        if (chat_ckpt_save(s_path, &ck, NULL) == TW_OK) {
            if (chat_ckpt_load(s_path, &again, NULL) != TW_OK)
                abort();
            if (again.phase != ck.phase ||
                strcmp(again.video_id, ck.video_id) ||
                strcmp(again.channel_id, ck.channel_id) ||
                !s_same_str(again.continuation, ck.continuation) ||
                again.last_usec != ck.last_usec || again.items != ck.items ||
                again.deleted != ck.deleted ||
                again.replay_items != ck.replay_items)
                abort();
        }
    }
    chat_ckpt_clear(&ck);
    chat_ckpt_clear(&again);
    return 0;
}
