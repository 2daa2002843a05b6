/* tw-uploader - archives closed days at [worker.uploader] archive_at local
 * time and uploads them to Google Drive; failures are retried with backoff
 * and reported to the notifier.
 *
 * Exit codes: 0 stopped (SIGTERM/STOP), 100 bad configuration, 111
 * temporary failure (supervisor unreachable). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tw_deliver.h"
#include "tw_file.h"
#include "tw_log.h"
#include "tw_loop.h"
#include "tw_time.h"
#include "tw_worker.h"
#include "tw_archive.h"

#define RETRY_MIN_MS 60000LL   /* first retry after a failed pass */
#define RETRY_MAX_MS 3600000LL /* retry cap */

/* The worker's loop state. */
typedef struct {
    tw_worker_t *w;          /* supervisor link */
    tw_deliver_t *notify;    /* sender to the notifier, or NULL */
    int hour;                /* archive_at hour */
    int minute;              /* archive_at minute */
    const char *tz;          /* supervisor.timezone */
    int64_t retry_ms;        /* current retry delay */
    int64_t retry_min;       /* first retry delay */
    bool failing;            /* the last pass failed (notified) */
    uint64_t uploads;        /* day archives uploaded by this process */
    uint64_t failures;       /* uploads failed in this process */
    tw_loop_t *loop;         /* the event loop */
    int timer;               /* next archive_at, then the steps of a pass */
    int64_t next_us;         /* wall time of the next pass */
    tw_archive_pass_t *pass; /* the pass in progress, or NULL */
    tw_archive_opts_t opts;  /* its options */
    tw_archive_report_t rep; /* what it did so far */
    int64_t pass_t0;         /* when it started (mono ms) */
} s_up_t;

/* Longest timer wait before the wall clock is read again (it may jump). */
#define S_WALL_RECHECK_MS 60000

/* Called inside a day's zip and upload: never waits. Reads a pending stop
 * (signal, STOP) and sends a heartbeat when due; the rest of the loop is
 * served between days. */
static int s_tick(void *arg)
{
    s_up_t *u = arg;
    tw_worker_service(u->w);
    return tw_worker_stopping(u->w) ? 1 : 0;
}

static void s_notice(s_up_t *u, const char *kind, const char *text)
{
    if (!u->notify)
        return;
    tw_msg_t msg = {.id = TW_MSG_NOTICE};
    msg.u.notice.kind = (char *)kind;
    msg.u.notice.text = (char *)text;
    tw_err_t err = {0};
    tw_rc_t rc = tw_deliver_send(u->notify, &msg, &err);
    if (rc != TW_OK)
        tw_log_warn("unable to queue a notice for the notifier: %s",
                    err.msg[0] ? err.msg : tw_rc_str(rc));
}

/* Next archive_at instant after now_us. */
static int64_t s_next_run(s_up_t *u, int64_t now_us)
{
    int64_t next = 0;
    tw_err_t err;
    if (tw_time_next_local(u->tz, now_us, u->hour, u->minute, &next, &err) !=
        TW_OK) {
        tw_log_warn("unable to compute the next archive time: %s", err.msg);
        return now_us + 3600LL * 1000000;
    }
    return next;
}

/* True when today's archive_at has already passed (catch up at start). */
static bool s_missed_today(s_up_t *u, int64_t now_us)
{
    int64_t last = s_next_run(u, now_us - 86400LL * 1000000);
    char a[TW_TIME_DATE_SIZE], b[TW_TIME_DATE_SIZE];
    if (last > now_us || tw_time_local_date(u->tz, last, a, NULL) != TW_OK ||
        tw_time_local_date(u->tz, now_us, b, NULL) != TW_OK)
        return false;
    return strcmp(a, b) == 0;
}

/* The end of a pass with rc: logs and counts it, tells the notifier when
 * uploads start or stop working; returns the time of the next pass. */
