/* Unit tests of the supervisor's pieces: the child state machine with fake
 * side effects, control request parsing, times, state files, log capture,
 * the worker frame codec. */
#include <check.h>
#include <inttypes.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../supervisor/daemon/sup_child.h"
#include "../../supervisor/daemon/sup_ctl.h"
#include "../../supervisor/daemon/sup_env.h"
#include "../../supervisor/daemon/sup_log.h"
#include "../../supervisor/daemon/sup_state.h"
#include "tw_worker.h"
#include "tw_time.h"

/* ---- fake side effects ---- */

typedef struct {
    int64_t now;      /* fake monotonic clock */
    int spawns;       /* spawn calls */
    bool spawn_fails; /* make spawn fail */
    bool deps;        /* deps_ready answer */
    int kills[8];     /* signals sent, in order */
    int nkills;       /* how many */
    char last[32];    /* last report */
    int failed;       /* "failed" reports */
    int64_t wall_us;  /* fake wall clock, Unix usec */
} fake_t;

static tw_rc_t f_spawn(void *ctx, sup_child_t *c)
{
    fake_t *f = ctx;
    f->spawns++;
    if (f->spawn_fails)
        return TW_ERR_AGAIN;
    sup_child_spawned(c, 1000 + f->spawns, (uint64_t)f->spawns);
    return TW_OK;
}

static void f_kill(void *ctx, sup_child_t *c, int sig)
{
    fake_t *f = ctx;
    (void)c;
    if (f->nkills < 8)
        f->kills[f->nkills++] = sig;
}

static bool f_deps(void *ctx, const sup_child_t *c)
{
    (void)c;
    return ((fake_t *)ctx)->deps;
}

static void f_report(void *ctx, sup_child_t *c, const char *what,
                     const char *text)
{
    fake_t *f = ctx;
    (void)c;
    (void)text;
    snprintf(f->last, sizeof f->last, "%s", what);
    if (strcmp(what, "failed") == 0)
        f->failed++;
}

static int64_t f_now(void *ctx)
{
    return ((fake_t *)ctx)->now;
}

static int64_t f_wall_us(void *ctx)
{
    return ((fake_t *)ctx)->wall_us;
}

static fake_t s_fake;
static sup_ops_t s_ops;
static tw_cfg_worker_t s_w;
static char s_wname[] = "w";

static void s_setup(void)
{
    memset(&s_fake, 0, sizeof s_fake);
    s_fake.now = 1000000;
    s_fake.deps = true;
    s_fake.wall_us = 1700000000000000;
    s_ops = (sup_ops_t){&s_fake,  f_spawn, f_kill,   f_deps,
                        f_report, f_now,   f_wall_us};
    memset(&s_w, 0, sizeof s_w);
    s_w.name = s_wname;
    s_w.kind = s_wname;
    s_w.enabled = true;
    s_w.restart = TW_RESTART_PERMANENT;
    s_w.min_uptime_ms = 1000;
    s_w.restart_delay_ms = 100;
    s_w.restart_delay_max_ms = 400;
    s_w.max_restarts = 5;
    s_w.restart_window_ms = 60000;
    s_w.failed_retry_ms = 600000;
    s_w.stop_signal = SIGTERM;
    s_w.stop_timeout_ms = 2000;
    s_w.ready_timeout_ms = 500;
    s_w.watchdog_timeout_ms = 3000;
}

static int s_exit_status(int code)
{
    return (code & 0xff) << 8; /* as waitpid reports an exit */
}

/* Runs the child until it is started again after a young crash; returns
 * the delay the state machine chose. */
static int64_t s_crash_young(sup_child_t *c, int code)
{
    s_fake.now += 10;
    sup_child_exited(&s_ops, c, s_exit_status(code));
    if (sup_child_state(c) != SUP_ST_BACKOFF)
        return -1;
    int64_t delay = sup_child_deadline(c) - s_fake.now;
    s_fake.now = sup_child_deadline(c);
    sup_child_dispatch(&s_ops, c, SUP_EV_TIMEOUT);
    return delay;
}

START_TEST(test_fsm_backoff_doubles_to_max)
{
    sup_child_t *c = sup_child_new(&s_w, NULL);
    sup_child_dispatch(&s_ops, c, SUP_EV_START);
    ck_assert_int_eq(sup_child_state(c), SUP_ST_STARTING);
    ck_assert_int_eq(s_crash_young(c, 1), 100);
    ck_assert_int_eq(s_crash_young(c, 1), 200);
    ck_assert_int_eq(s_crash_young(c, 1), 400);
    ck_assert_int_eq(s_crash_young(c, 1), 400);
    ck_assert_int_eq(sup_child_state(c), SUP_ST_STARTING);
    ck_assert_int_eq(s_fake.spawns, 5);
    sup_child_destroy(&c);
}
END_TEST

START_TEST(test_fsm_old_death_restarts_at_once)
{
    sup_child_t *c = sup_child_new(&s_w, NULL);
    sup_child_dispatch(&s_ops, c, SUP_EV_START);
    s_crash_young(c, 1);
    s_crash_young(c, 1);
    s_fake.now += 5000; /* longer than min_uptime */
    sup_child_exited(&s_ops, c, s_exit_status(1));
    ck_assert_int_eq(sup_child_state(c), SUP_ST_STARTING);
    ck_assert_int_eq(s_fake.spawns, 4);
    /* The backoff starts over after a long run. */
    ck_assert_int_eq(s_crash_young(c, 1), 100);
    sup_child_destroy(&c);
}
END_TEST

