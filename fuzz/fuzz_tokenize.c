/* libFuzzer target of tw_tokenize: any bytes, every mode, must not crash and
 * must only produce non-empty, valid UTF-8 tokens without spaces or
 * controls (the writer joins them with spaces). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "tw_tokenize.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static tw_tokenizer_t *s_tok[3];

static bool s_check(const tw_token_t *t, void *arg)
{
    (void)arg;
    if (t->len == 0)
        abort();
    const uint8_t *p = (const uint8_t *)t->text;
    size_t i = 0;
    while (i < t->len) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t r =
            utf8proc_iterate(p + i, (utf8proc_ssize_t)(t->len - i), &cp);
        if (r <= 0 || cp <= 0x20 || cp == 0x7F)
            abort(); /* tokens never hold spaces or controls */
        i += (size_t)r;
    }
    return true;
}

static void s_init(void)
{
    tw_tokenizer_opts_t o = {0};
    o.stopword_dir = "data/stopwords";
    o.languages = "en,fr,ja";
    o.stem_languages = "english,russian";
    if (tw_tokenizer_new(&s_tok[0], &o, NULL) != TW_OK) {
        o.keep_stopwords = true;
        tw_tokenizer_new(&s_tok[0], &o, NULL);
    }
    memset(&o, 0, sizeof o);
    o.keep_stopwords = true;
    o.url_mode = TW_TOK_MODE_DROP;
    o.mention_mode = TW_TOK_MODE_TEXT;
    o.max_token_bytes = 16;
    tw_tokenizer_new(&s_tok[1], &o, NULL);
    o.url_mode = TW_TOK_MODE_TEXT;
    o.mention_mode = TW_TOK_MODE_DROP;
    o.max_token_bytes = 0;
    tw_tokenizer_new(&s_tok[2], &o, NULL);
    if (!s_tok[0] || !s_tok[1] || !s_tok[2])
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!s_tok[0])
        s_init();
    if (size == 0)
        return 0;
    tw_tokenizer_t *t = s_tok[data[0] % 3];
    const char *text = (const char *)data + 1;
    size_t len = size - 1;
    if (tw_tokenizer_run(t, text, len, s_check, NULL) != TW_OK)
        abort();
    const tw_token_t *toks;
    size_t n;
    if (tw_tokenizer_tokens(t, text, len, &toks, &n) != TW_OK)
        abort();
    for (size_t i = 0; i < n; i++) {
        if (strlen(toks[i].text) > toks[i].len)
            abort();
    }
    size_t jl;
    const char *j = tw_tokenizer_join(t, text, len, &jl);
    if (!j || strlen(j) > jl)
        abort();
    return 0;
}