static int64_t s_pass_done(s_up_t *u, tw_rc_t rc, const tw_err_t *errp)
{
    const tw_archive_report_t rep = u->rep;
    tw_err_t err = *errp;
    int64_t now = tw_time_now_us();
    tw_log_info("archive pass: %u zipped, %u uploaded, %u deleted, %u failed "
                "in %" PRId64 " ms",
                rep.zipped, rep.uploaded, rep.deleted, rep.failed,
                tw_time_mono_ms() - u->pass_t0);
    tw_worker_count(u->w, 0, rep.uploaded, rep.failed);
    u->uploads += rep.uploaded;
    u->failures += rep.failed;
    tw_worker_gauge(u->w, "uploads_total", (int64_t)u->uploads);
    tw_worker_gauge(u->w, "uploads_failed_total", (int64_t)u->failures);
    if (rc == TW_ERR_CLOSED)
        return now;
    if (rc == TW_OK) {
        if (u->failing) {
            char text[256];
            snprintf(text, sizeof text,
                     "Drive uploads work again: %u day(s) uploaded",
                     rep.uploaded);
            s_notice(u, "upload.done", text);
        }
        u->failing = false;
        u->retry_ms = u->retry_min;
        return s_next_run(u, now);
    }
    if (!u->failing) {
        char text[700];
        snprintf(text, sizeof text, "%s; retrying with backoff",
                 err.msg[0] ? err.msg : tw_rc_str(rc));
        s_notice(u, "upload.failed", text);
    }
    u->failing = true;
    int64_t retry = now + u->retry_ms * 1000;
    tw_log_warn("archive pass failed (%s); retrying in %" PRId64 " s",
                tw_rc_str(rc), u->retry_ms / 1000);
    u->retry_ms =
        u->retry_ms * 2 > RETRY_MAX_MS ? RETRY_MAX_MS : u->retry_ms * 2;
    int64_t next = s_next_run(u, now);
    return retry < next ? retry : next;
}

/* Waits for the next pass: the timer fires at next_us (wall clock, read
 * again at least every S_WALL_RECHECK_MS). */
static void s_arm_next(s_up_t *u)
{
    int64_t ms = tw_time_real_ms((u->next_us - tw_time_now_us()) / 1000);
    if (ms < 0)
        ms = 0;
    if (ms > S_WALL_RECHECK_MS)
        ms = S_WALL_RECHECK_MS;
    tw_loop_rearm_timer(u->loop, u->timer, ms);
}

/* The timer: starts a pass when it is time, then does one day per firing
 * so that the loop runs between days. */
static tw_rc_t s_on_timer(tw_loop_t *loop, int id, void *arg)
{
    (void)id;
    s_up_t *u = arg;
    tw_err_t err = {0};
    tw_rc_t rc = TW_OK;
    bool done = false;
    if (!u->pass) {
        if (tw_time_now_us() < u->next_us) {
            s_arm_next(u);
            return TW_OK;
        }
        u->opts = (tw_archive_opts_t){.cfg = tw_worker_cfg(u->w),
                                      .data_dir = getenv(TW_ENV_DATA_DIR),
                                      .tick = s_tick,
                                      .tick_arg = u};
        u->pass_t0 = tw_time_mono_ms();
        rc = tw_archive_pass_new(&u->pass, &u->opts, &u->rep, &err);
        done = rc != TW_OK;
    } else {
        rc = tw_archive_pass_step(u->pass, &done, &err);
    }
    if (u->pass && (done || rc != TW_OK))
        rc = tw_archive_pass_end(&u->pass, &err);
    if (done || rc != TW_OK) {
        u->next_us = s_pass_done(u, rc, &err);
        char ts[TW_TIME_STR_SIZE];
        tw_log_info("next archive run at %s", tw_time_format(u->next_us, ts));
        s_arm_next(u);
    } else {
        tw_loop_rearm_timer(loop, u->timer, 0);
    }
    /* a stop read by s_tick inside the day */
    if (tw_worker_stopping(u->w))
        tw_loop_stop(loop);
    return TW_OK;
}

