/* Fuzz target of tw_proto: decoding arbitrary frames never crashes, and a
 * decoded message re-encodes and decodes to an equal message. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tw_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tw_msg_t msg;
    tw_err_t err;
    tw_proto_hdr_t hdr;
    (void)tw_proto_peek(data, size, &hdr, &err);
    if (tw_proto_decode(data, size, &msg, &err) != TW_OK)
        return 0;
    char *buf = NULL;
    size_t len = 0;
    if (tw_proto_encode(&msg, &buf, &len, &err) != TW_OK)
        abort();
    tw_msg_t again;
    if (tw_proto_decode(buf, len, &again, &err) != TW_OK)
        abort();
    if (!tw_proto_equal(&msg, &again))
        abort();
    if (tw_proto_restamp(buf, len, 1, 2) != TW_OK)
        abort();
    free(buf);
    tw_proto_clear(&again);
    tw_proto_clear(&msg);
    return 0;
}
