/* tw_tokenize - chat text to search tokens (see tw_tokenize.h and
 * docs/tokenizer.md). */
#include "tw_tokenize.h"

#include <assert.h>
#include <errno.h>
#include <libstemmer.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#define S_DEFAULT_MAX_TOKEN 256
#define S_MAX_URL           2048
#define S_MAX_STEMMERS      8
#define S_UTF8PROC_OPTS                                                        \
    (UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT | UTF8PROC_CASEFOLD | UTF8PROC_STABLE)

/* Character classes seen by the segmenter. */
enum {
    S_OTHER = 0, /* separator: space, punctuation, symbols, U+FFFD */
    S_LETTER,    /* L* (not CJK) */
    S_DIGIT,     /* N* */
    S_MARK,      /* M*: extends the previous character */
    S_CJK,       /* Han, Hiragana, Katakana */
    S_EMOJI,     /* starts an emoji grapheme cluster */
    S_APOS,      /* apostrophe: joins letters */
    S_JOINER,    /* ZWNJ/ZWJ: joins letters */
    S_NUMSEP,    /* '.' or ',': joins digits */
};

/* Scripts, to pick the stemmer of a word. */
enum {
    S_SCRIPT_NONE = 0,
    S_SCRIPT_LATIN,
    S_SCRIPT_GREEK,
    S_SCRIPT_CYRILLIC,
    S_SCRIPT_ARMENIAN,
    S_SCRIPT_HEBREW,
    S_SCRIPT_ARABIC,
    S_SCRIPT_DEVANAGARI,
    S_SCRIPT_TAMIL,
};

/* One Snowball algorithm: its name, ISO 639-1 alias and script. */
typedef struct {
    const char *name; /* libstemmer algorithm name */
    const char *iso;  /* two-letter alias, or NULL */
    int script;       /* S_SCRIPT_* of the words it stems */
} s_stem_lang_t;

static const s_stem_lang_t s_stem_langs[] = {
    {"arabic", "ar", S_SCRIPT_ARABIC},    {"armenian", "hy", S_SCRIPT_ARMENIAN},
    {"basque", "eu", S_SCRIPT_LATIN},     {"catalan", "ca", S_SCRIPT_LATIN},
    {"danish", "da", S_SCRIPT_LATIN},     {"dutch", "nl", S_SCRIPT_LATIN},
    {"english", "en", S_SCRIPT_LATIN},    {"finnish", "fi", S_SCRIPT_LATIN},
    {"french", "fr", S_SCRIPT_LATIN},     {"german", "de", S_SCRIPT_LATIN},
    {"greek", "el", S_SCRIPT_GREEK},      {"hindi", "hi", S_SCRIPT_DEVANAGARI},
    {"hungarian", "hu", S_SCRIPT_LATIN},  {"indonesian", "id", S_SCRIPT_LATIN},
    {"irish", "ga", S_SCRIPT_LATIN},      {"italian", "it", S_SCRIPT_LATIN},
    {"lithuanian", "lt", S_SCRIPT_LATIN}, {"nepali", "ne", S_SCRIPT_DEVANAGARI},
    {"norwegian", "no", S_SCRIPT_LATIN},  {"porter", NULL, S_SCRIPT_LATIN},
    {"portuguese", "pt", S_SCRIPT_LATIN}, {"romanian", "ro", S_SCRIPT_LATIN},
    {"russian", "ru", S_SCRIPT_CYRILLIC}, {"serbian", "sr", S_SCRIPT_CYRILLIC},
    {"spanish", "es", S_SCRIPT_LATIN},    {"swedish", "sv", S_SCRIPT_LATIN},
    {"tamil", "ta", S_SCRIPT_TAMIL},      {"turkish", "tr", S_SCRIPT_LATIN},
    {"yiddish", "yi", S_SCRIPT_HEBREW},
};

/* One stop word set slot; len 0 = empty. */
typedef struct {
    uint32_t off;  /* offset of the word in sw_arena */
    uint32_t len;  /* byte length of the word */
    uint32_t hash; /* hash of the word */
} s_slot_t;

/* A token recorded by tw_tokenizer_tokens before pointers are fixed. */
typedef struct {
    size_t off;         /* offset in out */
    size_t len;         /* byte length */
    tw_tok_kind_t kind; /* token kind */
} s_rec_t;

