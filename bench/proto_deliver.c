/* Benchmark of tw_proto (encode/decode of chat batches) and tw_deliver
 * (messages/s through a sender and a receiver in one process, in memory and
 * journaled). Prints "name value unit" lines. Usage: proto_deliver [DIR]
 * (DIR for the ipc socket and journal, default a new dir under /tmp). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "tw_deliver.h"
#include "tw_proto.h"

static double s_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int64_t s_now_ms(void)
{
    return (int64_t)(s_now() * 1000);
}

/* Fills a chat.batch of n items shaped like real chat (short texts). */
static void s_batch(tw_msg_t *m, tw_chat_item_t *items, size_t n)
{
    memset(m, 0, sizeof *m);
    m->id = TW_MSG_CHAT_BATCH;
    m->u.chat_batch.video_id = "dQw4w9WgXcQ";
    m->u.chat_batch.channel_id = "UCuAXFkgsw1L7xaCfnd5JJOw";
    for (size_t i = 0; i < n; i++) {
        items[i] = (tw_chat_item_t){
            .id = "ChwKGkNKbXZ5ZnJzNl9vQ0ZSSFZ3Z1FkUklFTDBB",
            .kind = TW_CHAT_KIND_TEXT,
            .published_usec = 1700000000000000 + (int64_t)i,
            .received_usec = 1700000000500000,
            .author_channel_id = "UCabcdefghijklmnopqrstuv",
            .author_name = "Some Viewer",
            .amount = "",
            .currency = "",
            .text = "this stream is great, greetings from somewhere :wave:",
            .ref_id = ""};
    }
    m->u.chat_batch.items.v = items;
    m->u.chat_batch.items.n = n;
}

static void s_bench_proto(void)
{
    enum { ITEMS = 100, ROUNDS = 2000 };
    static tw_chat_item_t items[ITEMS];
    tw_msg_t m;
    s_batch(&m, items, ITEMS);
    char *buf = NULL;
    size_t len = 0;
    double t0 = s_now();
    for (int r = 0; r < ROUNDS; r++) {
        free(buf);
        if (tw_proto_encode(&m, &buf, &len, NULL) != TW_OK)
            exit(1);
    }
    double t1 = s_now();
    for (int r = 0; r < ROUNDS; r++) {
        tw_msg_t out;
        if (tw_proto_decode(buf, len, &out, NULL) != TW_OK)
            exit(1);
        tw_proto_clear(&out);
    }
    double t2 = s_now();
    double n = (double)ITEMS * ROUNDS;
    printf("proto_encode_items %.0f items/s\n", n / (t1 - t0));
    printf("proto_encode_bytes %.1f MB/s\n",
           (double)len * ROUNDS / (t1 - t0) / 1e6);
    printf("proto_decode_items %.0f items/s\n", n / (t2 - t1));
    printf("proto_decode_bytes %.1f MB/s\n",
           (double)len * ROUNDS / (t2 - t1) / 1e6);
    printf("proto_batch_bytes %zu bytes/100 items\n", len);
    free(buf);
}

static void s_bench_deliver(const char *dir, const char *journal, int total)
{
    char ep[512];
    snprintf(ep, sizeof ep, "ipc://%s/bench.sock", dir);
    void *ctx = zmq_ctx_new();
    tw_deliver_t *rx = NULL, *tx = NULL;
    tw_deliver_opts_t o = {
        .endpoint = ep, .src = "chat@bench", .epoch = 1, .journal = journal};
    if (tw_deliver_receiver_new(&rx, ctx, ep, "writer", 1, NULL) != TW_OK ||
        tw_deliver_sender_new(&tx, ctx, &o, NULL) != TW_OK)
        exit(1);
    static tw_chat_item_t items[20];
    int sent = 0, got = 0;
    double t0 = s_now();
    while (got < total) {
        while (sent < total && tw_deliver_can_send(tx)) {
            tw_msg_t m;
            s_batch(&m, items, 20);
            if (tw_deliver_send(tx, &m, NULL) != TW_OK)
                exit(1);
            sent++;
        }
        zmq_pollitem_t it[2] = {
            {.socket = tw_deliver_socket(tx), .events = ZMQ_POLLIN},
            {.socket = tw_deliver_socket(rx), .events = ZMQ_POLLIN}};
        zmq_poll(it, 2, 10);
        tw_deliver_handle(tx, NULL);
        tw_msg_t m;
        char src[TW_PROTO_SRC_MAX + 1] = "";
        uint64_t epoch = 0, seq = 0;
        while (tw_deliver_recv(rx, &m, NULL) == TW_OK) {
            got++;
            snprintf(src, sizeof src, "%s", m.src);
            epoch = m.epoch;
            seq = m.seq;
            tw_proto_clear(&m);
        }
        if (seq)
            tw_deliver_ack(rx, src, epoch, seq, NULL);
        tw_deliver_tick(tx, s_now_ms(), NULL);
    }
    if (tw_deliver_drain(tx, 5000, NULL) != TW_OK)
        exit(1);
    double dt = s_now() - t0;
    printf("deliver_%s_batches %.0f batches/s (20 items each)\n",
           journal ? "journaled" : "memory", total / dt);
    tw_deliver_destroy(&tx);
    tw_deliver_destroy(&rx);
    zmq_ctx_term(ctx);
}

int main(int argc, char **argv)
{
    char tmp[] = "/tmp/tw-bench-XXXXXX";
    const char *dir = argc > 1 ? argv[1] : mkdtemp(tmp);
    if (!dir)
        return 1;
    s_bench_proto();
    s_bench_deliver(dir, NULL, 20000);
    char journal[512];
    snprintf(journal, sizeof journal, "%s/bench.journal", dir);
    s_bench_deliver(dir, journal, 2000);
    unlink(journal);
    if (argc <= 1)
        rmdir(dir);
    return 0;
}