START_TEST(test_fsm_exit_111_backs_off_even_when_old)
{
    sup_child_t *c = sup_child_new(&s_w, NULL);
    sup_child_dispatch(&s_ops, c, SUP_EV_START);
    s_fake.now += 5000;
    sup_child_exited(&s_ops, c, s_exit_status(111));
    ck_assert_int_eq(sup_child_state(c), SUP_ST_BACKOFF);
    sup_child_destroy(&c);
}
END_TEST

START_TEST(test_fsm_max_restarts_fails_then_retries)
{
    sup_child_t *c = sup_child_new(&s_w, NULL);
    sup_child_dispatch(&s_ops, c, SUP_EV_START);
    for (int i = 0; i < 5; i++)
        ck_assert_int_ge(s_crash_young(c, 1), 0);
    s_fake.now += 10;
    sup_child_exited(&s_ops, c, s_exit_status(1));
    ck_assert_int_eq(sup_child_state(c), SUP_ST_FAILED);
    ck_assert_int_eq(s_fake.failed, 1);
    ck_assert_int_eq(sup_child_deadline(c), s_fake.now + 600000);
    s_fake.now = sup_child_deadline(c);
    sup_child_dispatch(&s_ops, c, SUP_EV_TIMEOUT);
    ck_assert_int_eq(sup_child_state(c), SUP_ST_STARTING);
    sup_child_dispatch(&s_ops, c, SUP_EV_READY);
    ck_assert_str_eq(s_fake.last, "recovered");
    sup_child_destroy(&c);
}
END_TEST

START_TEST(test_fsm_exit_100_is_failed)
{
    sup_child_t *c = sup_child_new(&s_w, NULL);
    sup_child_dispatch(&s_ops, c, SUP_EV_START);
    s_fake.now += 5000;
    sup_child_exited(&s_ops, c, s_exit_status(100));
    ck_assert_int_eq(sup_child_state(c), SUP_ST_FAILED);
    sup_child_destroy(&c);
}
END_TEST

START_TEST(test_fsm_transient_and_temporary)
{
    s_w.restart = TW_RESTART_TRANSIENT;
    sup_child_t *c = sup_child_new(&s_w, "vid");
    ck_assert_str_eq(sup_child_name(c), "w@vid");
    sup_child_dispatch(&s_ops, c, SUP_EV_START);
    s_fake.now += 10;
    sup_child_exited(&s_ops, c, s_exit_status(0));
    ck_assert_int_eq(sup_child_state(c), SUP_ST_EXITED);
    sup_child_dispatch(&s_ops, c, SUP_EV_START);
    s_fake.now += 10;
    sup_child_exited(&s_ops, c, SIGSEGV); /* killed by a signal */
    ck_assert_int_eq(sup_child_state(c), SUP_ST_BACKOFF);
    s_w.restart = TW_RESTART_TEMPORARY;
    sup_child_destroy(&c);
    c = sup_child_new(&s_w, NULL);
    sup_child_dispatch(&s_ops, c, SUP_EV_START);
    sup_child_exited(&s_ops, c, s_exit_status(3));
    ck_assert_int_eq(sup_child_state(c), SUP_ST_EXITED);
    sup_child_destroy(&c);
}
END_TEST

START_TEST(test_fsm_stop_escalates_to_sigkill)
{
    sup_child_t *c = sup_child_new(&s_w, NULL);
    sup_child_dispatch(&s_ops, c, SUP_EV_START);
    sup_child_dispatch(&s_ops, c, SUP_EV_READY);
    ck_assert_int_eq(sup_child_state(c), SUP_ST_RUNNING);
    sup_child_dispatch(&s_ops, c, SUP_EV_STOP);
    ck_assert_int_eq(sup_child_state(c), SUP_ST_STOPPING);
    ck_assert_int_eq(s_fake.kills[0], SIGTERM);
    s_fake.now = sup_child_deadline(c);
    sup_child_dispatch(&s_ops, c, SUP_EV_TIMEOUT);
    ck_assert_int_eq(s_fake.kills[1], SIGKILL);
    sup_child_exited(&s_ops, c, SIGKILL);
    ck_assert_int_eq(sup_child_state(c), SUP_ST_STOPPED);
    ck_assert_int_eq(s_fake.spawns, 1);
    sup_child_destroy(&c);
}
END_TEST

START_TEST(test_fsm_restart_and_watchdog)
{
    sup_child_t *c = sup_child_new(&s_w, NULL);
    sup_child_dispatch(&s_ops, c, SUP_EV_START);
    sup_child_hello(&s_ops, c, s_fake.now);
    ck_assert_int_eq(sup_child_deadline(c), s_fake.now + 3000);
    s_fake.now = sup_child_deadline(c);
    sup_child_dispatch(&s_ops, c, SUP_EV_TIMEOUT);
    ck_assert_str_eq(s_fake.last, "watchdog");
    ck_assert_int_eq(s_fake.kills[0], SIGKILL);
    s_fake.now += 5000;
    sup_child_exited(&s_ops, c, SIGKILL);
    ck_assert_int_eq(sup_child_state(c), SUP_ST_STARTING); /* restarted */
    sup_child_dispatch(&s_ops, c, SUP_EV_RESTART);
    ck_assert_int_eq(sup_child_state(c), SUP_ST_STOPPING);
    sup_child_exited(&s_ops, c, s_exit_status(0));
    ck_assert_int_eq(sup_child_state(c), SUP_ST_STARTING);
    ck_assert_int_eq(s_fake.spawns, 3);
    sup_child_destroy(&c);
}
END_TEST

