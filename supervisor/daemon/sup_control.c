/* sup_control - control.sock commands. */
#include "sup_control.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "sup_ctl.h"
#include "tw_log.h"
#include "tw_version.h"

/* Frames of one request envelope kept (routing ids, empty, body). */
#define MAX_PARTS 8

struct sup_control {
    void *router;              /* ROUTER control.sock (borrowed) */
    sup_table_t *table;        /* the child table (borrowed) */
    const sup_ops_t *ops;      /* state machine side effects (borrowed) */
    sup_control_hooks_t hooks; /* what the daemon does */
};

sup_control_t *sup_control_new(void *router, sup_table_t *table,
                               const sup_ops_t *ops,
                               const sup_control_hooks_t *hooks)
{
    assert(router);
    assert(table);
    assert(ops);
    assert(hooks);
    sup_control_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->router = router;
    self->table = table;
    self->ops = ops;
    self->hooks = *hooks;
    return self;
}

void sup_control_destroy(sup_control_t **self_p)
{
    assert(self_p);
    free(*self_p);
    *self_p = NULL;
}

static json_t *s_error_json(tw_rc_t rc, const char *msg)
{
    json_t *o = json_object();
    json_object_set_new(o, "ok", json_false());
    json_object_set_new(o, "rc", json_integer(rc));
    json_object_set_new(o, "error", json_string(msg));
    return o;
}

static json_t *s_ok_json(const char *msg)
{
    json_t *o = json_object();
    json_object_set_new(o, "ok", json_true());
    if (msg && *msg)
        json_object_set_new(o, "message", json_string(msg));
    return o;
}

/* start, stop and restart of one child. */
static json_t *s_named(sup_control_t *self, const sup_ctl_req_t *req)
{
    if (req->cmd != SUP_CMD_STOP && self->hooks.shutting_down(self->hooks.ctx))
        return s_error_json(TW_ERR_STATE, "tubewatchd is shutting down");
    sup_child_t *c = sup_table_find(self->table, req->name);
    if (!c) {
        const tw_cfg_worker_t *w =
            tw_cfg_worker(sup_table_cfg(self->table), req->name);
        char msg[320];
        if (w && w->is_template)
            snprintf(msg, sizeof msg,
                     "'%s' is a template: use spawn %s INSTANCE", req->name,
                     req->name);
        else
            snprintf(msg, sizeof msg, "no worker '%s'", req->name);
        return s_error_json(TW_ERR_NOTFOUND, msg);
    }
    sup_event_t ev = req->cmd == SUP_CMD_START  ? SUP_EV_START
                     : req->cmd == SUP_CMD_STOP ? SUP_EV_STOP
                                                : SUP_EV_RESTART;
    bool retired = sup_child_retired_cfg(c);
    if (ev == SUP_EV_STOP && sup_child_instance(c)[0]) {
        sup_child_set_remove(c, true, retired);
        sup_table_touch_spawns(self->table);
    }
    if (ev != SUP_EV_STOP)
        sup_child_set_remove(c, false, retired);
    sup_child_dispatch(self->ops, c, ev);
    const char *state = sup_child_state_name(sup_child_state(c));
    char msg[320];
    snprintf(msg, sizeof msg, "%s: %s", sup_child_name(c), state);
    json_t *o = s_ok_json(msg);
    json_object_set_new(o, "state", json_string(state));
    return o;
}

json_t *sup_control_answer(sup_control_t *self, const void *data, size_t len)
{
    assert(self);
    assert(data || len == 0);
    sup_ctl_req_t req;
    tw_err_t err = {{0}, 0, 0};
    tw_rc_t rc = sup_ctl_parse(data, len, &req, &err);
    if (rc != TW_OK)
        return s_error_json(rc, err.msg);
    void *ctx = self->hooks.ctx;
    switch (req.cmd) {
    case SUP_CMD_STATUS:
        return self->hooks.status(ctx, req.all);
    case SUP_CMD_START:
    case SUP_CMD_STOP:
    case SUP_CMD_RESTART:
        return s_named(self, &req);
    case SUP_CMD_SPAWN:
        if (self->hooks.shutting_down(ctx))
            return s_error_json(TW_ERR_STATE, "tubewatchd is shutting down");
        rc = sup_table_spawn(self->table, self->ops, req.tmpl, req.instance,
                             req.not_before, &err);
        if (rc != TW_OK)
            return s_error_json(rc, err.msg);
        return s_ok_json("scheduled");
    case SUP_CMD_RELOAD:
        rc = self->hooks.reload(ctx, &err);
        if (rc != TW_OK)
            return s_error_json(rc, err.msg);
        return s_ok_json(err.msg);
    case SUP_CMD_SHUTDOWN:
        tw_log_info("shutdown requested over the control socket");
        self->hooks.shutdown(ctx);
        return s_ok_json("shutting down");
    case SUP_CMD_VERSION: {
        json_t *o = s_ok_json(NULL);
        json_object_set_new(o, "version", json_string(TW_VERSION));
        return o;
    }
    }
    return s_error_json(TW_ERR_INTERNAL, "unhandled command");
}

/* Sends body after the envelope's nenv routing frames; frees body. */
static void s_reply(sup_control_t *self, zmq_msg_t *env, size_t nenv,
                    json_t *body)
{
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    for (size_t i = 0; i < nenv; i++)
        zmq_msg_send(&env[i], self->router, ZMQ_SNDMORE | ZMQ_DONTWAIT);
    zmq_send(self->router, text ? text : "{}", text ? strlen(text) : 2,
             ZMQ_DONTWAIT);
    free(text);
}

void sup_control_run(sup_control_t *self, int max_requests)
{
    assert(self);
    for (int turn = 0; turn < max_requests; turn++) {
        zmq_msg_t parts[MAX_PARTS];
        size_t n = 0;
        bool more = true;
        bool overflow = false;
        while (more) {
            zmq_msg_t m;
            zmq_msg_init(&m);
            if (zmq_msg_recv(&m, self->router, ZMQ_DONTWAIT) < 0) {
                zmq_msg_close(&m);
                if (n == 0)
                    return;
                break;
            }
            more = zmq_msg_more(&m);
            if (n < MAX_PARTS) {
                parts[n++] = m;
            } else {
                overflow = true;
                zmq_msg_close(&m);
            }
        }
        if (n < 2 || overflow) {
            for (size_t i = 0; i < n; i++)
                zmq_msg_close(&parts[i]);
            continue;
        }
        json_t *reply = sup_control_answer(self, zmq_msg_data(&parts[n - 1]),
                                           zmq_msg_size(&parts[n - 1]));
        s_reply(self, parts, n - 1, reply);
        for (size_t i = 0; i < n; i++)
            zmq_msg_close(&parts[i]);
    }
}
