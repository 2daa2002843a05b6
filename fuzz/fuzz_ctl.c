/* Fuzz target: the strict control-request parser of tubewatchd. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "../supervisor/daemon/sup_ctl.h"
#include "tw_worker.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sup_ctl_req_t req;
    tw_err_t err;
    if (sup_ctl_parse(data, size, &req, &err) == TW_OK) {
        /* Whatever is accepted must be well-formed. */
        if (req.cmd == SUP_CMD_SPAWN && !tw_worker_valid_instance(req.instance))
            __builtin_trap();
        if (strnlen(req.name, sizeof req.name) == sizeof req.name)
            __builtin_trap();
        if (req.not_before < 0)
            __builtin_trap();
    }
    return 0;
}
