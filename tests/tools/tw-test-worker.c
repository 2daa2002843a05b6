/* tw-test-worker - a worker with scripted misbehaviour for the supervisor's
 * end-to-end tests and benchmarks.
 *   ready                 HELLO, heartbeats, exit 0 on stop
 *   crash MS CODE         no protocol: exit CODE after MS ms
 *   hang                  HELLO, then never heartbeats again
 *   ignore-term           HELLO, heartbeats, ignores SIGTERM and STOP
 *   fork N                forks N sleeping grandchildren, then as ready
 *   spam                  no protocol: prints lines as fast as it can
 *   silent                no protocol: never says anything, sleeps
 *   spawn TMPL INST MS    HELLO, asks for TMPL@INST in MS ms, then as ready
 *   exit-on-stop CODE     HELLO, heartbeats, exits CODE on stop
 *   stream VIDEO          HELLO, one stream.event (live), then as ready
 *   drift N SOURCE        HELLO, N answers of SOURCE not understood
 *                         (tw_worker_drift), then as ready
 *   gauge NAME VALUE...   HELLO, sets each heartbeat value NAME to VALUE
 *                         (tw_worker_gauge; exit 100 when one is refused),
 *                         sends a heartbeat, then as ready
 *   lines N US            HELLO, prints "line 000001" ... "line N", one
 *                         every US microseconds, then as ready (event
 *                         "printed" when done)
 * With TW_TEST_DIR set, appends "start PID EPOCH REAL_US MONO_US" and
 * "exit PID REAL_US MONO_US" lines to TW_TEST_DIR/NAME.events, and
 * grandchildren pids to TW_TEST_DIR/NAME.grandchildren. */
#include <errno.h>
#include <stdarg.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tw_worker.h"

static char s_name[128] = "unnamed";

