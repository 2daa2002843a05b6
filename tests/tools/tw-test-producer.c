/* tw-test-producer - a worker that plays a chat@ source for the pipeline's
 * end-to-end tests, chaos runs and benchmark: it sends N chat.batch frames
 * of M items through a journaled tw_deliver sender (like chat@ will), to
 * ipc://RUNTIME/tokenizer.sock (or writer.sock), checkpoints how far it got
 * under STATE/NAME/, and exits 0 once every frame was acked.
 *
 *   tw-test-producer [--batches N] [--items M] [--rate B] [--to tokenizer|
 *                    writer] [--video ID] [--channel ID] [--no-journal]
 *                    [--stats FILE] [--deleted K] [--samples]
 *   tw-test-producer --print N M [--video ID]   expected "id\ttext" rows
 *
 * --rate: batches per second (0 = as fast as credit allows). --stats: on
 * exit, writes "items N", "seconds S", "msgs_per_s R", "p50_us X",
 * "p99_us Y" and "cpu_s C" lines (latency = send to ack of each frame:
 * tokenizer + writer + fsync; cpu = the producer's own user+system time).
 * --deleted K: every Kth item is a deletion of the item before it.
 * --samples: N stats.sample frames instead (sample n: viewers when n is
 * even, views/likes/comments when n % 3 != 0).
 * Item i of batch b: id VIDEO-bB-iI, text with words, a tab, a newline, a
 * backslash, CJK and emoji every few items (exercises escaping and tokens).
 * Exit codes: 0 done, 100 usage, 111 temporary failure. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tw_deliver.h"
#include "tw_log.h"
#include "tw_loop.h"
#include "tw_proto.h"
#include "tw_time.h"
#include "tw_worker.h"

/* Latency slots (seq % S_SLOTS); larger than any window. */
#define S_SLOTS 8192

/* Options. */
typedef struct {
    long batches;        /* frames to send */
    long items;          /* items per frame */
    double rate;         /* frames per second, 0 = unlimited */
    const char *to;      /* tokenizer or writer */
    const char *video;   /* video id */
    const char *channel; /* channel id */
    bool journal;        /* use a journal */
    const char *stats;   /* stats file or NULL */
    long deleted;        /* every Nth item (N > 1) deletes the one before */
    bool samples;        /* send stats.sample frames instead of chat */
} s_opts_t;

static const char *const s_words[] = {
    "hello", "great",  "stream", "the",   "lol",  "music", "wow",
    "again", "thanks", "world",  "nice",  "play", "game",  "love",
    "first", "from",   "brazil", "japan", "gg",   "pog",
};

/* Fills buf with the text of item (b, i). */
static void s_text(long b, long i, char *buf, size_t cap)
{
    unsigned long h = (unsigned long)(b * 7919 + i * 104729) ^ 0x9e3779b9ul;
    size_t n = 0;
    int words = 3 + (int)(h % 7);
    for (int k = 0; k < words && n + 40 < cap; k++) {
        h = h * 6364136223846793005ul + 1442695040888963407ul;
        const char *w = s_words[(h >> 33) % (sizeof s_words / sizeof *s_words)];
        n += (size_t)snprintf(buf + n, cap - n, "%s%s", k ? " " : "", w);
    }
    switch ((b + i) % 11) {
    case 3:
        n += (size_t)snprintf(buf + n, cap - n, "\tafter a tab");
        break;
    case 5:
        n += (size_t)snprintf(buf + n, cap - n, "\nsecond line \\ slash");
        break;
    case 7:
        n += (size_t)snprintf(buf + n, cap - n,
                              " \xe4\xbb\x8a\xe6\x97\xa5\xe3\x82\x82 "
                              "\xf0\x9f\x98\x82 @someone");
        break;
    default:
        break;
    }
    snprintf(buf + n, cap - n, " #%ld", b * 1000 + i);
}