static tw_rc_t s_open_notify(s_up_t *u, tw_err_t *err)
{
    const tw_cfg_t *cfg = tw_worker_cfg(u->w);
    const tw_cfg_worker_t *nw = tw_cfg_worker(cfg, "notifier");
    if (!nw || !nw->enabled)
        return TW_OK;
    const char *rt = getenv(TW_ENV_RUNTIME_DIR);
    char ep[4200], dir[4200], journal[4300];
    snprintf(ep, sizeof ep, "ipc://%s/notifier.sock",
             rt ? rt : cfg->supervisor.runtime_dir);
    snprintf(dir, sizeof dir, "%s/uploader", cfg->supervisor.state_dir);
    tw_rc_t rc = tw_file_mkdirs(dir, 0700, err);
    if (rc != TW_OK)
        return rc;
    snprintf(journal, sizeof journal, "%s/notify.journal", dir);
    tw_deliver_opts_t o = {.endpoint = ep,
                           .src = tw_worker_name(u->w),
                           .epoch = tw_worker_epoch(u->w),
                           .journal = journal};
    return tw_deliver_sender_new(&u->notify, tw_worker_zctx(u->w), &o, err);
}

int main(int argc, char **argv)
{
    (void)argv;
    tw_log_init("tw-uploader");
    if (argc > 1) {
        fprintf(stderr, "usage: tw-uploader (started by tubewatchd)\n"
                        "exit codes: 0 stopped, 100 bad configuration, "
                        "111 temporary failure\n");
        return TW_EXIT_USAGE;
    }
    tw_err_t err = {0};
    s_up_t u = {.retry_ms = RETRY_MIN_MS};
    const char *env = getenv("TUBEWATCH_UPLOADER_RETRY_MS"); /* tests */
    if (env && atoll(env) > 0)
        u.retry_ms = atoll(env);
    u.retry_min = u.retry_ms;
    tw_rc_t rc = tw_worker_new(&u.w, "uploader", &err);
    if (rc != TW_OK) {
        tw_log_error("unable to start: %s", err.msg);
        return tw_rc_exit(rc);
    }
    const tw_cfg_t *cfg = tw_worker_cfg(u.w);
    u.tz = cfg->supervisor.timezone;
    if (tw_time_hhmm_parse(cfg->uploader.archive_at, &u.hour, &u.minute,
                           &err) != TW_OK ||
        tw_time_zone_check(u.tz, &err) != TW_OK) {
        tw_log_error("bad configuration: %s", err.msg);
        tw_worker_destroy(&u.w);
        return TW_EXIT_USAGE;
    }
    rc = s_open_notify(&u, &err);
    if (rc != TW_OK) {
        tw_log_error("unable to connect to the notifier: %s", err.msg);
        tw_worker_destroy(&u.w);
        return tw_rc_exit(rc);
    }
    tw_worker_gauge(u.w, "uploads_total", 0); /* series exist from the start */
    tw_worker_gauge(u.w, "uploads_failed_total", 0);
    tw_worker_ready(u.w);
    int64_t now = tw_time_now_us();
    int64_t next = s_missed_today(&u, now) ? now : s_next_run(&u, now);
    char ts[TW_TIME_STR_SIZE];
    tw_log_info("next archive run at %s%s", tw_time_format(next, ts),
                cfg->drive.enabled ? "" : " (Drive upload disabled)");
    u.next_us = next;
    u.loop = tw_loop_new();
    if (!u.loop)
        tw_log_fatal(TW_EXIT_TEMP, "out of memory");
    u.timer = tw_loop_add_timer(u.loop, 0, 0, s_on_timer, &u);
    if (u.timer < 0)
        tw_log_fatal(TW_EXIT_TEMP, "out of memory");
    s_arm_next(&u);
    rc = tw_worker_attach(u.w, u.loop);
    if (rc == TW_OK && u.notify)
        rc = tw_deliver_attach(u.notify, u.loop, NULL, NULL);
    if (rc != TW_OK)
        tw_log_fatal(tw_rc_exit(rc), "unable to start the loop: %s",
                     tw_rc_str(rc));
    rc = tw_loop_run(u.loop);
    if (rc != TW_OK)
        tw_log_error("event loop: %s", tw_rc_str(rc));
    tw_archive_pass_destroy(&u.pass);
    if (u.notify) {
        (void)tw_deliver_drain(u.notify, 2000, NULL);
        tw_deliver_destroy(&u.notify);
    }
    tw_worker_destroy(&u.w);
    tw_loop_destroy(&u.loop);
    return TW_EXIT_OK;
}