struct tw_tokenizer {
    tw_tok_mode_t url_mode;                  /* URL handling */
    tw_tok_mode_t mention_mode;              /* @mention handling */
    size_t max_tok;                          /* longest token kept, bytes */
    char *sw_arena;                          /* stop words, back to back */
    size_t sw_arena_len;                     /* bytes used in sw_arena */
    size_t sw_arena_cap;                     /* bytes allocated in sw_arena */
    s_slot_t *sw_slots;                      /* open-addressing hash table */
    size_t sw_nslots;                        /* slots (power of two) */
    size_t sw_count;                         /* words stored */
    struct sb_stemmer *stem[S_MAX_STEMMERS]; /* stemmers */
    int stem_script[S_MAX_STEMMERS];         /* script of each stemmer */
    size_t n_stem;                           /* stemmers in use */
    int32_t *cps;                            /* normalised code points */
    size_t cps_cap;                          /* capacity of cps */
    char *tok;                               /* current token's bytes */
    size_t tok_cap;                          /* capacity of tok */
    tw_tok_cb_t cb;                          /* user callback of this run */
    void *cb_arg;                            /* its argument */
    bool stopped;                            /* callback asked to stop */
    char *out;                               /* tokens/join output */
    size_t out_len;                          /* bytes used in out */
    size_t out_cap;                          /* capacity of out */
    s_rec_t *recs;                           /* tokens() records */
    size_t n_recs;                           /* records used */
    size_t recs_cap;                         /* records allocated */
    tw_token_t *arr;                         /* tokens() result */
    size_t arr_cap;                          /* entries allocated in arr */
    bool nomem;                              /* an allocation failed */
};

/* ---- small helpers ---- */

static bool s_grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return true;
    size_t ncap = *cap ? *cap : 64;
    while (ncap < need)
        ncap *= 2;
    void *np = realloc(*p, ncap * elem);
    if (!np)
        return false;
    *p = np;
    *cap = ncap;
    return true;
}

static uint32_t s_hash(const char *s, size_t len)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 16777619u;
    }
    return h;
}

static bool s_is_cjk(int32_t c)
{
    if (c < 0x3005)
        return false;
    if (c <= 0x303B)
        return c == 0x3005 || c == 0x3007 || c == 0x303B;
    if (c >= 0x3041 && c <= 0x309F)
        return true;
    if (c >= 0x30A1 && c <= 0x30FF)
        return c != 0x30FB; /* the katakana middle dot separates */
    if (c >= 0x31F0 && c <= 0x31FF)
        return true;
    if (c >= 0x3400 && c <= 0x4DBF)
        return true;
    if (c >= 0x4E00 && c <= 0x9FFF)
        return true;
    if (c >= 0xF900 && c <= 0xFAFF)
        return true;
    if (c >= 0xFF66 && c <= 0xFF9F)
        return true;
    if (c >= 0x1B000 && c <= 0x1B16F)
        return true;
    return c >= 0x20000 && c <= 0x3134F;
}

static int s_class(int32_t c)
{
    if (c < 0x80) {
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
            return S_LETTER;
        if (c >= '0' && c <= '9')
            return S_DIGIT;
        if (c == '\'')
            return S_APOS;
        if (c == '.' || c == ',')
            return S_NUMSEP;
        return S_OTHER;
    }
    if (c == 0xFFFD)
        return S_OTHER;
    if (c == 0x2019)
        return S_APOS;
    if (c == 0x200C || c == 0x200D)
        return S_JOINER;
    if (s_is_cjk(c))
        return S_CJK;
    if (c >= 0x1F3FB && c <= 0x1F3FF)
        return S_EMOJI; /* a lone skin tone modifier */
    const utf8proc_property_t *p = utf8proc_get_property(c);
    switch (p->boundclass) {
    case UTF8PROC_BOUNDCLASS_EXTENDED_PICTOGRAPHIC:
    case UTF8PROC_BOUNDCLASS_REGIONAL_INDICATOR:
    case UTF8PROC_BOUNDCLASS_E_BASE:
    case UTF8PROC_BOUNDCLASS_E_MODIFIER:
    case UTF8PROC_BOUNDCLASS_E_BASE_GAZ:
    case UTF8PROC_BOUNDCLASS_E_ZWG:
        return S_EMOJI;
    default:
        break;
    }
    switch (p->category) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO:
        return S_LETTER;
    case UTF8PROC_CATEGORY_MN:
    case UTF8PROC_CATEGORY_MC:
    case UTF8PROC_CATEGORY_ME:
        return S_MARK;
    case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_NL:
    case UTF8PROC_CATEGORY_NO:
        return S_DIGIT;
    default:
        return S_OTHER;
    }
}

static int s_script(int32_t c)
{
    if (c < 0x250 || (c >= 0x1E00 && c <= 0x1EFF))
        return S_SCRIPT_LATIN;
    if (c >= 0x370 && c <= 0x3FF)
        return S_SCRIPT_GREEK;
    if (c >= 0x1F00 && c <= 0x1FFF)
        return S_SCRIPT_GREEK;
    if (c >= 0x400 && c <= 0x52F)
        return S_SCRIPT_CYRILLIC;
    if (c >= 0x530 && c <= 0x58F)
        return S_SCRIPT_ARMENIAN;
    if (c >= 0x590 && c <= 0x5FF)
        return S_SCRIPT_HEBREW;
    if ((c >= 0x600 && c <= 0x6FF) || (c >= 0x750 && c <= 0x77F))
        return S_SCRIPT_ARABIC;
    if (c >= 0x900 && c <= 0x97F)
        return S_SCRIPT_DEVANAGARI;
    if (c >= 0xB80 && c <= 0xBFF)
        return S_SCRIPT_TAMIL;
    return S_SCRIPT_NONE;
}

/* ---- normalisation ---- */

/* Appends c to cps[*n], moving it before preceding marks of a higher
 * combining class (canonical ordering). */