START_TEST(test_fsm_waits_for_deps_and_ready_timeout)
{
    sup_child_t *c = sup_child_new(&s_w, NULL);
    s_fake.deps = false;
    sup_child_dispatch(&s_ops, c, SUP_EV_START);
    ck_assert_int_eq(sup_child_state(c), SUP_ST_WAITING);
    sup_child_dispatch(&s_ops, c, SUP_EV_DEPS);
    ck_assert_int_eq(sup_child_state(c), SUP_ST_WAITING);
    s_fake.deps = true;
    sup_child_dispatch(&s_ops, c, SUP_EV_DEPS);
    ck_assert_int_eq(sup_child_state(c), SUP_ST_STARTING);
    int64_t started = s_fake.now;
    s_fake.now = sup_child_deadline(c);
    sup_child_dispatch(&s_ops, c, SUP_EV_TIMEOUT);
    ck_assert_int_eq(sup_child_state(c), SUP_ST_RUNNING);
    /* a built-in kind always speaks: silent since its start, it is watched
     * from the start and killed when the watchdog runs out */
    ck_assert_int_eq(sup_child_deadline(c), started + 3000);
    s_fake.now = sup_child_deadline(c);
    sup_child_dispatch(&s_ops, c, SUP_EV_TIMEOUT);
    ck_assert_str_eq(s_fake.last, "watchdog");
    ck_assert_int_eq(s_fake.kills[0], SIGKILL);
    sup_child_destroy(&c);
}
END_TEST

START_TEST(test_fsm_silent_command_not_watched)
{
    s_w.kind = ""; /* a command that does not speak the protocol */
    sup_child_t *c = sup_child_new(&s_w, NULL);
    sup_child_dispatch(&s_ops, c, SUP_EV_START);
    ck_assert_int_eq(sup_child_state(c), SUP_ST_STARTING);
    s_fake.now = sup_child_deadline(c);
    sup_child_dispatch(&s_ops, c, SUP_EV_TIMEOUT);
    ck_assert_int_eq(sup_child_state(c), SUP_ST_RUNNING);
    ck_assert_int_eq(sup_child_deadline(c),
                     0); /* silent command: no watchdog */
    sup_child_destroy(&c);
}
END_TEST

START_TEST(test_fsm_spawn_failure_backs_off)
{
    sup_child_t *c = sup_child_new(&s_w, NULL);
    s_fake.spawn_fails = true;
    sup_child_dispatch(&s_ops, c, SUP_EV_START);
    ck_assert_int_eq(sup_child_state(c), SUP_ST_BACKOFF);
    sup_child_destroy(&c);
}
END_TEST

START_TEST(test_fsm_table_is_total_for_exit)
{
    /* Every state where a process can exist handles EXIT. */
    ck_assert_ptr_nonnull(sup_fsm[SUP_ST_STARTING][SUP_EV_EXIT]);
    ck_assert_ptr_nonnull(sup_fsm[SUP_ST_RUNNING][SUP_EV_EXIT]);
    ck_assert_ptr_nonnull(sup_fsm[SUP_ST_STOPPING][SUP_EV_EXIT]);
    for (int st = 0; st < SUP_ST__COUNT; st++)
        ck_assert_str_ne(sup_child_state_name((sup_state_t)st), "?");
}
END_TEST

START_TEST(test_fsm_schedule_waits_for_wall_clock)
{
    sup_child_t *c = sup_child_new(&s_w, "vid");
    ck_assert(!sup_child_active(c));
    /* 2.5 s ahead: SCHEDULED, deadline rounded up by one ms */
    sup_child_schedule(&s_ops, c, s_fake.wall_us + 2500000);
    ck_assert_int_eq(sup_child_state(c), SUP_ST_SCHEDULED);
    ck_assert_int_eq(sup_child_deadline(c), s_fake.now + 2501);
    ck_assert(sup_child_active(c));
    ck_assert_int_eq(s_fake.spawns, 0);
    /* not due yet: nothing happens */
    ck_assert(!sup_child_due(&s_ops, c, s_fake.now + 100));
    /* moved to 10 s ahead */
    sup_child_schedule(&s_ops, c, s_fake.wall_us + 10000000);
    ck_assert_int_eq(sup_child_state(c), SUP_ST_SCHEDULED);
    ck_assert_int_eq(sup_child_deadline(c), s_fake.now + 10001);
    /* the monotonic deadline passes but the wall clock was set back by
     * 5 s: armed again for what is left, still no spawn */
    s_fake.now += 10001;
    s_fake.wall_us += 5000000;
    ck_assert(sup_child_due(&s_ops, c, s_fake.now));
    ck_assert_int_eq(sup_child_state(c), SUP_ST_SCHEDULED);
    ck_assert_int_eq(sup_child_deadline(c), s_fake.now + 5001);
    ck_assert_int_eq(s_fake.spawns, 0);
    /* due: started */
    s_fake.now += 5001;
    s_fake.wall_us += 5001000;
    ck_assert(sup_child_due(&s_ops, c, s_fake.now));
    ck_assert_int_eq(sup_child_state(c), SUP_ST_STARTING);
    ck_assert_int_eq(s_fake.spawns, 1);
    /* SCHEDULE means nothing to a running child */
    sup_child_schedule(&s_ops, c, s_fake.wall_us + 1000000);
    ck_assert_int_eq(sup_child_state(c), SUP_ST_STARTING);
    ck_assert_ptr_null(sup_fsm[SUP_ST_RUNNING][SUP_EV_SCHEDULE]);
    ck_assert_str_eq(sup_child_event_name(SUP_EV_SCHEDULE), "schedule");
    sup_child_destroy(&c);
}
END_TEST

