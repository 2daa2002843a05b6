/* fake-sup - a stand-in for tubewatchd and pipeline receivers in worker
 * tests: binds a ROUTER on SUP_ENDPOINT (the workers' sup.sock) and a
 * tw_deliver receiver on each further ENDPOINT (writer.sock,
 * notifier.sock), prints one line per message to stdout and acks every
 * delivered frame. Lines:
 *   hello SRC KIND
 *   spawn SRC TEMPLATE INSTANCE NOT_BEFORE_US
 *   event SRC VIDEO STATE SCHEDULED_US START_US END_US TITLE
 *   rx NAME stream.event VIDEO STATE REASON
 *   rx NAME stats.sample VIDEO CHANNEL SAMPLED_US VIEWERS VIEWS LIKES FAVS
 *      COMMENTS   (absent numbers as "-")
 * Runs until SIGTERM/SIGINT. Usage: fake-sup SUP_ENDPOINT [ENDPOINT...] */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#include "tw_deliver.h"
#include "tw_proto.h"
#include "tw_worker.h"

static volatile sig_atomic_t s_stop;

static void s_on_signal(int sig)
{
    (void)sig;
    s_stop = 1;
}

static void s_ou64(const tw_ou64_t *v)
{
    if (v->set)
        printf(" %" PRIu64, v->v);
    else
        printf(" -");
}

static int64_t s_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: fake-sup SUP_ENDPOINT [ENDPOINT...]\n");
        return 100;
    }
    signal(SIGTERM, s_on_signal);
    signal(SIGINT, s_on_signal);
    void *ctx = zmq_ctx_new();
    void *sup = zmq_socket(ctx, ZMQ_ROUTER);
    if (zmq_bind(sup, argv[1]) != 0) {
        fprintf(stderr, "fake-sup: bind %s: %s\n", argv[1],
                zmq_strerror(zmq_errno()));
        return 111;
    }
    int nrx = argc - 2;
    tw_deliver_t *rx[8] = {0};
    const char *names[8] = {0};
    if (nrx > 8)
        nrx = 8;
    for (int i = 0; i < nrx; i++) {
        tw_err_t err = {{0}, 0, 0};
        const char *ep = argv[i + 2];
        const char *slash = strrchr(ep, '/');
        names[i] = slash ? slash + 1 : ep;
        if (tw_deliver_receiver_new(&rx[i], ctx, ep, names[i], 0, &err) !=
            TW_OK) {
            fprintf(stderr, "fake-sup: %s: %s\n", ep, err.msg);
            return 111;
        }
    }
    while (!s_stop) {
        zmq_pollitem_t items[9];
        items[0] = (zmq_pollitem_t){sup, 0, ZMQ_POLLIN, 0};
        for (int i = 0; i < nrx; i++)
            items[i + 1] =
                (zmq_pollitem_t){tw_deliver_socket(rx[i]), 0, ZMQ_POLLIN, 0};
        zmq_poll(items, nrx + 1, 100);
        for (;;) {
            zmq_msg_t id, body;
            zmq_msg_init(&id);
            zmq_msg_init(&body);
            if (zmq_msg_recv(&id, sup, ZMQ_DONTWAIT) < 0) {
                zmq_msg_close(&id);
                zmq_msg_close(&body);
                break;
            }
            zmq_msg_recv(&body, sup, 0);
            tw_msg_t m;
            if (tw_proto_decode(zmq_msg_data(&body), zmq_msg_size(&body), &m,
                                NULL) == TW_OK) {
                if (m.id == TW_MSG_HELLO) {
                    printf("hello %s %s\n", m.src, m.u.hello.kind);
                } else if (m.id == TW_MSG_SPAWN_REQUEST) {
                    const tw_msg_spawn_request_t *r = &m.u.spawn_request;
                    printf("spawn %s %s %s %" PRId64 "\n", m.src, r->template,
                           r->instance, r->not_before_us);
                } else if (m.id == TW_MSG_STREAM_EVENT) {
                    const tw_msg_stream_event_t *e = &m.u.stream_event;
                    printf("event %s %s %s %" PRId64 " %" PRId64 " %" PRId64
                           " %s\n",
                           m.src, e->video_id[0] ? e->video_id : "-",
                           e->video_id[0] ? tw_proto_stream_state_str(e->state)
                                          : e->reason,
                           e->scheduled_start_us.v, e->actual_start_us.v,
                           e->actual_end_us.v, e->title);
                }
                fflush(stdout);
                tw_proto_clear(&m);
            }
            zmq_msg_close(&id);
            zmq_msg_close(&body);
        }
        for (int i = 0; i < nrx; i++) {
            for (;;) {
                tw_msg_t m;
                tw_rc_t rc = tw_deliver_recv(rx[i], &m, NULL);
                if (rc == TW_ERR_AGAIN)
                    break;
                if (rc == TW_OK && m.id == TW_MSG_STREAM_EVENT) {
                    const tw_msg_stream_event_t *e = &m.u.stream_event;
                    printf("rx %s stream.event %s %s %s\n", names[i],
                           e->video_id[0] ? e->video_id : "-",
                           tw_proto_stream_state_str(e->state),
                           e->reason[0] ? e->reason : "-");
                } else if (rc == TW_OK && m.id == TW_MSG_STATS_SAMPLE) {
                    const tw_msg_stats_sample_t *e = &m.u.stats_sample;
                    printf("rx %s stats.sample %s %s %" PRId64, names[i],
                           e->video_id, e->channel_id, e->sampled_at_us);
                    s_ou64(&e->concurrent_viewers);
                    s_ou64(&e->views);
                    s_ou64(&e->likes);
                    s_ou64(&e->favorites);
                    s_ou64(&e->comments);
                    printf("\n");
                }
                fflush(stdout);
                if (m.seq)
                    tw_deliver_ack(rx[i], m.src, m.epoch, m.seq, NULL);
                tw_proto_clear(&m);
            }
            tw_deliver_tick(rx[i], s_mono_ms(), NULL);
        }
    }
    for (int i = 0; i < nrx; i++)
        tw_deliver_destroy(&rx[i]);
    int linger = 0;
    zmq_setsockopt(sup, ZMQ_LINGER, &linger, sizeof linger);
    zmq_close(sup);
    zmq_ctx_term(ctx);
    return 0;
}
