/* ctl_status - `tubewatch status [--all]`: the worker table. Many
 * scheduled instances are summed up per template unless --all. */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "tw_rc.h"

/* Formats a duration compactly: 45s, 3m07s, 2h05m, 3d04h. */
static const char *s_dur(json_int_t ms, char *buf, size_t cap)
{
    long long s = (long long)(ms / 1000);
    if (ms <= 0)
        snprintf(buf, cap, "-");
    else if (s < 60)
        snprintf(buf, cap, "%llds", s);
    else if (s < 3600)
        snprintf(buf, cap, "%lldm%02llds", s / 60, s % 60);
    else if (s < 86400)
        snprintf(buf, cap, "%lldh%02lldm", s / 3600, (s % 3600) / 60);
    else
        snprintf(buf, cap, "%lldd%02lldh", s / 86400, (s % 86400) / 3600);
    return buf;
}

int ctl_status_main(ctl_t *ctl, int argc, char **argv)
{
    bool all = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--all") == 0)
            all = true;
        else
            return ctl_usage_of(argv[0]);
    }
    json_t *req = json_pack("{s:s}", "cmd", "status");
    if (all)
        json_object_set_new(req, "all", json_true());
    json_t *reply = NULL;
    int code = ctl_request(ctl, req, &reply);
    if (code != TW_EXIT_OK)
        return code;
    if (ctl->json) {
        ctl_print_json(reply);
        json_decref(reply);
        return TW_EXIT_OK;
    }
    json_t *ws = json_object_get(reply, "workers");
    char up[32];
    printf("tubewatchd %s pid %" JSON_INTEGER_FORMAT " up %s%s\n",
           json_string_value(json_object_get(reply, "version")),
           json_integer_value(json_object_get(reply, "pid")),
           s_dur(json_integer_value(json_object_get(reply, "uptime_ms")), up,
                 sizeof up),
           json_is_true(json_object_get(reply, "shutting_down"))
               ? " (shutting down)"
               : "");
    printf("%-28s %-10s %8s %8s %8s %-12s %8s\n", "WORKER", "STATE", "PID",
           "UPTIME", "RESTARTS", "LAST EXIT", "MSGS/S");
    size_t i;
    json_t *w;
    json_array_foreach(ws, i, w)
    {
        char pid[24] = "-";
        json_int_t p = json_integer_value(json_object_get(w, "pid"));
        if (p > 0)
            snprintf(pid, sizeof pid, "%" JSON_INTEGER_FORMAT, p);
        const char *st = json_string_value(json_object_get(w, "state"));
        char state[32];
        snprintf(state, sizeof state, "%s", st ? st : "?");
        const char *ex = json_string_value(json_object_get(w, "last_exit"));
        printf("%-28s %-10s %8s %8s %8" JSON_INTEGER_FORMAT " %-12s %8.1f",
               json_string_value(json_object_get(w, "name")), state, pid,
               s_dur(json_integer_value(json_object_get(w, "uptime_ms")), up,
                     sizeof up),
               json_integer_value(json_object_get(w, "restarts")),
               ex && *ex ? ex : "-",
               json_real_value(json_object_get(w, "msgs_per_s")));
        json_t *next = json_object_get(w, "next_start_ms");
        const char *nb = json_string_value(json_object_get(w, "not_before"));
        const char *wf = json_string_value(json_object_get(w, "waiting_for"));
        if (wf)
            printf("  waiting for %s", wf);
        else if (nb)
            printf("  at %s", nb);
        else if (next)
            printf("  next start in %s",
                   s_dur(json_integer_value(next) + 999, up, sizeof up));
        const char *note = json_string_value(json_object_get(w, "note"));
        if (strcmp(state, "failed") == 0 && note && *note)
            printf("\n    %s", note);
        const char *drift = json_string_value(json_object_get(w, "drift"));
        const char *dat = json_string_value(json_object_get(w, "drift_at"));
        if (drift && *drift)
            printf("\n    drift %s: %s", dat ? dat : "", drift);
        printf("\n");
    }
    if (!json_is_false(json_object_get(reply, "scheduled_listed"))) {
        json_decref(reply);
        return TW_EXIT_OK;
    }
    json_array_foreach(json_object_get(reply, "scheduled"), i, w)
    {
        char name[40];
        snprintf(name, sizeof name, "%.30s@*",
                 json_string_value(json_object_get(w, "template")));
        const char *nb = json_string_value(json_object_get(w, "next"));
        printf("%-28s %-10s %8" JSON_INTEGER_FORMAT " instances, next at %s\n",
               name, "scheduled",
               json_integer_value(json_object_get(w, "count")), nb ? nb : "?");
    }
    printf("(scheduled instances summed up; `tubewatch status --all` lists "
           "each)\n");
    json_decref(reply);
    return TW_EXIT_OK;
}
