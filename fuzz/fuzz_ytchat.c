/* Fuzz target: tw_ytchat parse and TSV output of arbitrary bytes. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "tw_ytchat.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static tw_ytchat_t *chat;
    static FILE *null;
    if (!chat)
        chat = tw_ytchat_new();
    if (!null)
        null = fopen("/dev/null", "w");
    if (tw_ytchat_parse(chat, (const char *)data, size, NULL) != TW_OK)
        return 0;
    for (size_t i = 0; i < tw_ytchat_count(chat); i++) {
        const tw_ytchat_item_t *it = tw_ytchat_item(chat, i);
        volatile size_t n = strlen(it->id) + strlen(it->message) +
                            strlen(it->author_name) + strlen(it->amount) +
                            strlen(it->ref_id) + strlen(it->timestamp);
        (void)n;
    }
    for (size_t i = 0; i < tw_ytchat_unknown_count(chat); i++)
        (void)strlen(tw_ytchat_unknown(chat, i)->path);
    if (null)
        tw_ytchat_write_tsv(chat, null);
    char code[4];
    int64_t micros;
    char text[64];
    size_t n = size < sizeof text - 1 ? size : sizeof text - 1;
    memcpy(text, data, n);
    text[n] = '\0';
    tw_ytchat_parse_amount(text, code, &micros);
    int64_t us;
    tw_ytchat_parse_time((const char *)data, size, &us);
    return 0;
}
