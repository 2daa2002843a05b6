/* Fuzz target: the chat worker's checkpoint parser (any bytes: no crash,
 * no leak; an accepted checkpoint always names its video). */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "../workers/chat/chat.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    chat_ckpt_t ck;
    if (chat_ckpt_parse((const char *)data, size, &ck, NULL) != TW_OK)
        return 0;
    assert(ck.video_id[0]);
    chat_ckpt_clear(&ck);
    assert(ck.continuation == NULL);
    return 0;
}