static void s_push_cp(int32_t *cps, size_t *n, int32_t c)
{
    size_t j = *n;
    cps[j] = c;
    (*n)++;
    if (c < 0x300)
        return;
    int ccc = utf8proc_get_property(c)->combining_class;
    if (ccc == 0)
        return;
    while (j > 0) {
        int32_t prev = cps[j - 1];
        if (prev < 0x300)
            break;
        int pccc = utf8proc_get_property(prev)->combining_class;
        if (pccc <= ccc)
            break;
        cps[j] = prev;
        cps[j - 1] = c;
        j--;
    }
}

/* NFKC + case folding of len bytes into self->cps; invalid UTF-8 bytes
 * become U+FFFD one byte at a time. Returns the number of code points, or
 * -1 on out of memory. */
static ptrdiff_t s_normalize(tw_tokenizer_t *self, const uint8_t *s, size_t len)
{
    /* Worst case expansion of one input byte: a 2-byte character folding to
     * 3 code points, or one byte of a 4-byte one decomposing to ~18; 4x
     * bytes + slack covers every case but the rarest, handled below. */
    if (len > SIZE_MAX / 16)
        return -1;
    if (!s_grow((void **)&self->cps, &self->cps_cap, len * 2 + 32,
                sizeof(int32_t)))
        return -1;
    size_t n = 0;
    bool nonascii = false;
    size_t i = 0;
    while (i < len) {
        uint8_t b = s[i];
        if (b < 0x80) {
            if (n + 1 > self->cps_cap &&
                !s_grow((void **)&self->cps, &self->cps_cap, n + 64,
                        sizeof(int32_t)))
                return -1;
            self->cps[n++] = (b >= 'A' && b <= 'Z') ? b + 32 : b;
            i++;
            continue;
        }
        nonascii = true;
        utf8proc_int32_t cp;
        utf8proc_ssize_t r =
            utf8proc_iterate(s + i, (utf8proc_ssize_t)(len - i), &cp);
        if (n + 32 > self->cps_cap &&
            !s_grow((void **)&self->cps, &self->cps_cap, n + 64,
                    sizeof(int32_t)))
            return -1;
        if (r <= 0) {
            self->cps[n++] = 0xFFFD;
            i++;
            continue;
        }
        i += (size_t)r;
        if ((cp >= 0x3130 && cp <= 0x318F) || (cp >= 0x4E00 && cp <= 0x9FFF) ||
            (cp >= 0xAC00 && cp <= 0xD7A3)) {
            /* Hangul compatibility jamo (ㅋㅋㅋ) would become conjoining
             * jamo under NFKC and render as broken syllables: keep them.
             * Unified ideographs and Hangul syllables are already NFKC and
             * case-less: skip the decompose/compose round trip. */
            self->cps[n++] = cp;
            continue;
        }
        utf8proc_int32_t tmp[32];
        utf8proc_ssize_t m =
            utf8proc_decompose_char(cp, tmp, 32, S_UTF8PROC_OPTS, NULL);
        if (m <= 0 || m > 32) {
            self->cps[n++] = 0xFFFD;
            continue;
        }
        for (utf8proc_ssize_t k = 0; k < m; k++)
            s_push_cp(self->cps, &n, tmp[k]);
    }
    if (!nonascii)
        return (ptrdiff_t)n;
    utf8proc_ssize_t m = utf8proc_normalize_utf32(
        self->cps, (utf8proc_ssize_t)n, S_UTF8PROC_OPTS | UTF8PROC_COMPOSE);
    if (m < 0)
        return 0;
    /* Case folding turns Turkish İ into i + U+0307; drop the dot so that
     * İstanbul and istanbul are one token. */
    size_t w = 0;
    for (size_t r = 0; r < (size_t)m; r++) {
        int32_t c = self->cps[r];
        if (c == 0x307 && w > 0 &&
            (self->cps[w - 1] == 'i' || self->cps[w - 1] == 'j'))
            continue;
        self->cps[w++] = c;
    }
    return (ptrdiff_t)w;
}

/* ---- stop words ---- */

static bool s_sw_lookup(const tw_tokenizer_t *self, const char *w, size_t len,
                        uint32_t h)
{
    if (!self->sw_nslots)
        return false;
    size_t mask = self->sw_nslots - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        const s_slot_t *sl = &self->sw_slots[i];
        if (sl->len == 0)
            return false;
        if (sl->hash == h && sl->len == len &&
            memcmp(self->sw_arena + sl->off, w, len) == 0)
            return true;
    }
}

bool tw_tokenizer_is_stopword(const tw_tokenizer_t *self, const char *word,
                              size_t len)
{
    assert(self);
    assert(word || len == 0);
    if (len == 0)
        return false;
    return s_sw_lookup(self, word, len, s_hash(word, len));
}

size_t tw_tokenizer_stopword_count(const tw_tokenizer_t *self)
{
    assert(self);
    return self->sw_count;
}

