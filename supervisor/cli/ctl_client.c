/* ctl_client - what every tubewatch command shares: the config, the
 * control-socket client, JSON output. */
#include "ctl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <zmq.h>

#include "tw_loop.h"
#include "tw_rc.h"

int ctl_parse_exit(tw_rc_t rc)
{
    if (rc == TW_OK || rc == TW_ERR_NOMEM || rc == TW_ERR_INTERNAL)
        return tw_rc_exit(rc);
    return TW_EXIT_USAGE;
}

int ctl_usage_of(const char *name)
{
#define CTL_USAGE(n, fn, args, summary)                                        \
    if (strcmp(name, n) == 0)                                                  \
        fprintf(stderr, "usage: tubewatch [OPTIONS] %s %s\n  %s\n", n, args,   \
                summary);
    CTL_COMMANDS(CTL_USAGE)
#undef CTL_USAGE
    return TW_EXIT_USAGE;
}

void ctl_print_json(json_t *v)
{
    char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    if (s) {
        puts(s);
        free(s);
    }
}

const tw_cfg_t *ctl_cfg(ctl_t *ctl)
{
    if (ctl->cfg)
        return ctl->cfg;
    tw_cfg_problem_t *problems = NULL;
    size_t n = 0;
    ctl->cfg = tw_cfg_load(ctl->config_path, &problems, &n);
    if (!ctl->cfg) {
        fprintf(stderr, "tubewatch: unable to load %s:\n", ctl->config_path);
        tw_cfg_print_problems(stderr, ctl->config_path, problems, n);
        if (n == 0)
            fprintf(stderr, "%s: unreadable or invalid\n", ctl->config_path);
    }
    free(problems);
    return ctl->cfg;
}

int ctl_socket_probe(const char *path)
{
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof sa.sun_path)
        return ENAMETOOLONG;
    memcpy(sa.sun_path, path, strlen(path));
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return errno;
    int rc = connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0 ? 0 : errno;
    close(fd);
    return rc;
}

static void s_unreachable(ctl_t *ctl, const char *path, const char *why)
{
    if (ctl->json) {
        json_t *o = json_pack("{s:b,s:i,s:s}", "ok", 0, "rc", TW_ERR_CLOSED,
                              "error", why);
        ctl_print_json(o);
        json_decref(o);
    }
    fprintf(stderr, "tubewatch: tubewatchd is not reachable at %s: %s\n", path,
            why);
}

int ctl_request(ctl_t *ctl, json_t *req, json_t **reply)
{
    *reply = NULL;
    char path[4200];
    if (ctl->socket_path) {
        snprintf(path, sizeof path, "%s", ctl->socket_path);
    } else {
        const tw_cfg_t *cfg = ctl_cfg(ctl);
        if (!cfg) {
            json_decref(req);
            return TW_EXIT_USAGE;
        }
        snprintf(path, sizeof path, "%s/control.sock",
                 cfg->supervisor.runtime_dir);
    }
    char *text = json_dumps(req, JSON_COMPACT);
    json_decref(req);
    if (!text)
        return TW_EXIT_BUG;
    int e = ctl_socket_probe(path);
    if (e != 0) {
        free(text);
        s_unreachable(ctl, path,
                      e == ENOENT         ? "no control socket (not running)"
                      : e == ECONNREFUSED ? "connection refused (not running)"
                                          : strerror(e));
        return TW_EXIT_TEMP;
    }
    void *zctx = zmq_ctx_new();
    void *sock = zmq_socket(zctx, ZMQ_REQ);
    int linger = 0;
    zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof linger);
    char endpoint[4300];
    snprintf(endpoint, sizeof endpoint, "ipc://%s", path);
    int code = TW_EXIT_TEMP;
    if (zmq_connect(sock, endpoint) != 0 ||
        zmq_send(sock, text, strlen(text), 0) < 0) {
        s_unreachable(ctl, path, zmq_strerror(zmq_errno()));
        goto out;
    }
    tw_rc_t wrc = tw_loop_wait_one(sock, -1, ZMQ_POLLIN, ctl->timeout_ms);
    if (wrc != TW_OK) {
        s_unreachable(ctl, path,
                      wrc == TW_ERR_TIMEOUT ? "no reply (timed out)"
                                            : zmq_strerror(zmq_errno()));
        goto out;
    }
    zmq_msg_t msg;
    zmq_msg_init(&msg);
    if (zmq_msg_recv(&msg, sock, 0) < 0) {
        zmq_msg_close(&msg);
        s_unreachable(ctl, path, zmq_strerror(zmq_errno()));
        goto out;
    }
    json_error_t jerr;
    json_t *r = json_loadb(zmq_msg_data(&msg), zmq_msg_size(&msg), 0, &jerr);
    zmq_msg_close(&msg);
    if (!json_is_object(r)) {
        json_decref(r);
        s_unreachable(ctl, path, "malformed reply");
        goto out;
    }
    if (!json_is_true(json_object_get(r, "ok"))) {
        if (ctl->json)
            ctl_print_json(r);
        const char *err = json_string_value(json_object_get(r, "error"));
        fprintf(stderr, "tubewatch: refused: %s\n", err ? err : "(no reason)");
        json_decref(r);
        code = TW_EXIT_REFUSED;
        goto out;
    }
    *reply = r;
    code = TW_EXIT_OK;
out:
    free(text);
    zmq_close(sock);
    zmq_ctx_term(zctx);
    return code;
}

int ctl_simple(ctl_t *ctl, const char *cmd, const char *key, const char *value)
{
    json_t *req = json_pack("{s:s}", "cmd", cmd);
    if (key)
        json_object_set_new(req, key, json_string(value));
    json_t *reply = NULL;
    int code = ctl_request(ctl, req, &reply);
    if (code != TW_EXIT_OK)
        return code;
    if (ctl->json) {
        ctl_print_json(reply);
    } else {
        const char *m = json_string_value(json_object_get(reply, "message"));
        printf("%s\n", m ? m : "ok");
    }
    json_decref(reply);
    return TW_EXIT_OK;
}
