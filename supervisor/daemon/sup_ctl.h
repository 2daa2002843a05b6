/* sup_ctl - the control protocol between tubewatch and tubewatchd: strict
 * JSON requests and replies on control.sock. */
#ifndef SUP_CTL_H
#define SUP_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tw_rc.h"

/* Largest request accepted. */
#define SUP_CTL_MAX_REQUEST 4096

/* Commands of a request. */
typedef enum {
    SUP_CMD_STATUS = 0,   /* {"cmd":"status","all":BOOL} */
    SUP_CMD_START = 1,    /* {"cmd":"start","name":N} */
    SUP_CMD_STOP = 2,     /* {"cmd":"stop","name":N} */
    SUP_CMD_RESTART = 3,  /* {"cmd":"restart","name":N} */
    SUP_CMD_SPAWN = 4,    /* {"cmd":"spawn","template":T,"instance":I,
                             "not_before":USEC} */
    SUP_CMD_RELOAD = 5,   /* {"cmd":"reload"} */
    SUP_CMD_SHUTDOWN = 6, /* {"cmd":"shutdown"} */
    SUP_CMD_VERSION = 7,  /* {"cmd":"version"} */
} sup_cmd_t;

/* A parsed request. */
typedef struct {
    sup_cmd_t cmd;      /* what to do */
    char name[96];      /* START/STOP/RESTART: worker or TEMPLATE@INSTANCE */
    char tmpl[32];      /* SPAWN: template name */
    char instance[64];  /* SPAWN: instance id (validated) */
    int64_t not_before; /* SPAWN: Unix usec, 0 = now */
    bool all;           /* STATUS: list every scheduled instance */
} sup_ctl_req_t;

/* Parses one request frame. Strict: a JSON object with a known "cmd", only
 * the keys that command takes, each of the right type and size, no
 * duplicate keys, nothing after the object. TW_ERR_PARSE or TW_ERR_INVALID
 * with err set when the request is bad. */
tw_rc_t sup_ctl_parse(const void *data, size_t len, sup_ctl_req_t *req,
                      tw_err_t *err);
/* Returns the wire name of a command. */
const char *sup_ctl_cmd_name(sup_cmd_t cmd);

#endif