static bool s_sw_insert(tw_tokenizer_t *self, const char *w, size_t len)
{
    if (len == 0 || len > UINT32_MAX / 2)
        return true;
    uint32_t h = s_hash(w, len);
    if (s_sw_lookup(self, w, len, h))
        return true;
    if ((self->sw_count + 1) * 2 > self->sw_nslots) {
        size_t nn = self->sw_nslots ? self->sw_nslots * 2 : 512;
        s_slot_t *ns = calloc(nn, sizeof *ns);
        if (!ns)
            return false;
        for (size_t i = 0; i < self->sw_nslots; i++) {
            s_slot_t sl = self->sw_slots[i];
            if (sl.len == 0)
                continue;
            size_t j = sl.hash & (nn - 1);
            while (ns[j].len)
                j = (j + 1) & (nn - 1);
            ns[j] = sl;
        }
        free(self->sw_slots);
        self->sw_slots = ns;
        self->sw_nslots = nn;
    }
    if (!s_grow((void **)&self->sw_arena, &self->sw_arena_cap,
                self->sw_arena_len + len, 1))
        return false;
    memcpy(self->sw_arena + self->sw_arena_len, w, len);
    size_t j = h & (self->sw_nslots - 1);
    while (self->sw_slots[j].len)
        j = (j + 1) & (self->sw_nslots - 1);
    self->sw_slots[j] =
        (s_slot_t){(uint32_t)self->sw_arena_len, (uint32_t)len, h};
    self->sw_arena_len += len;
    self->sw_count++;
    return true;
}

/* Encodes cps[a..b) as UTF-8 into self->tok (apostrophes unified). Returns
 * the byte length, or (size_t)-1 when longer than limit. */
static size_t s_encode(tw_tokenizer_t *self, size_t a, size_t b, size_t limit)
{
    size_t n = 0;
    for (size_t i = a; i < b; i++) {
        int32_t c = self->cps[i];
        if (n + 4 > limit + 4)
            return (size_t)-1;
        if (c < 0x80) {
            self->tok[n++] = (char)c;
        } else if (c == 0x2019) {
            self->tok[n++] = '\'';
        } else {
            n += (size_t)utf8proc_encode_char(c, (uint8_t *)self->tok + n);
        }
    }
    if (n > limit)
        return (size_t)-1;
    return n;
}

/* Normalises one stop word list line's words and inserts them. */
static bool s_sw_add_text(tw_tokenizer_t *self, const char *line, size_t len)
{
    size_t i = 0;
    while (i < len) {
        while (i < len && (line[i] == ' ' || line[i] == '\t' ||
                           line[i] == '\r' || line[i] == '\n'))
            i++;
        size_t st = i;
        while (i < len && line[i] != ' ' && line[i] != '\t' &&
               line[i] != '\r' && line[i] != '\n')
            i++;
        if (i == st)
            continue;
        ptrdiff_t n = s_normalize(self, (const uint8_t *)line + st, i - st);
        if (n < 0)
            return false;
        size_t bl = s_encode(self, 0, (size_t)n, self->max_tok);
        if (bl == (size_t)-1)
            continue;
        if (!s_sw_insert(self, self->tok, bl))
            return false;
    }
    return true;
}

static tw_rc_t s_sw_load(tw_tokenizer_t *self, const char *path, tw_err_t *err)
{
    FILE *f = fopen(path, "re");
    if (!f) {
        int e = errno;
        tw_err_set(err, "unable to open stop word list %s: %s", path,
                   strerror(e));
        /* a missing or forbidden list is the config's; EMFILE, EIO pass */
        return e == ENOENT || e == EACCES || e == EPERM || e == ENOTDIR ||
                       e == EISDIR
                   ? TW_ERR_CONFIG
                   : TW_ERR_IO;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t got;
    bool first = true;
    tw_rc_t rc = TW_OK;
    while ((got = getline(&line, &cap, f)) >= 0) {
        size_t len = (size_t)got;
        char *p = line;
        if (first && len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) {
            p += 3;
            len -= 3;
        }
        first = false;
        char *hash = memchr(p, '#', len);
        if (hash)
            len = (size_t)(hash - p);
        if (!s_sw_add_text(self, p, len)) {
            rc = TW_ERR_NOMEM;
            tw_err_set(err, "out of memory loading %s", path);
            break;
        }
    }
    if (rc == TW_OK && ferror(f)) {
        tw_err_set(err, "unable to read stop word list %s", path);
        rc = TW_ERR_IO;
    }
    free(line);
    fclose(f);
    return rc;
}

/* ---- construction ---- */

/* Calls fn for each comma/space separated item of list. */
static tw_rc_t s_each_item(const char *list,
                           tw_rc_t (*fn)(tw_tokenizer_t *, const char *,
                                         const void *, tw_err_t *),
                           tw_tokenizer_t *self, const void *ctx, tw_err_t *err)
{
    const char *p = list;
    while (*p) {
        while (*p == ',' || *p == ' ' || *p == '\t')
            p++;
        const char *st = p;
        while (*p && *p != ',' && *p != ' ' && *p != '\t')
            p++;
        if (p == st)
            continue;
        char item[64];
        size_t l = (size_t)(p - st);
        if (l >= sizeof item) {
            tw_err_set(err, "language name too long: %.*s", (int)l, st);
            return TW_ERR_CONFIG;
        }
        memcpy(item, st, l);
        item[l] = '\0';
        tw_rc_t rc = fn(self, item, ctx, err);
        if (rc != TW_OK)
            return rc;
    }
    return TW_OK;
}

static bool s_lang_ok(const char *lang)
{
    if (!*lang)
        return false;
    for (const char *p = lang; *p; p++) {
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
              (*p >= '0' && *p <= '9') || *p == '_' || *p == '-'))
            return false;
    }
    return true;
}

