/* ctl_check_config - `tubewatch check-config FILE`. */
#include <stdio.h>
#include <stdlib.h>

#include "ctl.h"
#include "tw_rc.h"

int ctl_check_config_main(ctl_t *ctl, int argc, char **argv)
{
    if (argc != 2)
        return ctl_usage_of(argv[0]);
    const char *path = argv[1];
    tw_cfg_problem_t *problems = NULL;
    size_t n = 0;
    tw_cfg_t *cfg = tw_cfg_load(path, &problems, &n);
    if (!cfg) {
        if (ctl->json) {
            json_t *arr = json_array();
            for (size_t i = 0; i < n; i++)
                json_array_append_new(arr, json_pack("{s:i,s:i,s:s}", "line",
                                                     problems[i].line, "col",
                                                     problems[i].col, "message",
                                                     problems[i].msg));
            json_t *o = json_pack("{s:b,s:s,s:o}", "ok", 0, "path", path,
                                  "problems", arr);
            ctl_print_json(o);
            json_decref(o);
        } else {
            tw_cfg_print_problems(stderr, path, problems, n);
            if (n == 0)
                fprintf(stderr, "%s: unreadable or invalid\n", path);
        }
        free(problems);
        return TW_EXIT_USAGE;
    }
    free(problems);
    size_t templates = 0, enabled = 0;
    for (size_t i = 0; i < cfg->nworkers; i++) {
        templates += cfg->workers[i].is_template;
        enabled += cfg->workers[i].enabled && !cfg->workers[i].is_template;
    }
    if (ctl->json) {
        json_t *o = json_pack("{s:b,s:s,s:i,s:i,s:i}", "ok", 1, "path", path,
                              "workers", (int)cfg->nworkers, "enabled",
                              (int)enabled, "templates", (int)templates);
        ctl_print_json(o);
        json_decref(o);
    } else {
        printf("%s: ok (%zu workers, %zu enabled, %zu templates)\n", path,
               cfg->nworkers, enabled, templates);
    }
    tw_cfg_destroy(&cfg);
    return TW_EXIT_OK;
}