/* Writes the TSV-escaped form of s to f. */
static void s_put_tsv(FILE *f, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '\\':
            fputs("\\\\", f);
            break;
        case '\t':
            fputs("\\t", f);
            break;
        case '\n':
            fputs("\\n", f);
            break;
        case '\r':
            fputs("\\r", f);
            break;
        default:
            fputc(*s, f);
        }
    }
}

/* --print: the expected "id\ttext" rows. */
static int s_print(long batches, long items, const char *video)
{
    char text[512];
    for (long b = 0; b < batches; b++)
        for (long i = 0; i < items; i++) {
            s_text(b, i, text, sizeof text);
            printf("%s-b%ld-i%ld\t", video, b, i);
            s_put_tsv(stdout, text);
            putchar('\n');
        }
    return 0;
}

/* Reads the checkpoint (next batch); 0 when absent. */
static long s_ckpt_read(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    long v = 0;
    if (fscanf(f, "%ld", &v) != 1)
        v = 0;
    fclose(f);
    return v;
}

/* Writes the checkpoint atomically (no fsync: losing it only repeats
 * batches, which the writer drops as duplicates). */
static void s_ckpt_write(const char *path, long v)
{
    char tmp[4400];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f)
        tw_log_fatal(TW_EXIT_TEMP, "%s: %s", tmp, strerror(errno));
    fprintf(f, "%ld\n", v);
    if (fclose(f) != 0 || rename(tmp, path) != 0)
        tw_log_fatal(TW_EXIT_TEMP, "%s: %s", path, strerror(errno));
}

/* Builds and sends batch b. */
static tw_rc_t s_send_batch(tw_deliver_t *tx, const s_opts_t *o, long b,
                            tw_err_t *err)
{
    tw_chat_item_t *items = calloc((size_t)o->items, sizeof *items);
    char(*ids)[96] = calloc((size_t)o->items, sizeof *ids);
    char(*texts)[512] = calloc((size_t)o->items, sizeof *texts);
    if (!items || !ids || !texts)
        tw_log_fatal(TW_EXIT_TEMP, "out of memory");
    int64_t now = tw_time_now_us();
    for (long i = 0; i < o->items; i++) {
        snprintf(ids[i], sizeof ids[i], "%s-b%ld-i%ld", o->video, b, i);
        s_text(b, i, texts[i], sizeof texts[i]);
        tw_chat_item_t *it = &items[i];
        it->id = ids[i];
        it->kind = i % 50 == 49 ? TW_CHAT_KIND_SUPERCHAT : TW_CHAT_KIND_TEXT;
        it->published_usec = now - 1000;
        it->received_usec = now;
        it->author_channel_id = "UCauthorAAAAAAAAAAAAAAAA";
        it->author_name = "Test Author";
        it->amount = it->kind == TW_CHAT_KIND_SUPERCHAT ? "$5.00" : "";
        it->currency = it->kind == TW_CHAT_KIND_SUPERCHAT ? "USD" : "";
        it->text = texts[i];
        it->ref_id = "";
        if (o->deleted > 1 && i % o->deleted == o->deleted - 1) {
            it->kind = TW_CHAT_KIND_DELETED;
            it->ref_id = ids[i - 1];
            it->text = "";
            it->amount = "";
        }
    }
    tw_msg_t m = {.id = TW_MSG_CHAT_BATCH};
    m.u.chat_batch.video_id = (char *)o->video;
    m.u.chat_batch.channel_id = (char *)o->channel;
    m.u.chat_batch.items.v = items;
    m.u.chat_batch.items.n = (size_t)o->items;
    tw_rc_t rc = tw_deliver_send(tx, &m, err);
    free(items);
    free(ids);
    free(texts);
    return rc;
}

/* Sends stats.sample number n: concurrent viewers when n is even, views,
 * likes and comments when n % 3 != 0 (so: both, one of them, or neither). */