static tw_rc_t s_add_lang(tw_tokenizer_t *self, const char *lang,
                          const void *ctx, tw_err_t *err)
{
    const char *dir = ctx;
    if (!s_lang_ok(lang)) {
        tw_err_set(err, "invalid stop word language: %s", lang);
        return TW_ERR_CONFIG;
    }
    char path[4096];
    int n = snprintf(path, sizeof path, "%s/%s.txt", dir, lang);
    if (n < 0 || (size_t)n >= sizeof path) {
        tw_err_set(err, "stop word path too long");
        return TW_ERR_CONFIG;
    }
    return s_sw_load(self, path, err);
}

static tw_rc_t s_add_stemmer(tw_tokenizer_t *self, const char *lang,
                             const void *ctx, tw_err_t *err)
{
    (void)ctx;
    const s_stem_lang_t *sl = NULL;
    for (size_t i = 0; i < sizeof s_stem_langs / sizeof *s_stem_langs; i++) {
        if (strcmp(lang, s_stem_langs[i].name) == 0 ||
            (s_stem_langs[i].iso && strcmp(lang, s_stem_langs[i].iso) == 0)) {
            sl = &s_stem_langs[i];
            break;
        }
    }
    if (!sl) {
        tw_err_set(err, "unknown stemming language: %s", lang);
        return TW_ERR_CONFIG;
    }
    for (size_t i = 0; i < self->n_stem; i++) {
        if (self->stem_script[i] == sl->script)
            return TW_OK; /* the first one of a script wins */
    }
    if (self->n_stem == S_MAX_STEMMERS) {
        tw_err_set(err, "too many stemming languages");
        return TW_ERR_CONFIG;
    }
    struct sb_stemmer *st = sb_stemmer_new(sl->name, NULL);
    if (!st) {
        tw_err_set(err, "unable to create the %s stemmer", sl->name);
        return TW_ERR_CONFIG;
    }
    self->stem[self->n_stem] = st;
    self->stem_script[self->n_stem] = sl->script;
    self->n_stem++;
    return TW_OK;
}

/* The installed stop word dir: PREFIX/share/tubewatch/stopwords, derived
 * from the libexec dir compiled in. */
static void s_default_dir(char *buf, size_t cap)
{
#ifdef TW_LIBEXECDIR
    const char *lx = TW_LIBEXECDIR;
#else
    const char *lx = "/usr/local/libexec/tubewatch";
#endif
    const char *tail = "/libexec/tubewatch";
    size_t l = strlen(lx), tl = strlen(tail);
    if (l >= tl && strcmp(lx + l - tl, tail) == 0)
        snprintf(buf, cap, "%.*s/share/tubewatch/stopwords", (int)(l - tl), lx);
    else
        snprintf(buf, cap, "/usr/local/share/tubewatch/stopwords");
}

tw_rc_t tw_tokenizer_new(tw_tokenizer_t **self_p,
                         const tw_tokenizer_opts_t *opts, tw_err_t *err)
{
    assert(self_p);
    *self_p = NULL;
    tw_tokenizer_opts_t def;
    if (!opts) {
        memset(&def, 0, sizeof def);
        opts = &def;
    }
    tw_tokenizer_t *self = calloc(1, sizeof *self);
    if (!self) {
        tw_err_set(err, "out of memory");
        return TW_ERR_NOMEM;
    }
    self->url_mode = opts->url_mode;
    self->mention_mode = opts->mention_mode;
    self->max_tok =
        opts->max_token_bytes ? opts->max_token_bytes : S_DEFAULT_MAX_TOKEN;
    self->tok_cap =
        (self->max_tok > S_MAX_URL ? self->max_tok : S_MAX_URL) + 64;
    self->tok = malloc(self->tok_cap);
    if (!self->tok) {
        tw_err_set(err, "out of memory");
        tw_tokenizer_destroy(&self);
        return TW_ERR_NOMEM;
    }
    tw_rc_t rc = TW_OK;
    if (!opts->keep_stopwords) {
        char dir[4096];
        if (opts->stopword_dir && *opts->stopword_dir)
            snprintf(dir, sizeof dir, "%s", opts->stopword_dir);
        else
            s_default_dir(dir, sizeof dir);
        if (opts->language_list) {
            for (size_t i = 0; rc == TW_OK && i < opts->n_language_list; i++)
                rc = s_each_item(opts->language_list[i], s_add_lang, self, dir,
                                 err);
        } else {
            const char *langs = opts->languages ? opts->languages : "en";
            rc = s_each_item(langs, s_add_lang, self, dir, err);
        }
        for (size_t i = 0; rc == TW_OK && i < opts->n_extra_stopword_files; i++)
            rc = s_sw_load(self, opts->extra_stopword_files[i], err);
    }
    if (rc == TW_OK && opts->stem_languages)
        rc = s_each_item(opts->stem_languages, s_add_stemmer, self, NULL, err);
    if (rc != TW_OK) {
        tw_tokenizer_destroy(&self);
        return rc;
    }
    *self_p = self;
    return TW_OK;
}

