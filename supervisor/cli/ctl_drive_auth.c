/* ctl_drive_auth - `tubewatch drive-auth`: the one-time device-code
 * authorisation that stores a Drive refresh token in [drive] token_file. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl.h"
#include "tw_gauth.h"
#include "tw_log.h"
#include "tw_rc.h"

/* Sleeps between polls; TUBEWATCH_DEVICE_POLL_MS (tests) replaces the
 * interval Google asks for. */
static int s_sleep(uint32_t ms, void *arg)
{
    (void)arg;
    const char *env = getenv("TUBEWATCH_DEVICE_POLL_MS");
    if (env && *env)
        ms = (uint32_t)strtoul(env, NULL, 10);
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
    return 0;
}

int ctl_drive_auth_main(ctl_t *ctl, int argc, char **argv)
{
    if (argc != 1)
        return ctl_usage_of(argv[0]);
    const tw_cfg_t *cfg = ctl_cfg(ctl);
    if (!cfg)
        return TW_EXIT_USAGE;
    tw_log_init("tubewatch");
    if (cfg->drive.service_account_file && *cfg->drive.service_account_file)
        fprintf(stderr, "tubewatch: drive-auth: note: [drive] uses a "
                        "service account; the refresh token is only used "
                        "without service_account_file\n");
    tw_err_t err = {0};
    tw_rc_t rc = tw_gauth_device_flow(&cfg->drive, stdout, s_sleep, NULL, &err);
    if (rc != TW_OK) {
        fprintf(stderr, "tubewatch: drive-auth: %s\n",
                err.msg[0] ? err.msg : tw_rc_str(rc));
    }
    return tw_rc_exit(rc);
}
