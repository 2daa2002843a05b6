/* Benchmark of tw_tokenize: tokens/s and MB/s over a synthetic chat mix
 * (English, Spanish, Japanese, Korean, emoji, URLs, mentions). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tw_tokenize.h"

static const char *s_lines[] = {
    "This is the best stream ever, can't wait for the next one!",
    "LOL \xf0\x9f\x98\x82\xf0\x9f\x98\x82\xf0\x9f\x98\x82 that was so funny",
    "\xc2\xa1Hola a todos desde M\xc3\xa9xico! "
    "\xf0\x9f\x87\xb2\xf0\x9f\x87\xbd",
    "\xe4\xbb\x8a\xe6\x97\xa5\xe3\x82\x82\xe9\x85\x8d\xe4\xbf\xa1\xe3\x81\x82"
    "\xe3\x82\x8a\xe3\x81\x8c\xe3\x81\xa8\xe3\x81\x86\xef\xbc\x81",
    "\xec\x95\x88\xeb\x85\x95\xed\x95\x98\xec\x84\xb8\xec\x9a\x94 "
    "\xe3\x85\x8b\xe3\x85\x8b\xe3\x85\x8b",
    "@streamer check https://www.youtube.com/watch?v=dQw4w9WgXcQ pls",
    "GG "
    "\xf0\x9f\x91\x8d\xf0\x9f\x8f\xbd\xf0\x9f\x91\xa8\xe2\x80\x8d\xf0\x9f\x91"
    "\xa9\xe2\x80\x8d\xf0\x9f\x91\xa7 wp 100 points, 3.5 stars",
    "Die Stra\xc3\x9f"
    "e war gestern sehr voll, aber der Stream lief gut",
};

static double s_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static bool s_count(const tw_token_t *t, void *arg)
{
    (void)t;
    (*(size_t *)arg)++;
    return true;
}

static void s_bench(const char *name, tw_tokenizer_t *tok, const char *buf,
                    size_t len, int iters)
{
    size_t ntok = 0;
    double t0 = s_now();
    for (int i = 0; i < iters; i++) {
        /* one chat message at a time, as the tokenizer worker does */
        const char *p = buf;
        while (p < buf + len) {
            const char *nl = memchr(p, '\n', (size_t)(buf + len - p));
            size_t l = nl ? (size_t)(nl - p) : (size_t)(buf + len - p);
            tw_tokenizer_run(tok, p, l, s_count, &ntok);
            p += l + 1;
        }
    }
    double dt = s_now() - t0;
    printf("%-28s %12.0f tokens/s %8.1f MB/s\n", name, (double)ntok / dt,
           (double)len * iters / dt / 1e6);
}

int main(int argc, char **argv)
{
    int iters = argc > 1 ? atoi(argv[1]) : 2000;
    size_t cap = 0, len = 0;
    for (size_t i = 0; i < sizeof s_lines / sizeof *s_lines; i++)
        cap += strlen(s_lines[i]) + 1;
    cap *= 16;
    char *buf = malloc(cap);
    if (!buf)
        return 111;
    for (int r = 0; r < 16; r++) {
        for (size_t i = 0; i < sizeof s_lines / sizeof *s_lines; i++) {
            size_t l = strlen(s_lines[i]);
            memcpy(buf + len, s_lines[i], l);
            len += l;
            buf[len++] = '\n';
        }
    }
    tw_tokenizer_opts_t o = {0};
    o.stopword_dir = "data/stopwords";
    o.languages = "en,es,de,ja,ko";
    tw_err_t err;
    tw_tokenizer_t *t = NULL;
    if (tw_tokenizer_new(&t, &o, &err) != TW_OK) {
        fprintf(stderr, "tokenize-bench: %s (run from the source tree)\n",
                err.msg);
        free(buf);
        return 100;
    }
    s_bench("tokenize mixed chat", t, buf, len, iters);
    tw_tokenizer_destroy(&t);
    o.stem_languages = "english,spanish";
    if (tw_tokenizer_new(&t, &o, &err) == TW_OK)
        s_bench("tokenize mixed + stemming", t, buf, len, iters);
    tw_tokenizer_destroy(&t);
    free(buf);
    return 0;
}