tw_rc_t tw_tokenizer_mode_parse(const char *s, tw_tok_mode_t *mode)
{
    assert(mode);
    if (!s || !*s || strcmp(s, "keep") == 0)
        *mode = TW_TOK_MODE_KEEP;
    else if (strcmp(s, "drop") == 0)
        *mode = TW_TOK_MODE_DROP;
    else if (strcmp(s, "text") == 0)
        *mode = TW_TOK_MODE_TEXT;
    else
        return TW_ERR_CONFIG;
    return TW_OK;
}

void tw_tokenizer_destroy(tw_tokenizer_t **self_p)
{
    assert(self_p);
    tw_tokenizer_t *self = *self_p;
    if (!self)
        return;
    for (size_t i = 0; i < self->n_stem; i++)
        sb_stemmer_delete(self->stem[i]);
    free(self->sw_arena);
    free(self->sw_slots);
    free(self->cps);
    free(self->tok);
    free(self->out);
    free(self->recs);
    free(self->arr);
    free(self);
    *self_p = NULL;
}

/* ---- segmentation ---- */

static void s_deliver(tw_tokenizer_t *self, const char *text, size_t len,
                      tw_tok_kind_t kind)
{
    tw_token_t t = {text, len, kind};
    if (!self->cb(&t, self->cb_arg))
        self->stopped = true;
}

/* Stop words, elision and stemming of a WORD token in self->tok. */
static void s_emit_word(tw_tokenizer_t *self, size_t len, int32_t first)
{
    const char *w = self->tok;
    if (self->sw_count) {
        if (s_sw_lookup(self, w, len, s_hash(w, len)))
            return;
        /* Elision: l'homme, d'accord, dell'anno - drop a stop word prefix
         * that ends in an apostrophe. */
        const char *ap = memchr(w, '\'', len);
        if (ap) {
            size_t pl = (size_t)(ap - w) + 1;
            if (pl < len && s_sw_lookup(self, w, pl, s_hash(w, pl))) {
                w += pl;
                len -= pl;
                if (s_sw_lookup(self, w, len, s_hash(w, len)))
                    return;
            }
        }
    }
    if (self->n_stem) {
        int sc = s_script(first);
        for (size_t i = 0; i < self->n_stem; i++) {
            if (self->stem_script[i] != sc)
                continue;
            const sb_symbol *st =
                sb_stemmer_stem(self->stem[i], (const sb_symbol *)w, (int)len);
            if (st) {
                int sl = sb_stemmer_length(self->stem[i]);
                if (sl > 0) {
                    s_deliver(self, (const char *)st, (size_t)sl, TW_TOK_WORD);
                    return;
                }
            }
            break;
        }
    }
    s_deliver(self, w, len, TW_TOK_WORD);
}

static void s_emit_cps(tw_tokenizer_t *self, size_t a, size_t b,
                       tw_tok_kind_t kind)
{
    size_t len = s_encode(self, a, b, self->max_tok);
    if (len == (size_t)-1 || len == 0)
        return;
    if (kind == TW_TOK_WORD) {
        s_emit_word(self, len, self->cps[a]);
        return;
    }
    if (kind == TW_TOK_CJK && self->sw_count &&
        s_sw_lookup(self, self->tok, len, s_hash(self->tok, len)))
        return;
    s_deliver(self, self->tok, len, kind);
}

static bool s_is_wordish(int cl)
{
    return cl == S_LETTER || cl == S_DIGIT;
}