START_TEST(test_fsm_schedule_in_the_past_starts_now)
{
    sup_child_t *c = sup_child_new(&s_w, "vid");
    sup_child_schedule(&s_ops, c, s_fake.wall_us - 1);
    ck_assert_int_eq(sup_child_state(c), SUP_ST_STARTING);
    ck_assert_int_eq(s_fake.spawns, 1);
    sup_child_destroy(&c);
    /* a scheduled instance stopped before its time never starts */
    c = sup_child_new(&s_w, "vid2");
    sup_child_schedule(&s_ops, c, s_fake.wall_us + 60000000);
    sup_child_dispatch(&s_ops, c, SUP_EV_STOP);
    ck_assert_int_eq(sup_child_state(c), SUP_ST_STOPPED);
    ck_assert_int_eq(sup_child_deadline(c), 0);
    ck_assert(!sup_child_active(c));
    ck_assert(sup_child_settled(c));
    ck_assert_int_eq(s_fake.spawns, 1);
    sup_child_destroy(&c);
}
END_TEST

START_TEST(test_fsm_done_and_settled)
{
    s_w.restart = TW_RESTART_TRANSIENT;
    sup_child_t *c = sup_child_new(&s_w, "vid");
    sup_child_dispatch(&s_ops, c, SUP_EV_START);
    ck_assert(sup_child_alive(c));
    ck_assert(!sup_child_settled(c));
    ck_assert(!sup_child_done(c));
    sup_child_exited(&s_ops, c, s_exit_status(0));
    ck_assert_int_eq(sup_child_state(c), SUP_ST_EXITED);
    ck_assert(sup_child_done(c));
    ck_assert(sup_child_settled(c));
    ck_assert(!sup_child_active(c));
    sup_child_destroy(&c);
    /* not an instance: never "done" */
    c = sup_child_new(&s_w, NULL);
    sup_child_dispatch(&s_ops, c, SUP_EV_START);
    sup_child_exited(&s_ops, c, s_exit_status(0));
    ck_assert(!sup_child_done(c));
    sup_child_destroy(&c);
}
END_TEST

START_TEST(test_fsm_beat_rearms_watchdog)
{
    sup_child_t *c = sup_child_new(&s_w, NULL);
    sup_child_dispatch(&s_ops, c, SUP_EV_START);
    ck_assert(!sup_child_speaks(c));
    sup_child_hello(&s_ops, c, s_fake.now);
    ck_assert(sup_child_speaks(c));
    ck_assert_int_eq(sup_child_state(c), SUP_ST_RUNNING);
    tw_gauge_list_t none = {0};
    s_fake.now += 1000;
    ck_assert_uint_eq(sup_child_beat(c, s_fake.now, 10, 10, 0, &none), 0);
    ck_assert_int_eq(sup_child_deadline(c), s_fake.now + 3000);
    s_fake.now += 1000;
    sup_child_beat(c, s_fake.now, 30, 20, 0, &none);
    sup_child_view_t v;
    sup_child_view(c, &v);
    ck_assert_uint_eq(v.total_in, 30);
    ck_assert(v.msgs_per_s > 29.9 && v.msgs_per_s < 30.1);
    ck_assert(!sup_child_due(&s_ops, c, s_fake.now + 2999));
    ck_assert_int_eq(s_fake.nkills, 0);
    sup_child_destroy(&c);
}
END_TEST

START_TEST(test_drift_alerts_once_per_window)
{
    sup_child_t *c = sup_child_new(&s_w, NULL);
    int64_t t = 1700000000000000;
    ck_assert(sup_child_drift_report(c, "rss", "a", 60000, t));
    ck_assert(!sup_child_drift_report(c, "rss", "b", 60000, t + 1000000));
    ck_assert(sup_child_drift_report(c, "youtubei", "c", 60000, t + 2000000));
    ck_assert(sup_child_drift_report(c, "rss", "d", 60000, t + 61000000));
    sup_child_view_t v;
    sup_child_view(c, &v);
    ck_assert_str_eq(v.drift, "d");
    ck_assert_uint_eq(v.ndrifts, 2);
    ck_assert_uint_eq(v.drifts[0].reports, 3);
    sup_child_destroy(&c);
}
END_TEST

