/* Fuzz target: the chat worker's token check and error-status reader (any
 * bytes: no crash, no leak; the status is empty or an upper-case word). */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../workers/chat/chat.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    int type = -1;
    chat_token_match_t m = chat_token_match(s, "abcdefghijk", &type);
    assert(m >= CHAT_TOKEN_OURS && m <= CHAT_TOKEN_BAD);
    assert(type == 0 || type == 1 || type == 4);
    assert(chat_token_match_str(m) != NULL);
    char st[32];
    chat_token_error_status(s, size, st, sizeof st);
    for (const char *p = st; *p; p++)
        assert((*p >= 'A' && *p <= 'Z') || *p == '_');
    free(s);
    return 0;
}