/* Segments self->cps[0..n) and emits its tokens. */
static void s_segment(tw_tokenizer_t *self, size_t n)
{
    const int32_t *cps = self->cps;
    size_t i = 0;
    while (i < n && !self->stopped) {
        int32_t c = cps[i];
        int cl = s_class(c);
        if ((cl == S_DIGIT || c == '#' || c == '*') && i + 1 < n) {
            size_t k = i + 1;
            if (cps[k] == 0xFE0F && k + 1 < n)
                k++;
            if (cps[k] == 0x20E3) { /* keycap emoji 1️⃣ */
                s_emit_cps(self, i, k + 1, TW_TOK_EMOJI);
                i = k + 1;
                continue;
            }
        }
        if (cl == S_LETTER || cl == S_DIGIT) {
            bool num = cl == S_DIGIT;
            int prev = cl;
            size_t j = i + 1;
            while (j < n) {
                int dc = s_class(cps[j]);
                if (dc == S_LETTER || dc == S_DIGIT || dc == S_MARK) {
                    if (dc != S_DIGIT)
                        num = false;
                    prev = dc == S_MARK ? prev : dc;
                    j++;
                    continue;
                }
                if (j + 1 < n) {
                    int nc = s_class(cps[j + 1]);
                    if ((dc == S_APOS || dc == S_JOINER) && s_is_wordish(nc)) {
                        num = false;
                        j++;
                        continue;
                    }
                    if (dc == S_NUMSEP && prev == S_DIGIT && nc == S_DIGIT) {
                        j++;
                        continue;
                    }
                }
                break;
            }
            s_emit_cps(self, i, j, num ? TW_TOK_NUMBER : TW_TOK_WORD);
            i = j;
        } else if (cl == S_CJK) {
            size_t as = i, ae = i + 1;
            while (ae < n && s_class(cps[ae]) == S_MARK)
                ae++;
            bool emitted = false;
            size_t j = ae;
            while (j < n && !self->stopped && s_class(cps[j]) == S_CJK) {
                size_t be = j + 1;
                while (be < n && s_class(cps[be]) == S_MARK)
                    be++;
                s_emit_cps(self, as, be, TW_TOK_CJK);
                emitted = true;
                as = j;
                ae = be;
                j = be;
            }
            if (!emitted)
                s_emit_cps(self, as, ae, TW_TOK_CJK);
            i = ae;
        } else if (cl == S_EMOJI) {
            utf8proc_int32_t state = 0;
            size_t j = i + 1;
            while (j < n && !utf8proc_grapheme_break_stateful(cps[j - 1],
                                                              cps[j], &state))
                j++;
            s_emit_cps(self, i, j, TW_TOK_EMOJI);
            i = j;
        } else {
            i++;
        }
    }
}

/* Normalises and segments raw bytes s[a..b). */
static void s_flush(tw_tokenizer_t *self, const uint8_t *s, size_t a, size_t b)
{
    if (a >= b || self->stopped)
        return;
    ptrdiff_t n = s_normalize(self, s + a, b - a);
    if (n < 0) {
        self->nomem = true;
        self->stopped = true;
        return;
    }
    s_segment(self, (size_t)n);
}