/* ---- a worker's environment ---- */

static const char *s_getenv(char *const *envp, const char *key)
{
    size_t kl = strlen(key);
    const char *found = NULL;
    for (size_t i = 0; envp[i]; i++) {
        if (strncmp(envp[i], key, kl) == 0 && envp[i][kl] == '=') {
            ck_assert_msg(!found, "%s set twice", key);
            found = envp[i] + kl + 1;
        }
    }
    return found;
}

START_TEST(test_env_identity_cannot_be_forged)
{
    char *inherited[] = {"PATH=/bin",
                         "TUBEWATCH_WORKER=evil",
                         "NOTIFY_SOCKET=/run/x",
                         "LANG=C",
                         "KEEP=1",
                         NULL};
    char *env[] = {"LANG=fr_FR.UTF-8", "TUBEWATCH_EPOCH=7", "EXTRA=2"};
    s_w.env.v = env;
    s_w.env.len = 3;
    s_w.kind = "chat";
    sup_env_ids_t ids = {.name = "chat@vid",
                         .instance = "vid",
                         .epoch = 42,
                         .config_path = "/etc/tw.toml",
                         .runtime_dir = "/run/tw",
                         .sup_endpoint = "ipc:///run/tw/sup.sock",
                         .state_dir = "/var/lib/tw",
                         .data_dir = "/srv/tw",
                         .libexec_dir = "/usr/libexec/tubewatch"};
    sup_env_t *e = sup_env_new(&s_w, inherited, &ids);
    ck_assert_ptr_nonnull(e);
    char *const *envp = sup_env_envp(e);
    ck_assert_str_eq(s_getenv(envp, "TUBEWATCH_WORKER"), "chat@vid");
    ck_assert_str_eq(s_getenv(envp, "TUBEWATCH_EPOCH"), "42");
    ck_assert_str_eq(s_getenv(envp, "TUBEWATCH_INSTANCE"), "vid");
    ck_assert_str_eq(s_getenv(envp, "TUBEWATCH_SUP_ENDPOINT"),
                     "ipc:///run/tw/sup.sock");
    ck_assert_str_eq(s_getenv(envp, "TUBEWATCH_DATA_DIR"), "/srv/tw");
    ck_assert_str_eq(s_getenv(envp, "LANG"), "fr_FR.UTF-8");
    ck_assert_str_eq(s_getenv(envp, "KEEP"), "1");
    ck_assert_str_eq(s_getenv(envp, "EXTRA"), "2");
    ck_assert_ptr_null(s_getenv(envp, "NOTIFY_SOCKET"));
    ck_assert_str_eq(sup_env_argv(e)[0], "/usr/libexec/tubewatch/tw-chat");
    ck_assert_ptr_null(sup_env_argv(e)[1]);
    sup_env_destroy(&e);
    ck_assert_ptr_null(e);
    /* a command replaces tw-KIND */
    char *cmd[] = {"/bin/echo", "hi"};
    s_w.command.v = cmd;
    s_w.command.len = 2;
    e = sup_env_new(&s_w, inherited, &ids);
    ck_assert_str_eq(sup_env_argv(e)[0], "/bin/echo");
    ck_assert_str_eq(sup_env_argv(e)[1], "hi");
    ck_assert_ptr_null(sup_env_argv(e)[2]);
    sup_env_destroy(&e);
    ck_assert(sup_env_reserved("WATCHDOG_USEC=1"));
    ck_assert(!sup_env_reserved("TUBEWATCH_OTHER=1"));
}
END_TEST

/* ---- control requests ---- */

static tw_rc_t s_parse(const char *text, sup_ctl_req_t *req)
{
    tw_err_t err;
    return sup_ctl_parse(text, strlen(text), req, &err);
}

