/* tubewatchd - the supervisor: runs every worker of supervisor.toml. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sup_daemon.h"
#include "tw_log.h"
#include "tw_rc.h"
#include "tw_version.h"

static void s_usage(FILE *out)
{
    fprintf(out,
            "usage: tubewatchd [-c CONFIG]\n"
            "Runs the tubewatch workers in the foreground (for systemd or\n"
            "any other init) until SIGTERM/SIGINT; SIGHUP reloads CONFIG.\n"
            "CONFIG defaults to $TUBEWATCH_CONFIG, then\n"
            "/etc/tubewatch/supervisor.toml.\n"
            "\n"
            "exit codes: 0 clean stop, 100 usage or config error,\n"
            "            101 internal bug, 111 temporary failure (runtime dir\n"
            "            locked by another tubewatchd, I/O)\n");
}

int main(int argc, char **argv)
{
    tw_log_init("tubewatchd");
    const char *config = getenv("TUBEWATCH_CONFIG");
    if (!config || !*config)
        config = "/etc/tubewatch/supervisor.toml";
    for (int i = 1; i < argc; i++) {
        if ((strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--config") == 0) &&
            i + 1 < argc) {
            config = argv[++i];
        } else if (strcmp(argv[i], "-h") == 0 ||
                   strcmp(argv[i], "--help") == 0) {
            s_usage(stdout);
            return TW_EXIT_OK;
        } else if (strcmp(argv[i], "--version") == 0) {
            printf("tubewatchd %s\n", TW_VERSION);
            return TW_EXIT_OK;
        } else {
            fprintf(stderr, "tubewatchd: unknown argument '%s'\n", argv[i]);
            s_usage(stderr);
            return TW_EXIT_USAGE;
        }
    }
    return tw_rc_exit(sup_daemon_run(config));
}