static int64_t s_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t s_real_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void s_event(const char *suffix, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void s_event(const char *suffix, const char *fmt, ...)
{
    const char *dir = getenv("TW_TEST_DIR");
    if (!dir)
        return;
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.%s", dir, s_name, suffix);
    FILE *f = fopen(path, "a");
    if (!f)
        return;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(f, fmt, ap);
    va_end(ap);
    fclose(f);
}

static void s_exit(int code)
{
    s_event("events", "exit %ld %" PRId64 " %" PRId64 "\n", (long)getpid(),
            s_real_us(), s_mono_us());
    _exit(code);
}

static void s_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* Before each heartbeat: one message in and out, so the rates move. */
static void s_on_beat(tw_worker_t *w, void *arg)
{
    (void)arg;
    tw_worker_count(w, 1, 1, 0);
}

/* Runs the protocol on a loop until stop (unless ignore_stop). */
static int s_serve(tw_worker_t *w, int ignore_stop, int stop_code)
{
    tw_loop_t *loop = tw_loop_new();
    if (!loop || tw_worker_attach(w, loop) != TW_OK)
        s_exit(111);
    tw_worker_on_beat(w, s_on_beat, NULL);
    for (;;) {
        tw_rc_t rc = tw_loop_run(loop);
        if (rc != TW_OK)
            s_exit(111);
        if (tw_worker_stopping(w) && !ignore_stop)
            return stop_code;
    }
}

static tw_worker_t *s_connect(void)
{
    tw_err_t err;
    tw_worker_t *w = NULL;
    tw_rc_t rc = tw_worker_new(&w, "test", &err);
    if (rc != TW_OK) {
        fprintf(stderr, "tw-test-worker: %s\n", err.msg);
        s_exit(tw_rc_exit(rc));
    }
    return w;
}

int main(int argc, char **argv)
{
    const char *name = getenv("TUBEWATCH_WORKER");
    if (name)
        snprintf(s_name, sizeof s_name, "%s", name);
    const char *ep = getenv("TUBEWATCH_EPOCH");
    s_event("events", "start %ld %s %" PRId64 " %" PRId64 "\n", (long)getpid(),
            ep ? ep : "0", s_real_us(), s_mono_us());
    const char *mode = argc > 1 ? argv[1] : "ready";
    if (strcmp(mode, "crash") == 0) {
        long ms = argc > 2 ? atol(argv[2]) : 0;
        int code = argc > 3 ? atoi(argv[3]) : 1;
        if (ms > 0)
            s_sleep_ms(ms);
        fprintf(stderr, "crashing with exit %d\n", code);
        s_exit(code);
    }
    if (strcmp(mode, "spam") == 0) {
        setvbuf(stdout, NULL, _IOFBF, 65536);
        for (unsigned long i = 0;; i++)
            printf("spam line %lu with some padding to look like a log\n", i);
    }
    if (strcmp(mode, "silent") == 0) {
        for (;;)
            pause();
    }
    tw_worker_t *w = s_connect();
    printf("%s: mode %s\n", s_name, mode);
    fflush(stdout);
    if (strcmp(mode, "fork") == 0) {
        int n = argc > 2 ? atoi(argv[2]) : 1;
        for (int i = 0; i < n; i++) {
            pid_t p = fork();
            if (p == 0) {
                sigset_t none;
                sigemptyset(&none);
                sigprocmask(SIG_SETMASK, &none, NULL);
                for (;;)
                    pause();
            }
            s_event("grandchildren", "%ld\n", (long)p);
        }
    }
    tw_worker_ready(w);
    if (strcmp(mode, "hang") == 0) {
        for (;;)
            pause();
    }
    if (strcmp(mode, "spawn") == 0 && argc > 4) {
        int64_t at = 0;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        at = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000 +
             atol(argv[4]) * 1000;
        tw_worker_spawn_request(w, argv[2], argv[3], at);
    }
    if (strcmp(mode, "stream") == 0 && argc > 2) {
        tw_msg_stream_event_t ev = {.video_id = argv[2],
                                    .channel_id = "UCtest",
                                    .title = "test stream",
                                    .state = TW_STREAM_STATE_LIVE,
                                    .reason = ""};
        ev.actual_start_us.set = true;
        ev.actual_start_us.v = s_real_us();
        tw_worker_stream_event(w, &ev);
    }
    if (strcmp(mode, "drift") == 0 && argc > 3) {
        int n = atoi(argv[2]);
        for (int i = 0; i < n; i++)
            tw_worker_drift(w, argv[3], "unknown action fooBarAction", 1);
    }
    if (strcmp(mode, "gauge") == 0) {
        for (int i = 2; i + 1 < argc; i += 2) {
            tw_rc_t rc =
                tw_worker_gauge(w, argv[i], strtoll(argv[i + 1], NULL, 10));
            if (rc != TW_OK) {
                fprintf(stderr, "tw-test-worker: unable to set %s: %s\n",
                        argv[i], tw_rc_str(rc));
                tw_worker_destroy(&w);
                s_exit(100);
            }
        }
        tw_worker_heartbeat(w);
    }
    if (strcmp(mode, "lines") == 0 && argc > 3) {
        long n = atol(argv[2]), us = atol(argv[3]);
        for (long i = 1; i <= n; i++) {
            printf("line %06ld\n", i);
            fflush(stdout);
            struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
            nanosleep(&ts, NULL);
        }
        s_event("events", "printed %ld %" PRId64 " %" PRId64 "\n",
                (long)getpid(), s_real_us(), s_mono_us());
    }
    int code = 0;
    if (strcmp(mode, "ignore-term") == 0)
        code = s_serve(w, 1, 0);
    else if (strcmp(mode, "exit-on-stop") == 0)
        code = s_serve(w, 0, argc > 2 ? atoi(argv[2]) : 0);
    else
        code = s_serve(w, 0, 0);
    tw_worker_destroy(&w);
    s_exit(code);
}
