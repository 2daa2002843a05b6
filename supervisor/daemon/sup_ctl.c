/* sup_ctl - strict parser of control requests. */
#include "sup_ctl.h"

#include <assert.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "tw_worker.h"

/* Keys a command may carry, besides "cmd". */
enum {
    K_NAME = 1,
    K_TEMPLATE = 2,
    K_INSTANCE = 4,
    K_NOT_BEFORE = 8,
    K_ALL = 16
};

static const struct {
    const char *name; /* wire name */
    unsigned keys;    /* allowed keys */
    unsigned needed;  /* required keys */
} s_cmds[] = {
    [SUP_CMD_STATUS] = {"status", K_ALL, 0},
    [SUP_CMD_START] = {"start", K_NAME, K_NAME},
    [SUP_CMD_STOP] = {"stop", K_NAME, K_NAME},
    [SUP_CMD_RESTART] = {"restart", K_NAME, K_NAME},
    [SUP_CMD_SPAWN] = {"spawn", K_TEMPLATE | K_INSTANCE | K_NOT_BEFORE,
                       K_TEMPLATE | K_INSTANCE},
    [SUP_CMD_RELOAD] = {"reload", 0, 0},
    [SUP_CMD_SHUTDOWN] = {"shutdown", 0, 0},
    [SUP_CMD_VERSION] = {"version", 0, 0},
};
#define NCMDS (sizeof s_cmds / sizeof s_cmds[0])

const char *sup_ctl_cmd_name(sup_cmd_t cmd)
{
    if ((size_t)cmd < NCMDS)
        return s_cmds[cmd].name;
    return "unknown";
}

/* A worker name: NAME or TEMPLATE@INSTANCE, NAME of [A-Za-z0-9_-.]. */
static bool s_valid_name(const char *s)
{
    const char *at = strchr(s, '@');
    size_t n = at ? (size_t)(at - s) : strlen(s);
    /* Worker names: 64 bytes (tw_cfg); templates: 31 (sup_daemon). */
    if (n == 0 || n > (at ? 31u : 64u))
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                  (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
        if (!ok)
            return false;
    }
    return !at || tw_worker_valid_instance(at + 1);
}

static tw_rc_t s_copy_str(json_t *v, const char *key, char *out, size_t cap,
                          tw_err_t *err)
{
    if (!json_is_string(v)) {
        tw_err_set(err, "\"%s\" must be a string", key);
        return TW_ERR_INVALID;
    }
    size_t n = json_string_length(v);
    const char *s = json_string_value(v);
    if (n == 0 || n >= cap || memchr(s, '\0', n)) {
        tw_err_set(err, "\"%s\" must be 1..%zu bytes", key, cap - 1);
        return TW_ERR_INVALID;
    }
    memcpy(out, s, n + 1);
    return TW_OK;
}

tw_rc_t sup_ctl_parse(const void *data, size_t len, sup_ctl_req_t *req,
                      tw_err_t *err)
{
    assert(data || len == 0);
    assert(req);
    memset(req, 0, sizeof *req);
    if (len > SUP_CTL_MAX_REQUEST) {
        tw_err_set(err, "request larger than %d bytes", SUP_CTL_MAX_REQUEST);
        return TW_ERR_TOOBIG;
    }
    json_error_t jerr;
    json_t *root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        tw_err_set(err, "bad JSON at %d:%d: %s", jerr.line, jerr.column,
                   jerr.text);
        return TW_ERR_PARSE;
    }
    tw_rc_t rc = TW_ERR_INVALID;
    if (!json_is_object(root)) {
        tw_err_set(err, "request must be a JSON object");
        goto out;
    }
    json_t *cmd = json_object_get(root, "cmd");
    if (!json_is_string(cmd)) {
        tw_err_set(err, "\"cmd\" missing or not a string");
        goto out;
    }
    size_t ci = NCMDS;
    for (size_t i = 0; i < NCMDS; i++) {
        if (strcmp(json_string_value(cmd), s_cmds[i].name) == 0 &&
            json_string_length(cmd) == strlen(s_cmds[i].name))
            ci = i;
    }
    if (ci == NCMDS) {
        tw_err_set(err, "unknown command \"%.40s\"", json_string_value(cmd));
        goto out;
    }
    req->cmd = (sup_cmd_t)ci;
    unsigned seen = 0;
    const char *key;
    json_t *v;
    json_object_foreach(root, key, v)
    {
        unsigned k = 0;
        if (strcmp(key, "cmd") == 0)
            continue;
        if (strcmp(key, "name") == 0)
            k = K_NAME;
        else if (strcmp(key, "template") == 0)
            k = K_TEMPLATE;
        else if (strcmp(key, "instance") == 0)
            k = K_INSTANCE;
        else if (strcmp(key, "not_before") == 0)
            k = K_NOT_BEFORE;
        else if (strcmp(key, "all") == 0)
            k = K_ALL;
        if (!(k & s_cmds[ci].keys)) {
            tw_err_set(err, "unexpected key \"%.40s\" for %s", key,
                       s_cmds[ci].name);
            goto out;
        }
        seen |= k;
        tw_rc_t r = TW_OK;
        switch (k) {
        case K_NAME:
            r = s_copy_str(v, key, req->name, sizeof req->name, err);
            if (r == TW_OK && !s_valid_name(req->name)) {
                tw_err_set(err, "bad worker name");
                r = TW_ERR_INVALID;
            }
            break;
        case K_TEMPLATE:
            r = s_copy_str(v, key, req->tmpl, sizeof req->tmpl, err);
            if (r == TW_OK &&
                (strchr(req->tmpl, '@') || !s_valid_name(req->tmpl))) {
                tw_err_set(err, "bad template name");
                r = TW_ERR_INVALID;
            }
            break;
        case K_INSTANCE:
            r = s_copy_str(v, key, req->instance, sizeof req->instance, err);
            if (r == TW_OK && !tw_worker_valid_instance(req->instance)) {
                tw_err_set(err, "bad instance id (want [A-Za-z0-9_-], at "
                                "most 63 bytes)");
                r = TW_ERR_INVALID;
            }
            break;
        case K_NOT_BEFORE:
            if (!json_is_integer(v) || json_integer_value(v) < 0) {
                tw_err_set(err, "\"not_before\" must be a non-negative "
                                "integer (Unix microseconds)");
                r = TW_ERR_INVALID;
            } else {
                req->not_before = json_integer_value(v);
            }
            break;
        case K_ALL:
            if (!json_is_boolean(v)) {
                tw_err_set(err, "\"all\" must be true or false");
                r = TW_ERR_INVALID;
            } else {
                req->all = json_is_true(v);
            }
            break;
        }
        if (r != TW_OK)
            goto out;
    }
    if ((seen & s_cmds[ci].needed) != s_cmds[ci].needed) {
        tw_err_set(err, "%s needs %s", s_cmds[ci].name,
                   ci == SUP_CMD_SPAWN ? "\"template\" and \"instance\""
                                       : "\"name\"");
        goto out;
    }
    rc = TW_OK;
out:
    json_decref(root);
    return rc;
}
