/* tubewatch - the control CLI (work in progress). */
#include <stdio.h>
#include <string.h>

#include "tw_log.h"
#include "tw_rc.h"
#include "tw_version.h"

int main(int argc, char **argv)
{
    tw_log_init("tubewatch");
    if (argc > 1 && strcmp(argv[1], "version") == 0) {
        printf("tubewatch %s\n", TW_VERSION);
        return TW_EXIT_OK;
    }
    fprintf(stderr, "usage: tubewatch version\n");
    return TW_EXIT_USAGE;
}
