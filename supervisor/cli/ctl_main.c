/* tubewatch - the operator CLI of tubewatchd. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "tw_log.h"
#include "tw_rc.h"
#include "tw_version.h"

static const struct {
    const char *name;    /* command word */
    ctl_fn fn;           /* implementation */
    const char *args;    /* argument synopsis */
    const char *summary; /* one line of help */
} s_commands[] = {
#define CTL_ROW(name, fn, args, summary) {name, fn, args, summary},
    CTL_COMMANDS(CTL_ROW)
#undef CTL_ROW
};

static void s_help(FILE *out)
{
    fprintf(out, "usage: tubewatch [-c CONFIG | --socket PATH] [--json] "
                 "COMMAND [ARGS]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof s_commands / sizeof s_commands[0]; i++) {
        char left[64];
        snprintf(left, sizeof left, "%s %s", s_commands[i].name,
                 s_commands[i].args);
        fprintf(out, "  %-36s %s\n", left, s_commands[i].summary);
    }
    fprintf(out,
            "\noptions:\n"
            "  -c, --config CONFIG  config file (default $TUBEWATCH_CONFIG,\n"
            "                       then /etc/tubewatch/supervisor.toml)\n"
            "  --socket PATH        control socket (default\n"
            "                       RUNTIME_DIR/control.sock of the config)\n"
            "  --json               machine-readable output\n"
            "  --timeout MS         wait this long for tubewatchd (10000)\n"
            "\nexit codes: 0 ok, 1 refused by tubewatchd, 100 usage or "
            "config error,\n"
            "            101 internal bug, 111 tubewatchd unreachable\n");
}

int main(int argc, char **argv)
{
    tw_log_init("tubewatch");
    ctl_t ctl = {.timeout_ms = 10000};
    ctl.config_path = getenv("TUBEWATCH_CONFIG");
    ctl.config_given = ctl.config_path && *ctl.config_path;
    if (!ctl.config_given)
        ctl.config_path = "/etc/tubewatch/supervisor.toml";
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        const char *a = argv[i];
        if ((strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0) &&
            i + 1 < argc) {
            ctl.config_path = argv[++i];
            ctl.config_given = true;
        } else if (strcmp(a, "--socket") == 0 && i + 1 < argc) {
            ctl.socket_path = argv[++i];
        } else if (strcmp(a, "--timeout") == 0 && i + 1 < argc) {
            ctl.timeout_ms = atoi(argv[++i]);
            if (ctl.timeout_ms <= 0) {
                fprintf(stderr, "tubewatch: bad --timeout\n");
                return TW_EXIT_USAGE;
            }
        } else if (strcmp(a, "--json") == 0) {
            ctl.json = true;
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            s_help(stdout);
            return TW_EXIT_OK;
        } else if (strcmp(a, "--version") == 0) {
            printf("tubewatch %s\n", TW_VERSION);
            return TW_EXIT_OK;
        } else {
            fprintf(stderr, "tubewatch: unknown option '%s'\n", a);
            s_help(stderr);
            return TW_EXIT_USAGE;
        }
    }
    if (i >= argc) {
        s_help(stderr);
        return TW_EXIT_USAGE;
    }
    for (size_t k = 0; k < sizeof s_commands / sizeof s_commands[0]; k++) {
        if (strcmp(argv[i], s_commands[k].name) != 0)
            continue;
        /* --json may also follow the command word. */
        int n = 0;
        char **args = calloc((size_t)(argc - i + 1), sizeof *args);
        if (!args)
            return tw_rc_exit(TW_ERR_NOMEM);
        for (int j = i; j < argc; j++) {
            if (j > i && strcmp(argv[j], "--json") == 0)
                ctl.json = true;
            else
                args[n++] = argv[j];
        }
        int code = s_commands[k].fn(&ctl, n, args);
        free(args);
        tw_cfg_destroy(&ctl.cfg);
        return code;
    }
    fprintf(stderr, "tubewatch: unknown command '%s'\n", argv[i]);
    s_help(stderr);
    return TW_EXIT_USAGE;
}
