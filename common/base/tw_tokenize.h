/* tw_tokenize - splits chat text into search tokens: NFKC + case folding,
 * words, numbers, CJK bigrams, emoji clusters, URLs, mentions, stop words and
 * optional Snowball stemming. Pure: no I/O after tw_tokenizer_new. */
#ifndef TW_TOKENIZE_H
#define TW_TOKENIZE_H

#include <stdbool.h>
#include <stddef.h>

#include "tw_rc.h"

/* A tokenizer: stop word set, stemmers and reusable scratch buffers. Not
 * thread-safe: use one per thread. */
typedef struct tw_tokenizer tw_tokenizer_t;

/* What to do with URLs and @mentions. */
typedef enum {
    TW_TOK_MODE_KEEP = 0, /* emit as one token (default) */
    TW_TOK_MODE_DROP = 1, /* drop entirely */
    TW_TOK_MODE_TEXT = 2, /* no special handling: split like other text */
} tw_tok_mode_t;

/* Kind of an emitted token. */
typedef enum {
    TW_TOK_WORD = 0,    /* letters (with marks, digits, inner apostrophes) */
    TW_TOK_NUMBER = 1,  /* digits, with inner '.' or ',' (3.14, 1,000) */
    TW_TOK_CJK = 2,     /* Han/Hiragana/Katakana bigram (or lone unigram) */
    TW_TOK_EMOJI = 3,   /* one emoji grapheme cluster (ZWJ, modifiers, VS) */
    TW_TOK_URL = 4,     /* http://, https:// or www. URL, verbatim */
    TW_TOK_MENTION = 5, /* '@' + case-folded handle */
} tw_tok_kind_t;

/* One token; text is borrowed from the tokenizer, not NUL-terminated in the
 * callback form (use len), valid until the next call on the tokenizer. */
typedef struct {
    const char *text;   /* UTF-8 bytes of the token */
    size_t len;         /* byte length of text */
    tw_tok_kind_t kind; /* what sort of token */
} tw_token_t;

/* Called once per token in text order; return false to stop early. */
typedef bool (*tw_tok_cb_t)(const tw_token_t *tok, void *arg);

/* Construction options; zero-initialise then set what you need. */
typedef struct {
    const char *languages; /* stop word languages, comma/space separated
                              ("en,de"); NULL = "en", "" = none */
    const char *const *language_list; /* alternative to languages (e.g.
                                         tw_cfg's strv); used when not NULL */
    size_t n_language_list;           /* entries in language_list */
    const char *stopword_dir;         /* dir holding <lang>.txt; NULL or "" =
                                         installed share/tubewatch/stopwords */
    const char *const *extra_stopword_files; /* more list files (paths) */
    size_t n_extra_stopword_files; /* entries in extra_stopword_files */
    const char *stem_languages;    /* Snowball languages, comma/space separated
                                      ("english,russian" or "en,ru"); NULL or ""
                                      = no stemming; one per script is used */
    tw_tok_mode_t url_mode;        /* URLs: keep (default), drop or text */
    tw_tok_mode_t mention_mode;    /* @mentions: keep (default), drop or text */
    bool keep_stopwords;           /* true = load nothing, remove nothing */
    size_t max_token_bytes;        /* longer tokens are dropped; 0 = 256 */
} tw_tokenizer_opts_t;

/* Makes a tokenizer configured by opts (NULL = defaults) in *self_p,
 * owned by the caller. On failure *self_p is NULL, err says why and the rc
 * is TW_ERR_CONFIG (a stop word file missing or forbidden, an unknown
 * language or stemmer), TW_ERR_IO (a file that could not be opened now:
 * EMFILE, EIO) or TW_ERR_NOMEM. */
tw_rc_t tw_tokenizer_new(tw_tokenizer_t **self_p,
                         const tw_tokenizer_opts_t *opts, tw_err_t *err);
/* Parses a URL/mention mode name: "keep" (also NULL or ""), "drop" or
 * "text". Returns TW_ERR_CONFIG for anything else. */
tw_rc_t tw_tokenizer_mode_parse(const char *s, tw_tok_mode_t *mode);
/* Frees *self_p and sets it to NULL; safe to call twice. */
void tw_tokenizer_destroy(tw_tokenizer_t **self_p);

/* Tokenizes len bytes of UTF-8 text (invalid bytes are skipped), calling cb
 * for every token. Returns TW_OK (also when cb stopped early) or
 * TW_ERR_NOMEM. */
tw_rc_t tw_tokenizer_run(tw_tokenizer_t *self, const char *text, size_t len,
                         tw_tok_cb_t cb, void *arg);
/* Tokenizes text into an array borrowed from self (tokens NUL-terminated),
 * valid until the next call on self. Returns TW_OK or TW_ERR_NOMEM. */
tw_rc_t tw_tokenizer_tokens(tw_tokenizer_t *self, const char *text, size_t len,
                            const tw_token_t **tokens, size_t *count);
/* Tokenizes text and returns the tokens joined by single spaces (the TSV
 * `tokens` column before escaping), borrowed from self, NUL-terminated,
 * valid until the next call on self; NULL only on out of memory. */
const char *tw_tokenizer_join(tw_tokenizer_t *self, const char *text,
                              size_t len, size_t *out_len);
/* True when word (already normalised, UTF-8) is in the stop word set. */
bool tw_tokenizer_is_stopword(const tw_tokenizer_t *self, const char *word,
                              size_t len);
/* Number of distinct stop words loaded. */
size_t tw_tokenizer_stopword_count(const tw_tokenizer_t *self);

#endif
