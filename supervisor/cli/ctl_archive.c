/* ctl_archive - `tubewatch archive [--date D] [--now] [--no-upload]`: runs
 * the uploader's archive pass in this process. */
#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "tw_log.h"
#include "tw_rc.h"
#include "tw_archive.h"

int ctl_archive_main(ctl_t *ctl, int argc, char **argv)
{
    tw_archive_opts_t o = {0};
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--date") == 0 && i + 1 < argc)
            o.only_date = argv[++i];
        else if (strncmp(argv[i], "--date=", 7) == 0)
            o.only_date = argv[i] + 7;
        else if (strcmp(argv[i], "--now") == 0)
            o.no_wait = true;
        else if (strcmp(argv[i], "--no-upload") == 0)
            o.no_upload = true;
        else
            return ctl_usage_of(argv[0]);
    }
    if (o.only_date && !tw_archive_valid_date(o.only_date)) {
        fprintf(stderr,
                "tubewatch: archive: invalid date '%s' (want "
                "YYYY-MM-DD)\n",
                o.only_date);
        return TW_EXIT_USAGE;
    }
    o.cfg = ctl_cfg(ctl);
    if (!o.cfg)
        return TW_EXIT_USAGE;
    tw_log_init("tubewatch");
    tw_archive_report_t rep;
    tw_err_t err = {0};
    tw_rc_t rc = tw_archive_run(&o, &rep, &err);
    if (ctl->json) {
        json_t *j = json_pack(
            "{s:b, s:i, s:i, s:i, s:i, s:i, s:s}", "ok", rc == TW_OK, "zipped",
            (int)rep.zipped, "uploaded", (int)rep.uploaded, "deleted",
            (int)rep.deleted, "failed", (int)rep.failed, "pending",
            (int)rep.pending, "error", rc == TW_OK ? "" : err.msg);
        ctl_print_json(j);
        json_decref(j);
    } else {
        printf("archive: %u zipped, %u uploaded, %u deleted, %u failed\n",
               rep.zipped, rep.uploaded, rep.deleted, rep.failed);
        if (rc != TW_OK)
            fprintf(stderr, "tubewatch: archive: %s\n",
                    err.msg[0] ? err.msg : tw_rc_str(rc));
        else if (!rep.zipped && !rep.uploaded && !rep.deleted)
            printf("archive: nothing to do%s%s (no data, or already "
                   "done)\n",
                   o.only_date ? " for " : "", o.only_date ? o.only_date : "");
    }
    if (rc == TW_ERR_AGAIN && !rep.failed)
        return TW_EXIT_REFUSED; /* busy with --now */
    return tw_rc_exit(rc);
}