START_TEST(test_ctl_parse_strict)
{
    sup_ctl_req_t r;
    ck_assert_int_eq(s_parse("{\"cmd\":\"status\"}", &r), TW_OK);
    ck_assert_int_eq(r.cmd, SUP_CMD_STATUS);
    ck_assert(!r.all);
    ck_assert_int_eq(s_parse("{\"cmd\":\"status\",\"all\":true}", &r), TW_OK);
    ck_assert(r.all);
    ck_assert_int_eq(
        s_parse("{\"cmd\":\"restart\",\"name\":\"chat@x_Y-1\"}", &r), TW_OK);
    ck_assert_str_eq(r.name, "chat@x_Y-1");
    ck_assert_int_eq(s_parse("{\"cmd\":\"spawn\",\"template\":\"chat\","
                             "\"instance\":\"abc\",\"not_before\":5}",
                             &r),
                     TW_OK);
    ck_assert_int_eq(r.not_before, 5);
    const char *bad[] = {
        "",
        "[]",
        "{}",
        "{\"cmd\":1}",
        "{\"cmd\":\"nope\"}",
        "{\"cmd\":\"status\",\"extra\":1}",
        "{\"cmd\":\"status\",\"all\":1}",
        "{\"cmd\":\"stop\",\"name\":\"a\",\"all\":true}",
        "{\"cmd\":\"stop\"}",
        "{\"cmd\":\"stop\",\"name\":\"a\",\"name\":\"b\"}",
        "{\"cmd\":\"stop\",\"name\":\"../x\"}",
        "{\"cmd\":\"stop\",\"name\":\"a@b/c\"}",
        "{\"cmd\":\"spawn\",\"template\":\"chat\",\"instance\":\"a b\"}",
        "{\"cmd\":\"spawn\",\"template\":\"chat\",\"instance\":\"x\","
        "\"not_before\":-1}",
        "{\"cmd\":\"spawn\",\"template\":\"chat\"}",
        "{\"cmd\":\"status\"} trailing",
        "{\"cmd\":\"stop\",\"name\":\"a\\u0000b\"}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(s_parse(bad[i], &r) != TW_OK, "accepted: %s", bad[i]);
}
END_TEST

/* ---- state files ---- */

START_TEST(test_state_epoch_and_spawns)
{
    char dir[] = "/tmp/tw-sup-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/epoch", dir);
    sup_epoch_t *e = sup_epoch_open(path, NULL);
    uint64_t a = sup_epoch_next(e);
    uint64_t b = sup_epoch_next(e);
    ck_assert_uint_gt(b, a);
    sup_epoch_destroy(&e);
    e = sup_epoch_open(path, NULL);
    ck_assert_uint_gt(sup_epoch_next(e), b);
    sup_epoch_destroy(&e);
    ck_assert_ptr_null(e);

    /* A damaged counter (negative, out of range, garbage) never hands out
     * 0 nor wraps around to numbers already used. */
    static const char *const bad_epochs[] = {"-1\n", "18446744073709551615\n",
                                             "99999999999999999999999\n",
                                             "garbage\n"};
    for (size_t i = 0; i < sizeof bad_epochs / sizeof bad_epochs[0]; i++) {
        FILE *ef = fopen(path, "w");
        fputs(bad_epochs[i], ef);
        fclose(ef);
        e = sup_epoch_open(path, NULL);
        ck_assert_ptr_nonnull(e);
        uint64_t x = sup_epoch_next(e);
        uint64_t y = sup_epoch_next(e);
        ck_assert_msg(x > b && y > x && y < UINT64_MAX / 2,
                      "%s: %" PRIu64 " then %" PRIu64, bad_epochs[i], x, y);
        sup_epoch_destroy(&e);
    }

    /* A reservation that fails at run time (a directory in the way of
     * epoch.tmp) keeps the numbers rising and is tried again at the next
     * number until it works. */
    unlink(path);
    e = sup_epoch_open(path, NULL);
    ck_assert_ptr_nonnull(e);
    char block[300], inner[320];
    snprintf(block, sizeof block, "%s.tmp", path);
    snprintf(inner, sizeof inner, "%s/x", block);
    ck_assert_int_eq(mkdir(block, 0700), 0);
    ck_assert_int_eq(mkdir(inner, 0700), 0);
    uint64_t last = 0;
    for (int i = 0; i < 1100; i++) {
        uint64_t x = sup_epoch_next(e);
        ck_assert_uint_gt(x, last);
        last = x;
    }
    FILE *ef = fopen(path, "r");
    ck_assert_ptr_nonnull(ef);
    unsigned long long stored = 0;
    ck_assert_int_eq(fscanf(ef, "%llu", &stored), 1);
    fclose(ef);
    ck_assert_uint_lt(stored, last); /* not reserved: the way was blocked */
    rmdir(inner);
    rmdir(block);
    uint64_t next = sup_epoch_next(e);
    ck_assert_uint_gt(next, last);
    ef = fopen(path, "r");
    ck_assert_int_eq(fscanf(ef, "%llu", &stored), 1);
    fclose(ef);
    ck_assert_uint_gt(stored, next); /* reserved again, above it */
    sup_epoch_destroy(&e);

    char sp[256];
    snprintf(sp, sizeof sp, "%s/spawns.tsv", dir);
    sup_spawn_t v[2] = {{"chat", "abc", 42}, {"chat", "d-E_f", 0}};
    ck_assert_int_eq(sup_spawns_save(sp, v, 2, NULL), TW_OK);
    FILE *f = fopen(sp, "a");
    fputs("chat\t../etc\t1\nbroken\n", f);
    fclose(f);
    sup_spawn_t out[4];
    size_t n, bad;
    ck_assert_int_eq(sup_spawns_load(sp, out, 4, &n, &bad, NULL), TW_OK);
    ck_assert_uint_eq(n, 2);
    ck_assert_uint_eq(bad, 2);
    ck_assert_str_eq(out[1].instance, "d-E_f");
    ck_assert_int_eq(out[0].not_before, 42);
    unlink(sp);
    unlink(path);
    rmdir(dir);
}
END_TEST

/* ---- log capture ---- */