static tw_rc_t s_send_sample(tw_deliver_t *tx, const s_opts_t *o, long n,
                             tw_err_t *err)
{
    tw_msg_t m = {.id = TW_MSG_STATS_SAMPLE};
    tw_msg_stats_sample_t *s = &m.u.stats_sample;
    s->video_id = (char *)o->video;
    s->channel_id = (char *)o->channel;
    s->title = "Test \"stream\"\twith a tab";
    s->sampled_at_us = 1767225600000000LL + n * 1000000LL;
    if (n % 2 == 0)
        s->concurrent_viewers = (tw_ou64_t){true, (uint64_t)(100 + n)};
    if (n % 3 != 0) {
        s->views = (tw_ou64_t){true, (uint64_t)(1000 + n)};
        s->likes = (tw_ou64_t){true, (uint64_t)(10 + n)};
        s->comments = (tw_ou64_t){true, (uint64_t)n};
    }
    return tw_deliver_send(tx, &m, err);
}

static int s_cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* Latency bookkeeping. */
typedef struct {
    int64_t sent_us[S_SLOTS]; /* send time of seq % S_SLOTS */
    uint64_t last_seq;        /* highest seq sent */
    uint64_t acked_upto;      /* highest seq known acked */
    uint32_t *lat;            /* latencies in us */
    size_t n, cap;            /* used / allocated */
} s_lat_t;

/* Records latencies of frames acked since the last call. */
static void s_lat_update(s_lat_t *l, tw_deliver_t *tx)
{
    uint64_t un = tw_deliver_unacked(tx);
    uint64_t upto = l->last_seq >= un ? l->last_seq - un : 0;
    int64_t now = tw_time_mono_us();
    for (uint64_t s = l->acked_upto + 1; s <= upto; s++) {
        int64_t t0 = l->sent_us[s % S_SLOTS];
        if (t0 == 0)
            continue;
        if (l->n == l->cap) {
            l->cap = l->cap ? l->cap * 2 : 4096;
            l->lat = realloc(l->lat, l->cap * sizeof *l->lat);
            if (!l->lat)
                tw_log_fatal(TW_EXIT_TEMP, "out of memory");
        }
        int64_t d = now - t0;
        l->lat[l->n++] = d > UINT32_MAX ? UINT32_MAX : (uint32_t)d;
    }
    if (upto > l->acked_upto)
        l->acked_upto = upto;
}

/* Parses the command line; exits 100 on bad usage. */
static void s_parse(int argc, char **argv, s_opts_t *o)
{
    *o = (s_opts_t){.batches = 100,
                    .items = 10,
                    .to = "tokenizer",
                    .video = "VIDtest0001",
                    .channel = "UCtestchannel0000000001",
                    .journal = true};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--no-journal") == 0) {
            o->journal = false;
            continue;
        }
        if (strcmp(a, "--samples") == 0) {
            o->samples = true;
            continue;
        }
        if (!v) {
            fprintf(stderr, "tw-test-producer: %s needs a value\n", a);
            exit(TW_EXIT_USAGE);
        }
        i++;
        if (strcmp(a, "--batches") == 0)
            o->batches = atol(v);
        else if (strcmp(a, "--items") == 0)
            o->items = atol(v);
        else if (strcmp(a, "--rate") == 0)
            o->rate = atof(v);
        else if (strcmp(a, "--to") == 0)
            o->to = v;
        else if (strcmp(a, "--video") == 0)
            o->video = v;
        else if (strcmp(a, "--channel") == 0)
            o->channel = v;
        else if (strcmp(a, "--stats") == 0)
            o->stats = v;
        else if (strcmp(a, "--deleted") == 0)
            o->deleted = atol(v);
        else {
            fprintf(stderr, "tw-test-producer: unknown option %s\n", a);
            exit(TW_EXIT_USAGE);
        }
    }
    if (o->batches < 0 || o->items < 1 || o->items > TW_PROTO_MAX_ARRAY) {
        fprintf(stderr, "tw-test-producer: bad --batches/--items\n");
        exit(TW_EXIT_USAGE);
    }
}

