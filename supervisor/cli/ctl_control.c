/* ctl_control - `tubewatch start|stop|restart NAME`, `reload`, `shutdown`,
 * `version`. */
#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "tw_rc.h"
#include "tw_version.h"

static int s_named(ctl_t *ctl, int argc, char **argv)
{
    if (argc != 2 || argv[1][0] == '-')
        return ctl_usage_of(argv[0]);
    return ctl_simple(ctl, argv[0], "name", argv[1]);
}

int ctl_start_main(ctl_t *ctl, int argc, char **argv)
{
    return s_named(ctl, argc, argv);
}

int ctl_stop_main(ctl_t *ctl, int argc, char **argv)
{
    return s_named(ctl, argc, argv);
}

int ctl_restart_main(ctl_t *ctl, int argc, char **argv)
{
    return s_named(ctl, argc, argv);
}

int ctl_reload_main(ctl_t *ctl, int argc, char **argv)
{
    if (argc != 1)
        return ctl_usage_of(argv[0]);
    return ctl_simple(ctl, "reload", NULL, NULL);
}

int ctl_shutdown_main(ctl_t *ctl, int argc, char **argv)
{
    if (argc != 1)
        return ctl_usage_of(argv[0]);
    return ctl_simple(ctl, "shutdown", NULL, NULL);
}

int ctl_version_main(ctl_t *ctl, int argc, char **argv)
{
    if (argc != 1)
        return ctl_usage_of(argv[0]);
    if (ctl->json) {
        json_t *o = json_pack("{s:b,s:s}", "ok", 1, "version", TW_VERSION);
        ctl_print_json(o);
        json_decref(o);
    } else {
        printf("tubewatch %s\n", TW_VERSION);
    }
    return TW_EXIT_OK;
}
