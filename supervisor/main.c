/* tubewatchd - the supervisor (work in progress). */
#include <stdio.h>

#include "tw_log.h"
#include "tw_rc.h"

int main(int argc, char **argv)
{
    (void)argc;
    tw_log_init(argv[0]);
    tw_log_error("unable to start: supervisor not built yet");
    return TW_EXIT_TEMP;
}
