/* ctl_help - `tubewatch help [COMMAND]`: usage and summary from the
 * command table. */
#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "tw_rc.h"

static void s_print(const char *name, const char *args, const char *summary)
{
    printf("usage: tubewatch [OPTIONS] %s%s%s\n  %s\n", name, *args ? " " : "",
           args, summary);
}

int ctl_help_main(ctl_t *ctl, int argc, char **argv)
{
    (void)ctl;
    if (argc > 2)
        return ctl_usage_of(argv[0]);
    if (argc == 1) {
#define CTL_ALL(n, fn, args, summary) s_print(n, args, summary);
        CTL_COMMANDS(CTL_ALL)
#undef CTL_ALL
        printf("\nSee tubewatch(1) for options, files and exit codes.\n");
        return TW_EXIT_OK;
    }
#define CTL_ONE(n, fn, args, summary)                                          \
    if (strcmp(argv[1], n) == 0) {                                             \
        s_print(n, args, summary);                                             \
        return TW_EXIT_OK;                                                     \
    }
    CTL_COMMANDS(CTL_ONE)
#undef CTL_ONE
    fprintf(stderr,
            "tubewatch: unknown command '%s' (tubewatch help lists them)\n",
            argv[1]);
    return TW_EXIT_USAGE;
}