static bool s_ascii_alnum(uint8_t b)
{
    return (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') ||
           (b >= '0' && b <= '9');
}

/* True when a URL or mention may start after byte prev. */
static bool s_start_ok(const uint8_t *s, size_t p)
{
    if (p == 0)
        return true;
    uint8_t b = s[p - 1];
    return !(s_ascii_alnum(b) || b == '@' || b == '/' || b == '.' || b == '_' ||
             b == '-' || b == ':');
}

static bool s_prefix_ci(const uint8_t *s, size_t len, const char *pre)
{
    size_t l = strlen(pre);
    if (len < l)
        return false;
    for (size_t i = 0; i < l; i++) {
        uint8_t b = s[i];
        if (b >= 'A' && b <= 'Z')
            b += 32;
        if (b != (uint8_t)pre[i])
            return false;
    }
    return true;
}

/* End of the URL starting at s[p], or p when there is none. */
static size_t s_url_end(const uint8_t *s, size_t len, size_t p)
{
    size_t pl;
    if (s_prefix_ci(s + p, len - p, "https://"))
        pl = 8;
    else if (s_prefix_ci(s + p, len - p, "http://"))
        pl = 7;
    else if (s_prefix_ci(s + p, len - p, "www."))
        pl = 4;
    else
        return p;
    size_t q = p + pl;
    int open = 0, close = 0;
    while (q < len && s[q] > 0x20 && s[q] < 0x7F && s[q] != '<' &&
           s[q] != '>' && s[q] != '"' && s[q] != '`' && s[q] != '{' &&
           s[q] != '}' && s[q] != '|' && s[q] != '\\' && s[q] != '^') {
        if (s[q] == '(')
            open++;
        else if (s[q] == ')')
            close++;
        q++;
    }
    while (q > p + pl) {
        uint8_t b = s[q - 1];
        if (b == '.' || b == ',' || b == ';' || b == ':' || b == '!' ||
            b == '?' || b == '\'' || b == '*' || b == ']') {
            q--;
        } else if (b == ')' && close > open) {
            close--;
            q--;
        } else {
            break;
        }
    }
    if (q == p + pl || !s_ascii_alnum(s[p + pl]))
        return p;
    return q;
}

/* End of the @handle starting at s[p] ('@'), or p when there is none. */
static size_t s_mention_end(const uint8_t *s, size_t len, size_t p)
{
    size_t q = p + 1;
    while (q < len) {
        uint8_t b = s[q];
        if (s_ascii_alnum(b) || b == '_' || b == '-' || b == '.') {
            q++;
            continue;
        }
        if (b < 0x80)
            break;
        utf8proc_int32_t cp;
        utf8proc_ssize_t r =
            utf8proc_iterate(s + q, (utf8proc_ssize_t)(len - q), &cp);
        if (r <= 0)
            break;
        int cl = s_class(cp);
        if (cl != S_LETTER && cl != S_DIGIT && cl != S_MARK)
            break;
        q += (size_t)r;
    }
    while (q > p + 1 && (s[q - 1] == '.' || s[q - 1] == '-'))
        q--;
    if (q == p + 1 || s[p + 1] == '.' || s[p + 1] == '-')
        return p;
    return q;
}

static void s_emit_mention(tw_tokenizer_t *self, const uint8_t *s, size_t a,
                           size_t b)
{
    ptrdiff_t n = s_normalize(self, s + a + 1, b - a - 1);
    if (n < 0) {
        self->nomem = true;
        self->stopped = true;
        return;
    }
    size_t len = s_encode(self, 0, (size_t)n, self->max_tok);
    if (len == (size_t)-1 || len + 1 > self->max_tok)
        return;
    memmove(self->tok + 1, self->tok, len);
    self->tok[0] = '@';
    s_deliver(self, self->tok, len + 1, TW_TOK_MENTION);
}

tw_rc_t tw_tokenizer_run(tw_tokenizer_t *self, const char *text, size_t len,
                         tw_tok_cb_t cb, void *arg)
{
    assert(self);
    assert(text || len == 0);
    assert(cb);
    self->cb = cb;
    self->cb_arg = arg;
    self->stopped = false;
    self->nomem = false;
    if (len == 0)
        return TW_OK;
    const uint8_t *s = (const uint8_t *)text;
    bool urls = self->url_mode != TW_TOK_MODE_TEXT;
    bool mentions = self->mention_mode != TW_TOK_MODE_TEXT;
    size_t seg = 0, p = 0;
    while (p < len && !self->stopped) {
        uint8_t b = s[p];
        uint8_t lb = b | 0x20;
        if (urls && (lb == 'h' || lb == 'w') && s_start_ok(s, p)) {
            size_t e = s_url_end(s, len, p);
            if (e > p) {
                s_flush(self, s, seg, p);
                if (self->url_mode == TW_TOK_MODE_KEEP && e - p <= S_MAX_URL &&
                    !self->stopped)
                    s_deliver(self, text + p, e - p, TW_TOK_URL);
                seg = p = e;
                continue;
            }
        } else if (mentions && b == '@' && s_start_ok(s, p)) {
            size_t e = s_mention_end(s, len, p);
            if (e > p) {
                s_flush(self, s, seg, p);
                if (self->mention_mode == TW_TOK_MODE_KEEP && !self->stopped)
                    s_emit_mention(self, s, p, e);
                seg = p = e;
                continue;
            }
        }
        p++;
    }
    s_flush(self, s, seg, len);
    return self->nomem ? TW_ERR_NOMEM : TW_OK;
}

/* ---- collecting forms ---- */

static bool s_collect_cb(const tw_token_t *t, void *arg)
{
    tw_tokenizer_t *self = arg;
    if (!s_grow((void **)&self->out, &self->out_cap, self->out_len + t->len + 1,
                1) ||
        !s_grow((void **)&self->recs, &self->recs_cap, self->n_recs + 1,
                sizeof *self->recs)) {
        self->nomem = true;
        return false;
    }
    memcpy(self->out + self->out_len, t->text, t->len);
    self->recs[self->n_recs++] = (s_rec_t){self->out_len, t->len, t->kind};
    self->out_len += t->len;
    self->out[self->out_len++] = '\0';
    return true;
}

tw_rc_t tw_tokenizer_tokens(tw_tokenizer_t *self, const char *text, size_t len,
                            const tw_token_t **tokens, size_t *count)
{
    assert(self);
    assert(text || len == 0);
    assert(tokens);
    assert(count);
    self->out_len = 0;
    self->n_recs = 0;
    *tokens = NULL;
    *count = 0;
    tw_rc_t rc = tw_tokenizer_run(self, text, len, s_collect_cb, self);
    if (rc == TW_OK && self->nomem)
        rc = TW_ERR_NOMEM;
    if (rc != TW_OK)
        return rc;
    if (!s_grow((void **)&self->arr, &self->arr_cap, self->n_recs + 1,
                sizeof *self->arr))
        return TW_ERR_NOMEM;
    for (size_t i = 0; i < self->n_recs; i++)
        self->arr[i] = (tw_token_t){self->out + self->recs[i].off,
                                    self->recs[i].len, self->recs[i].kind};
    *tokens = self->arr;
    *count = self->n_recs;
    return TW_OK;
}

static bool s_join_cb(const tw_token_t *t, void *arg)
{
    tw_tokenizer_t *self = arg;
    if (!s_grow((void **)&self->out, &self->out_cap, self->out_len + t->len + 2,
                1)) {
        self->nomem = true;
        return false;
    }
    if (self->out_len)
        self->out[self->out_len++] = ' ';
    memcpy(self->out + self->out_len, t->text, t->len);
    self->out_len += t->len;
    return true;
}

const char *tw_tokenizer_join(tw_tokenizer_t *self, const char *text,
                              size_t len, size_t *out_len)
{
    assert(self);
    assert(text || len == 0);
    self->out_len = 0;
    if (!s_grow((void **)&self->out, &self->out_cap, 1, 1))
        return NULL;
    tw_rc_t rc = tw_tokenizer_run(self, text, len, s_join_cb, self);
    if (rc != TW_OK || self->nomem)
        return NULL;
    self->out[self->out_len] = '\0';
    if (out_len)
        *out_len = self->out_len;
    return self->out;
}