/* Writes the --stats file. */
static void s_write_stats(const s_opts_t *o, s_lat_t *l, long sent_batches,
                          double secs)
{
    if (!o->stats)
        return;
    FILE *f = fopen(o->stats, "w");
    if (!f)
        return;
    uint32_t p50 = 0, p99 = 0;
    if (l->n) {
        qsort(l->lat, l->n, sizeof *l->lat, s_cmp_u32);
        p50 = l->lat[l->n / 2];
        p99 = l->lat[(l->n * 99) / 100 < l->n ? (l->n * 99) / 100 : l->n - 1];
    }
    double items = (double)sent_batches * (double)o->items;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
                 (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
    fprintf(f,
            "items %.0f\nseconds %.3f\nmsgs_per_s %.0f\np50_us %u\n"
            "p99_us %u\ncpu_s %.3f\n",
            items, secs, secs > 0 ? items / secs : 0, p50, p99, cpu);
    fclose(f);
}

/* What the loop's callbacks share. */
typedef struct {
    const s_opts_t *o; /* options */
    tw_worker_t *w;    /* supervisor connection */
    tw_deliver_t *tx;  /* the journaled sender */
    tw_loop_t *loop;   /* the loop */
    const char *ckpt;  /* checkpoint file */
    s_lat_t *lat;      /* latency of each frame */
    int64_t t0;        /* first send, monotonic usec */
    long next;         /* next batch to send */
    long sent;         /* batches sent by this run */
    int rate_timer;    /* fires when the next batch is due (--rate) */
    tw_rc_t failed;    /* a send failed: the run's result */
} s_run_t;

/* Sends what credit and --rate allow; stops the loop once every batch was
 * acked. */
static tw_rc_t s_pump(s_run_t *r)
{
    tw_err_t err = {0};
    while (r->next < r->o->batches && tw_deliver_can_send(r->tx)) {
        int64_t now = tw_time_mono_us();
        if (r->o->rate > 0) {
            int64_t due = r->t0 + (int64_t)(1e6 * (double)r->sent / r->o->rate);
            if (now < due) {
                tw_loop_rearm_timer(r->loop, r->rate_timer,
                                    (due - now + 999) / 1000);
                return TW_OK;
            }
        }
        tw_rc_t rc = r->o->samples ? s_send_sample(r->tx, r->o, r->next, &err)
                                   : s_send_batch(r->tx, r->o, r->next, &err);
        if (rc != TW_OK) {
            tw_log_error("send: %s", err.msg);
            r->failed = rc;
            tw_loop_stop(r->loop);
            return TW_OK;
        }
        r->lat->last_seq++;
        r->lat->sent_us[r->lat->last_seq % S_SLOTS] = tw_time_mono_us();
        r->next++;
        r->sent++;
        s_ckpt_write(r->ckpt, r->next);
        tw_worker_count(r->w, 0, 1, 0);
    }
    if (r->next >= r->o->batches && tw_deliver_unacked(r->tx) == 0)
        tw_loop_stop(r->loop);
    return TW_OK;
}

/* Acks came in: credit may be back. */
static tw_rc_t s_on_acks(tw_deliver_t *tx, void *arg)
{
    s_run_t *r = arg;
    s_lat_update(r->lat, tx);
    return s_pump(r);
}

/* The next batch is due (--rate). */
static tw_rc_t s_on_rate(tw_loop_t *loop, int id, void *arg)
{
    tw_loop_rearm_timer(loop, id, -1);
    return s_pump(arg);
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--print") == 0) {
        if (argc < 4)
            return TW_EXIT_USAGE;
        const char *video = argc > 5 ? argv[5] : "VIDtest0001";
        return s_print(atol(argv[2]), atol(argv[3]), video);
    }
    tw_log_init("tw-test-producer");
    s_opts_t o;
    s_parse(argc, argv, &o);
    tw_err_t err = {0};
    tw_worker_t *w = NULL;
    tw_rc_t rc = tw_worker_new(&w, "test", &err);
    if (rc != TW_OK) {
        tw_log_error("%s", err.msg);
        return tw_rc_exit(rc);
    }
    const tw_cfg_t *cfg = tw_worker_cfg(w);
    const char *sdir = getenv(TW_ENV_STATE_DIR);
    if (!sdir || !*sdir)
        sdir = cfg->supervisor.state_dir;
    const char *rdir = getenv(TW_ENV_RUNTIME_DIR);
    if (!rdir || !*rdir)
        rdir = cfg->supervisor.runtime_dir;
    char dir[4200], journal[4300], ckpt[4300], ep[4300];
    snprintf(dir, sizeof dir, "%s/%s", sdir, tw_worker_name(w));
    mkdir(sdir, 0700);
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        tw_log_fatal(TW_EXIT_TEMP, "%s: %s", dir, strerror(errno));
    snprintf(journal, sizeof journal, "%s/producer.journal", dir);
    snprintf(ckpt, sizeof ckpt, "%s/next", dir);
    snprintf(ep, sizeof ep, "ipc://%s/%s.sock", rdir, o.to);
    tw_deliver_opts_t so = {0};
    so.endpoint = ep;
    so.src = tw_worker_name(w);
    so.epoch = tw_worker_epoch(w);
    so.journal = o.journal ? journal : NULL;
    tw_deliver_t *tx = NULL;
    rc = tw_deliver_sender_new(&tx, tw_worker_zctx(w), &so, &err);
    if (rc != TW_OK) {
        tw_log_error("sender: %s", err.msg);
        tw_worker_destroy(&w);
        return TW_EXIT_TEMP;
    }
    long next = s_ckpt_read(ckpt);
    tw_log_info("batches %ld..%ld of %ld items to %s, %zu replayed", next,
                o.batches, o.items, ep, tw_deliver_unacked(tx));
    tw_worker_ready(w);
    static s_lat_t lat;
    lat.last_seq = tw_deliver_unacked(tx); /* replayed frames: seqs 1..n */
    lat.acked_upto = 0;
    s_run_t run = {.o = &o,
                   .w = w,
                   .tx = tx,
                   .ckpt = ckpt,
                   .lat = &lat,
                   .t0 = tw_time_mono_us(),
                   .next = next,
                   .failed = TW_OK};
    run.loop = tw_loop_new();
    if (!run.loop)
        tw_log_fatal(TW_EXIT_TEMP, "out of memory");
    run.rate_timer = tw_loop_add_timer(run.loop, 0, 0, s_on_rate, &run);
    rc = run.rate_timer < 0 ? TW_ERR_NOMEM : tw_worker_attach(w, run.loop);
    if (rc == TW_OK)
        rc = tw_deliver_attach(tx, run.loop, s_on_acks, &run);
    if (rc == TW_OK)
        tw_loop_rearm_timer(run.loop, run.rate_timer, -1);
    if (rc == TW_OK)
        rc = s_pump(&run);
    if (rc == TW_OK && !tw_loop_stopping(run.loop))
        rc = tw_loop_run(run.loop);
    if (rc != TW_OK)
        tw_log_error("loop: %s", tw_rc_str(rc));
    if (run.failed != TW_OK) {
        tw_deliver_destroy(&tx);
        tw_worker_destroy(&w);
        tw_loop_destroy(&run.loop);
        return TW_EXIT_TEMP;
    }
    next = run.next;
    long sent = run.sent;
    int64_t t0 = run.t0;
    double secs = (double)(tw_time_mono_us() - t0) / 1e6;
    bool done = next >= o.batches && tw_deliver_unacked(tx) == 0;
    if (done)
        tw_log_info("all %ld batches acked in %.3f s", o.batches, secs);
    else
        tw_deliver_drain(tx, 1000, NULL);
    s_write_stats(&o, &lat, sent, secs);
    free(lat.lat);
    tw_deliver_destroy(&tx);
    tw_worker_destroy(&w);
    tw_loop_destroy(&run.loop);
    return TW_EXIT_OK;
}
