/* Fuzz target of the notifier outbox's chats.tsv (chat migrations and
 * disabled chats, loaded at open): any bytes must open, queue, send and
 * close without a crash; chat names become journal file names under the
 * outbox dir, which must never escape it. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../workers/notifier/notifier_outbox.h"
#include "tw_log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char s_dir[128];

/* Removes every file in s_dir; aborts on a subdirectory (a chat name
 * escaped into a path). */
static void s_clean(void)
{
    DIR *d = opendir(s_dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char p[512];
        snprintf(p, sizeof p, "%s/%s", s_dir, e->d_name);
        unlink(p);
    }
    closedir(d);
}

static void s_cleanup(void)
{
    s_clean();
    rmdir(s_dir);
}

static tw_rc_t s_send(void *arg, const char *chat_id, const char *text,
                      bool html, tw_telegram_result_t *res)
{
    (void)arg;
    (void)chat_id;
    (void)text;
    (void)html;
    memset(res, 0, sizeof *res);
    res->status = TW_TELEGRAM_OK;
    res->http_status = 200;
    return TW_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!s_dir[0]) {
        struct stat st;
        const char *base = stat("/dev/shm", &st) == 0 ? "/dev/shm" : "/tmp";
        snprintf(s_dir, sizeof s_dir, "%s/tw-fuzz-outbox-%d", base,
                 (int)getpid());
        mkdir(s_dir, 0700);
        atexit(s_cleanup);
        tw_log_set_level(TW_LOG_ERROR);
    }
    s_clean();
    char path[256];
    snprintf(path, sizeof path, "%s/chats.tsv", s_dir);
    FILE *f = fopen(path, "wb");
    if (!f)
        return 0;
    fwrite(data, 1, size, f);
    fclose(f);
    notifier_outbox_t *ob = NULL;
    if (notifier_outbox_open(&ob, s_dir, NULL, s_send, NULL, NULL) != TW_OK)
        return 0;
    notifier_outbox_add(ob, "664743441", "Live now: a <b>test</b>", "k1", NULL);
    notifier_outbox_add(ob, "-1001234567890", "hello", NULL, NULL);
    int sent = 0;
    notifier_outbox_run(ob, 1000, 4, &sent, NULL);
    notifier_outbox_run(ob, 100000, 4, &sent, NULL);
    notifier_outbox_commit(ob, NULL);
    (void)notifier_outbox_pending(ob);
    (void)notifier_outbox_chat_disabled(ob, "664743441");
    notifier_outbox_destroy(&ob);
    return 0;
}