START_TEST(test_log_lines_and_rotation)
{
    char dir[] = "/tmp/tw-sup-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    sup_logger_t *lg = sup_logger_new(dir, 4096, 2, NULL);
    ck_assert_ptr_nonnull(lg);
    sup_log_t *l = sup_log_open(lg, "w", NULL);
    ck_assert_int_eq(sup_log_child_fd(l), -1); /* no process, no pipe */
    ck_assert_int_eq(sup_log_pipe(l, NULL), TW_OK);
    int fd = sup_log_child_fd(l);
    ck_assert_int_ge(fd, 0);
    for (int i = 0; i < 200; i++) {
        char line[64];
        int n = snprintf(line, sizeof line, "line %03d\n", i);
        ck_assert_int_eq(write(fd, line, (size_t)n), n);
        if (i % 50 == 49)
            sup_log_drain(l, SIZE_MAX);
    }
    ck_assert_int_eq(write(fd, "partial", 7), 7);
    sup_log_drain(l, SIZE_MAX);
    ck_assert(sup_logger_flush(lg, 5000));
    char path[256];
    snprintf(path, sizeof path, "%s/w.log.1", dir);
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    snprintf(path, sizeof path, "%s/w.log", dir);
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    char buf[256], last[256] = "";
    while (fgets(buf, sizeof buf, f))
        snprintf(last, sizeof last, "%s", buf);
    fclose(f);
    /* RFC 3339 timestamp, then the text. */
    ck_assert_int_eq(last[4], '-');
    ck_assert_int_eq(last[26], 'Z');
    ck_assert_str_eq(last + 28, "line 199\n");

    sup_log_destroy(&l);
    ck_assert_ptr_null(l);
    sup_logger_destroy(&lg, 5000);
    ck_assert_ptr_null(lg);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

/* Open fds of this process. */
static int s_open_fds(void)
{
    int n = 0;
    DIR *d = opendir("/proc/self/fd");
    ck_assert_ptr_nonnull(d);
    while (readdir(d))
        n++;
    closedir(d);
    return n;
}

/* A log without a process (a scheduled instance) holds no pipe, no file
 * and no buffer between writes; its pipe exists while a process runs, and
 * a last line without a newline is kept when it closes. */
START_TEST(test_log_dormant)
{
    char dir[] = "/tmp/tw-sup-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    sup_logger_t *lg = sup_logger_new(dir, 0, 0, NULL);
    ck_assert_ptr_nonnull(lg);
    int fds = s_open_fds();
    sup_log_t *logs[50];
    for (int i = 0; i < 50; i++) {
        char name[32];
        snprintf(name, sizeof name, "d%02d", i);
        logs[i] = sup_log_open(lg, name, NULL);
        ck_assert_ptr_nonnull(logs[i]);
        sup_log_note(logs[i], "scheduled %d", i);
    }
    ck_assert(sup_logger_flush(lg, 5000));
    ck_assert_int_eq(s_open_fds(), fds);
    ck_assert(!sup_log_piped(logs[0]));
    ck_assert_int_eq(sup_log_fd(logs[0]), -1);
    uint64_t gen = sup_logger_pipes(lg);
    ck_assert_int_eq(sup_log_pipe(logs[0], NULL), TW_OK);
    ck_assert(sup_log_piped(logs[0]));
    ck_assert_uint_ne(sup_logger_pipes(lg), gen);
    ck_assert_int_eq(s_open_fds(), fds + 2);
    int fd = sup_log_child_fd(logs[0]);
    char longline[301];
    memset(longline, 'x', 300);
    longline[300] = '\n'; /* one line: never split below SUP_LOG_LINE_MAX */
    ck_assert_int_eq(write(fd, longline, sizeof longline), sizeof longline);
    ck_assert_int_eq(write(fd, "one\ntail", 8), 8);
    gen = sup_logger_pipes(lg);
    sup_log_unpipe(logs[0]);
    ck_assert_uint_ne(sup_logger_pipes(lg), gen);
    ck_assert(sup_logger_flush(lg, 5000));
    ck_assert_int_eq(s_open_fds(), fds);
    char path[256], buf[4096];
    snprintf(path, sizeof path, "%s/d00.log", dir);
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    ck_assert_ptr_nonnull(strstr(buf, "tubewatchd: scheduled 0\n"));
    ck_assert_ptr_nonnull(strstr(buf, " one\n"));
    longline[300] = '\0';
    char *at = strstr(buf, longline);
    ck_assert_ptr_nonnull(at);
    ck_assert_int_eq(at[-1], ' ');
    ck_assert_int_eq(at[300], '\n');
    ck_assert_ptr_nonnull(strstr(buf, " tail\n"));
    for (int i = 0; i < 50; i++)
        sup_log_destroy(&logs[i]);
    sup_logger_destroy(&lg, 5000);
    ck_assert_ptr_null(lg);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

/* ---- worker frames ---- */

START_TEST(test_valid_instance)
{
    ck_assert(tw_worker_valid_instance("a-B_9"));
    ck_assert(!tw_worker_valid_instance(""));
    ck_assert(!tw_worker_valid_instance("a/b"));
    char longid[80];
    memset(longid, 'a', sizeof longid - 1);
    longid[sizeof longid - 1] = '\0';
    ck_assert(!tw_worker_valid_instance(longid));
}
END_TEST

/* ---- the worker side ---- */

/* Counts heartbeats and the monotonic ms of the last two. */
typedef struct {
    int n;           /* heartbeats so far */
    int64_t prev_ms; /* the one before the last */
    int64_t last_ms; /* the last */
} s_beats_t;

static void s_on_beat(tw_worker_t *w, void *arg)
{
    (void)w;
    s_beats_t *b = arg;
    b->n++;
    b->prev_ms = b->last_ms;
    b->last_ms = tw_time_mono_ms();
}

START_TEST(test_worker_env_config_and_sigterm)
{
    unsetenv("TUBEWATCH_CONFIG");
    tw_err_t err;
    tw_worker_t *w = (tw_worker_t *)&err; /* must become NULL */
    tw_rc_t rc = tw_worker_new(&w, "test", &err);
    ck_assert_int_eq(rc, TW_ERR_CONFIG);
    ck_assert_int_eq(tw_rc_exit(rc), 100);
    ck_assert_ptr_null(w);

    char dir[] = "/tmp/tw-sup-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char cfg[256];
    snprintf(cfg, sizeof cfg, "%s/sup.toml", dir);
    FILE *f = fopen(cfg, "w");
    fprintf(f,
            "[supervisor]\nruntime_dir = \"%s/run\"\n"
            "[worker.w]\ncommand = [\"/bin/true\"]\n"
            "watchdog_timeout = \"400ms\"\n",
            dir);
    fclose(f);
    setenv("TUBEWATCH_CONFIG", cfg, 1);
    setenv("TUBEWATCH_WORKER", "w", 1);
    setenv("TUBEWATCH_EPOCH", "42", 1);
    unsetenv("TUBEWATCH_SUP_ENDPOINT");
    rc = tw_worker_new(&w, "test", &err);
    ck_assert_msg(rc == TW_OK, "%s", err.msg);
    ck_assert_ptr_nonnull(w);
    ck_assert_str_eq(tw_worker_name(w), "w");
    ck_assert_uint_eq(tw_worker_epoch(w), 42);
    ck_assert_ptr_nonnull(tw_worker_section(w));
    /* Heartbeats every watchdog_timeout / 4 (100 ms), not every 5 s. */
    s_beats_t beats = {0};
    tw_worker_on_beat(w, s_on_beat, &beats);
    tw_loop_t *loop = tw_loop_new();
    ck_assert_ptr_nonnull(loop);
    ck_assert_int_eq(tw_worker_attach(w, loop), TW_OK);
    int64_t deadline = tw_time_mono_ms() + 3000;
    while (beats.n < 3 && tw_time_mono_ms() < deadline)
        ck_assert_int_eq(tw_loop_run_for(loop, 50), TW_OK);
    ck_assert_int_ge(beats.n, 3);
    ck_assert_int_lt(beats.last_ms - beats.prev_ms, 1000);
    ck_assert_int_ge(beats.last_ms - beats.prev_ms, 90);
    ck_assert(!tw_worker_stopping(w));
    ck_assert_int_eq(tw_worker_ready(w), TW_OK); /* no endpoint: no-op */
    ck_assert_int_eq(tw_worker_spawn_request(w, "chat", "a/b", 0),
                     TW_ERR_INVALID);
    raise(SIGTERM); /* blocked: it waits on the signal fd */
    tw_worker_service(w);
    ck_assert(tw_worker_stopping(w));
    tw_worker_destroy(&w);
    tw_loop_destroy(&loop);
    ck_assert_ptr_null(w);
    unlink(cfg);
    rmdir(dir);
}
END_TEST

Suite *sup_suite(void)
{
    Suite *s = suite_create("sup");
    TCase *tc = tcase_create("fsm");
    tcase_set_timeout(tc, 10);
    tcase_add_checked_fixture(tc, s_setup, NULL);
    tcase_add_test(tc, test_fsm_backoff_doubles_to_max);
    tcase_add_test(tc, test_fsm_old_death_restarts_at_once);
    tcase_add_test(tc, test_fsm_exit_111_backs_off_even_when_old);
    tcase_add_test(tc, test_fsm_max_restarts_fails_then_retries);
    tcase_add_test(tc, test_fsm_exit_100_is_failed);
    tcase_add_test(tc, test_fsm_transient_and_temporary);
    tcase_add_test(tc, test_fsm_stop_escalates_to_sigkill);
    tcase_add_test(tc, test_fsm_restart_and_watchdog);
    tcase_add_test(tc, test_fsm_silent_command_not_watched);
    tcase_add_test(tc, test_fsm_waits_for_deps_and_ready_timeout);
    tcase_add_test(tc, test_fsm_spawn_failure_backs_off);
    tcase_add_test(tc, test_fsm_table_is_total_for_exit);
    tcase_add_test(tc, test_fsm_schedule_waits_for_wall_clock);
    tcase_add_test(tc, test_fsm_schedule_in_the_past_starts_now);
    tcase_add_test(tc, test_fsm_done_and_settled);
    tcase_add_test(tc, test_fsm_beat_rearms_watchdog);
    tcase_add_test(tc, test_drift_alerts_once_per_window);
    tcase_add_test(tc, test_env_identity_cannot_be_forged);
    suite_add_tcase(s, tc);
    tc = tcase_create("parts");
    tcase_set_timeout(tc, 10);
    tcase_add_test(tc, test_ctl_parse_strict);
    tcase_add_test(tc, test_state_epoch_and_spawns);
    tcase_add_test(tc, test_log_lines_and_rotation);
    tcase_add_test(tc, test_log_dormant);
    tcase_add_test(tc, test_valid_instance);
    tcase_add_test(tc, test_worker_env_config_and_sigterm);
    suite_add_tcase(s, tc);
    return s;
}
