/* ctl_spawn - `tubewatch spawn TEMPLATE INSTANCE [--at TIME]`. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "tw_rc.h"
#include "tw_worker.h"
#include "tw_time.h"

int ctl_spawn_main(ctl_t *ctl, int argc, char **argv)
{
    const char *at = NULL;
    const char *pos[2];
    int npos = 0;
    /* YouTube video ids may start with '-': the only option is --at, and
     * "--" ends the options. */
    bool options = true;
    for (int i = 1; i < argc; i++) {
        if (options && strcmp(argv[i], "--") == 0)
            options = false;
        else if (options && strcmp(argv[i], "--at") == 0 && i + 1 < argc)
            at = argv[++i];
        else if (options && strncmp(argv[i], "--", 2) == 0)
            return ctl_usage_of(argv[0]);
        else if (npos < 2)
            pos[npos++] = argv[i];
        else
            return ctl_usage_of(argv[0]);
    }
    if (npos != 2)
        return ctl_usage_of(argv[0]);
    if (!tw_worker_valid_instance(pos[1])) {
        fprintf(stderr,
                "tubewatch: bad instance id '%s' (want "
                "[A-Za-z0-9_-], at most 63 bytes)\n",
                pos[1]);
        return TW_EXIT_USAGE;
    }
    int64_t not_before = 0;
    if (at) {
        tw_err_t err;
        if (tw_time_when_parse(at, tw_time_now_us(), &not_before, &err) !=
            TW_OK) {
            fprintf(stderr, "tubewatch: %s\n", err.msg);
            return TW_EXIT_USAGE;
        }
        if (not_before < 0)
            not_before = 0;
    }
    json_t *req =
        json_pack("{s:s,s:s,s:s,s:I}", "cmd", "spawn", "template", pos[0],
                  "instance", pos[1], "not_before", (json_int_t)not_before);
    json_t *reply = NULL;
    int code = ctl_request(ctl, req, &reply);
    if (code != TW_EXIT_OK)
        return code;
    if (ctl->json) {
        ctl_print_json(reply);
    } else if (at) {
        char ts[TW_TIME_STR_SIZE];
        printf("%s@%s scheduled for %s\n", pos[0], pos[1],
               tw_time_format(not_before, ts));
    } else {
        printf("%s@%s started\n", pos[0], pos[1]);
    }
    json_decref(reply);
    return TW_EXIT_OK;
}
