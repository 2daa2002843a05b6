/* Unit tests of tw_tokenize: normalisation, scripts, emoji, URLs, mentions,
 * numbers, stop words, stemming and invalid UTF-8. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "tw_tokenize.h"

#define S_SWDIR "data/stopwords"

/* A tokenizer with the given stop word languages ("" = none) and stemmers. */
static tw_tokenizer_t *s_new(const char *langs, const char *stem)
{
    tw_tokenizer_opts_t o = {0};
    o.stopword_dir = S_SWDIR;
    o.languages = langs;
    o.stem_languages = stem;
    tw_err_t err;
    tw_tokenizer_t *t = NULL;
    tw_rc_t rc = tw_tokenizer_new(&t, &o, &err);
    ck_assert_msg(rc == TW_OK, "tw_tokenizer_new: %s", err.msg);
    ck_assert_ptr_nonnull(t);
    return t;
}

/* A stop word list that cannot be opened now (EMFILE) is an I/O error
 * (the worker retries); a missing one is the config's. */
START_TEST(test_stopwords_unreadable_now)
{
    tw_tokenizer_opts_t o = {0};
    o.stopword_dir = S_SWDIR;
    o.languages = "en";
    tw_tokenizer_t *t = NULL;
    tw_err_t err = {{0}, 0, 0};
    struct rlimit old;
    int lim = tw_test_limit_fds(&old);
    tw_rc_t rc = tw_tokenizer_new(&t, &o, &err);
    tw_test_limit_restore(RLIMIT_NOFILE, &old);
    ck_assert_int_eq(lim, 0);
    ck_assert_int_eq(rc, TW_ERR_IO);
    ck_assert_ptr_null(t);
    ck_assert_ptr_nonnull(strstr(err.msg, "Too many open files"));
    o.stopword_dir = "/nonexistent-stopwords";
    ck_assert_int_eq(tw_tokenizer_new(&t, &o, NULL), TW_ERR_CONFIG);
}
END_TEST

static void s_expect(tw_tokenizer_t *t, const char *in, const char *want)
{
    size_t len = 0;
    const char *got = tw_tokenizer_join(t, in, strlen(in), &len);
    ck_assert_ptr_nonnull(got);
    ck_assert_uint_eq(len, strlen(got));
    ck_assert_msg(strcmp(got, want) == 0,
                  "input \"%s\": got \"%s\", want \"%s\"", in, got, want);
}

/* Tokens of in with their kinds: kinds[i] must match. */
static void s_expect_kinds(tw_tokenizer_t *t, const char *in,
                           const tw_tok_kind_t *kinds, size_t n)
{
    const tw_token_t *toks;
    size_t cnt;
    ck_assert_int_eq(tw_tokenizer_tokens(t, in, strlen(in), &toks, &cnt),
                     TW_OK);
    ck_assert_uint_eq(cnt, n);
    for (size_t i = 0; i < n; i++) {
        ck_assert_msg(toks[i].kind == kinds[i], "token %zu (%s): kind %d", i,
                      toks[i].text, (int)toks[i].kind);
        ck_assert_uint_eq(strlen(toks[i].text), toks[i].len);
    }
}

START_TEST(test_latin_accents)
{
    tw_tokenizer_t *t = s_new("", NULL);
    s_expect(t, "Café CRÈME brûlée, ÉTÉ!", "café crème brûlée été");
    /* decomposed input composes to the same token (NFC part of NFKC) */
    s_expect(t, "Cafe\xcc\x81", "café");
    /* compatibility forms: ligature, full-width, circled digit */
    s_expect(t,
             "\xef\xac\x81nal "
             "\xef\xbc\xa8\xef\xbd\x85\xef\xbd\x8c\xef\xbd\x8c\xef\xbd\x8f "
             "\xe2\x91\xa0",
             "final hello 1");
    s_expect(t, "Ñandú São Paulo", "ñandú são paulo");
    tw_tokenizer_destroy(&t);
    ck_assert_ptr_null(t);
    tw_tokenizer_destroy(&t);
}
END_TEST

START_TEST(test_turkish_i)
{
    tw_tokenizer_t *t = s_new("", NULL);
    /* dotted capital I folds to plain i (the combining dot is dropped) */
    s_expect(t, "\xc4\xb0STANBUL \xc4\xb0stanbul istanbul",
             "istanbul istanbul istanbul");
    /* dotless i stays a distinct letter; ASCII I folds to i */
    s_expect(t, "\xc4\xb1l\xc4\xb1k ILIK", "\xc4\xb1l\xc4\xb1k ilik");
    s_expect(t, "D\xc4\xb0YARBAKIR'da", "diyarbakir'da");
    tw_tokenizer_destroy(&t);
}
END_TEST

START_TEST(test_german_sharp_s)
{
    tw_tokenizer_t *t = s_new("", NULL);
    s_expect(t,
             "Stra\xc3\x9f"
             "e STRASSE stra\xe1\xba\x9e"
             "e",
             "strasse strasse strasse");
    tw_tokenizer_destroy(&t);
    t = s_new("de", NULL);
    s_expect(t,
             "Die Stra\xc3\x9f"
             "e ist gro\xc3\x9f und sch\xc3\xb6n",
             "strasse gross sch\xc3\xb6n");
    s_expect(t,
             "\xc3\x9c"
             "BER dem Fluss",
             "fluss");
    tw_tokenizer_destroy(&t);
}
END_TEST

START_TEST(test_japanese_bigrams)
{
    tw_tokenizer_t *t = s_new("", NULL);
    /* 日本語を勉強します */
    s_expect(t,
             "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\xe3\x82\x92\xe5\x8b\x89"
             "\xe5\xbc\xb7",
             "\xe6\x97\xa5\xe6\x9c\xac \xe6\x9c\xac\xe8\xaa\x9e "
             "\xe8\xaa\x9e\xe3\x82\x92 \xe3\x82\x92\xe5\x8b\x89 "
             "\xe5\x8b\x89\xe5\xbc\xb7");
    /* lone kanji = unigram; Latin next to it is its own word */
    s_expect(t, "\xe7\x8c\xab cat\xe7\x8c\xab",
             "\xe7\x8c\xab cat \xe7\x8c\xab");
    /* half-width katakana ｶﾀｶﾅ -> full-width bigrams カタ タカ カナ */
    s_expect(t, "\xef\xbd\xb6\xef\xbe\x80\xef\xbd\xb6\xef\xbe\x85",
             "\xe3\x82\xab\xe3\x82\xbf \xe3\x82\xbf\xe3\x82\xab "
             "\xe3\x82\xab\xe3\x83\x8a");
    /* the katakana middle dot separates runs: ア・イ */
    s_expect(t, "\xe3\x82\xa2\xe3\x83\xbb\xe3\x82\xa4",
             "\xe3\x82\xa2 \xe3\x82\xa4");
    tw_tokenizer_destroy(&t);
    /* stop words: です is dropped as a bigram */
    t = s_new("ja", NULL);
    s_expect(t, "\xe3\x81\xa7\xe3\x81\x99", "");
    s_expect(t, "\xe3\x81\xae", "");
    tw_tokenizer_destroy(&t);
}
END_TEST

START_TEST(test_korean_and_chinese)
{
    tw_tokenizer_t *t = s_new("ko", NULL);
    /* 안녕하세요 여러분 ㅋㅋㅋ: Hangul words stay whole, jamo kept */
    s_expect(t,
             "\xec\x95\x88\xeb\x85\x95\xed\x95\x98\xec\x84\xb8\xec\x9a\x94 "
             "\xec\x97\xac\xeb\x9f\xac\xeb\xb6\x84 "
             "\xe3\x85\x8b\xe3\x85\x8b\xe3\x85\x8b",
             "\xec\x95\x88\xeb\x85\x95\xed\x95\x98\xec\x84\xb8\xec\x9a\x94 "
             "\xec\x97\xac\xeb\x9f\xac\xeb\xb6\x84 "
             "\xe3\x85\x8b\xe3\x85\x8b\xe3\x85\x8b");
    /* 그리고 사랑해: the conjunction is a stop word */
    s_expect(t,
             "\xea\xb7\xb8\xeb\xa6\xac\xea\xb3\xa0 "
             "\xec\x82\xac\xeb\x9e\x91\xed\x95\xb4",
             "\xec\x82\xac\xeb\x9e\x91\xed\x95\xb4");
    tw_tokenizer_destroy(&t);
    t = s_new("", NULL);
    /* 我爱北京 -> 我爱 爱北 北京 */
    s_expect(t, "\xe6\x88\x91\xe7\x88\xb1\xe5\x8c\x97\xe4\xba\xac\xef\xbc\x81",
             "\xe6\x88\x91\xe7\x88\xb1 \xe7\x88\xb1\xe5\x8c\x97 "
             "\xe5\x8c\x97\xe4\xba\xac");
    tw_tokenizer_destroy(&t);
}
END_TEST

START_TEST(test_arabic)
{
    tw_tokenizer_t *t = s_new("", NULL);
    /* مرحبا بالعالم! */
    s_expect(t,
             "\xd9\x85\xd8\xb1\xd8\xad\xd8\xa8\xd8\xa7 "
             "\xd8\xa8\xd8\xa7\xd9\x84\xd8\xb9\xd8\xa7\xd9\x84\xd9\x85!",
             "\xd9\x85\xd8\xb1\xd8\xad\xd8\xa8\xd8\xa7 "
             "\xd8\xa8\xd8\xa7\xd9\x84\xd8\xb9\xd8\xa7\xd9\x84\xd9\x85");
    /* Arabic-Indic digits are a number */
    tw_tok_kind_t k[] = {TW_TOK_NUMBER};
    s_expect_kinds(t, "\xd9\xa1\xd9\xa2\xd9\xa3", k, 1);
    tw_tokenizer_destroy(&t);
}
END_TEST

START_TEST(test_emoji)
{
    tw_tokenizer_t *t = s_new("", NULL);
    /* thumbs up + skin tone = one token */
    s_expect(t, "\xf0\x9f\x91\x8d\xf0\x9f\x8f\xbd",
             "\xf0\x9f\x91\x8d\xf0\x9f\x8f\xbd");
    /* family ZWJ sequence = one token */
    const char *fam = "\xf0\x9f\x91\xa8\xe2\x80\x8d\xf0\x9f\x91\xa9\xe2\x80\x8d"
                      "\xf0\x9f\x91\xa7\xe2\x80\x8d\xf0\x9f\x91\xa6";
    s_expect(t, fam, fam);
    /* woman + skin tone + ZWJ + laptop, with VS16 heart */
    const char *dev =
        "\xf0\x9f\x91\xa9\xf0\x9f\x8f\xbf\xe2\x80\x8d\xf0\x9f\x92\xbb";
    char buf[256];
    snprintf(buf, sizeof buf, "wow%s\xe2\x9d\xa4\xef\xb8\x8f!!", dev);
    char want[256];
    snprintf(want, sizeof want, "wow %s \xe2\x9d\xa4\xef\xb8\x8f", dev);
    s_expect(t, buf, want);
    /* flags: two regional indicator pairs = two tokens */
    s_expect(
        t, "\xf0\x9f\x87\xaf\xf0\x9f\x87\xb5\xf0\x9f\x87\xba\xf0\x9f\x87\xb8",
        "\xf0\x9f\x87\xaf\xf0\x9f\x87\xb5 \xf0\x9f\x87\xba\xf0\x9f\x87\xb8");
    /* repeated emoji are separate tokens */
    s_expect(t, "\xf0\x9f\x98\x82\xf0\x9f\x98\x82",
             "\xf0\x9f\x98\x82 \xf0\x9f\x98\x82");
    /* keycap 1️⃣ */
    tw_tok_kind_t k[] = {TW_TOK_EMOJI, TW_TOK_WORD, TW_TOK_EMOJI};
    s_expect_kinds(
        t,
        "1\xef\xb8\x8f\xe2\x83\xa3 ok \xf0\x9f\x8f\xb4\xf3\xa0\x81\xa7"
        "\xf3\xa0\x81\xa2\xf3\xa0\x81\xa5\xf3\xa0\x81\xae\xf3\xa0\x81\xa7"
        "\xf3\xa0\x81\xbf",
        k, 3);
    tw_tokenizer_destroy(&t);
}
END_TEST

START_TEST(test_urls)
{
    tw_tokenizer_t *t = s_new("", NULL);
    s_expect(t, "see https://www.YouTube.com/watch?v=AbC_123. now",
             "see https://www.YouTube.com/watch?v=AbC_123 now");
    s_expect(t, "(www.example.com/a_(b)) ok", "www.example.com/a_(b) ok");
    s_expect(t, "HTTP://X.ORG/Path,", "HTTP://X.ORG/Path");
    /* right after CJK text with no space */
    s_expect(t,
             "\xe7\x8c\xab"
             "https://youtu.be/xyz\xe7\x8a\xac",
             "\xe7\x8c\xab https://youtu.be/xyz \xe7\x8a\xac");
    /* not URLs: no host, or glued to a word */
    s_expect(t, "http:// www. xhttp://a", "http www xhttp a");
    tw_tok_kind_t k[] = {TW_TOK_WORD, TW_TOK_URL};
    s_expect_kinds(t, "go http://a.b/c", k, 2);
    tw_tokenizer_destroy(&t);

    tw_tokenizer_opts_t o = {0};
    o.stopword_dir = S_SWDIR;
    o.languages = "";
    o.url_mode = TW_TOK_MODE_DROP;
    ck_assert_int_eq(tw_tokenizer_new(&t, &o, NULL), TW_OK);
    ck_assert_ptr_nonnull(t);
    s_expect(t, "see https://example.com/x now", "see now");
    tw_tokenizer_destroy(&t);
    o.url_mode = TW_TOK_MODE_TEXT;
    ck_assert_int_eq(tw_tokenizer_new(&t, &o, NULL), TW_OK);
    ck_assert_ptr_nonnull(t);
    s_expect(t, "https://Example.com/x", "https example com x");
    tw_tokenizer_destroy(&t);
}
END_TEST

START_TEST(test_mentions)
{
    tw_tokenizer_t *t = s_new("en", NULL);
    s_expect(t, "@SomeOne_42 hi @Ünïcode. mail a@b.com",
             "@someone_42 hi @ünïcode mail b com");
    tw_tok_kind_t k[] = {TW_TOK_MENTION, TW_TOK_WORD};
    s_expect_kinds(t, "@x.y- hi", k, 2);
    s_expect(t, "@ @. @-", "");
    tw_tokenizer_destroy(&t);

    tw_tokenizer_opts_t o = {0};
    o.stopword_dir = S_SWDIR;
    o.mention_mode = TW_TOK_MODE_DROP;
    ck_assert_int_eq(tw_tokenizer_new(&t, &o, NULL), TW_OK);
    ck_assert_ptr_nonnull(t);
    s_expect(t, "@Bob hello", "hello");
    tw_tokenizer_destroy(&t);
}
END_TEST

START_TEST(test_numbers)
{
    tw_tokenizer_t *t = s_new("", NULL);
    s_expect(t, "3.14 1,000,000 42. 10:30 v2.0 end.",
             "3.14 1,000,000 42 10 30 v2.0 end");
    tw_tok_kind_t k[] = {TW_TOK_NUMBER, TW_TOK_NUMBER, TW_TOK_WORD,
                         TW_TOK_WORD};
    s_expect_kinds(t, "3.14 2024 2nd abc", k, 4);
    tw_tokenizer_destroy(&t);
}
END_TEST

START_TEST(test_stopwords)
{
    tw_tokenizer_t *t = s_new(NULL, NULL); /* default: English */
    ck_assert_uint_gt(tw_tokenizer_stopword_count(t), 100);
    s_expect(t, "This is THE best stream I've ever seen, isn\xe2\x80\x99t it?",
             "best stream ever seen");
    ck_assert(tw_tokenizer_is_stopword(t, "the", 3));
    ck_assert(!tw_tokenizer_is_stopword(t, "stream", 6));
    tw_tokenizer_destroy(&t);

    t = s_new("fr", NULL);
    s_expect(t, "L'homme d'affaires et la femme qu'il aime",
             "homme affaires femme aime");
    tw_tokenizer_destroy(&t);

    const char *langs[] = {"en", "es", "pt", "fr", "de", "ru", "ja", "ko"};
    for (size_t i = 0; i < sizeof langs / sizeof *langs; i++) {
        t = s_new(langs[i], NULL);
        ck_assert_uint_ge(tw_tokenizer_stopword_count(t), 40);
        tw_tokenizer_destroy(&t);
    }
    t = s_new("es, pt ru", NULL);
    s_expect(t, "el perro y o gato \xd0\xb8 \xd0\xba\xd0\xbe\xd1\x82",
             "perro gato \xd0\xba\xd0\xbe\xd1\x82");
    tw_tokenizer_destroy(&t);

    /* a user's own list, with comments and odd case */
    char path[] = "/tmp/tw-sw-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    const char *body = "# my list\nSTREAM  chat # inline comment\n\n";
    ck_assert_int_eq(write(fd, body, strlen(body)), (ssize_t)strlen(body));
    close(fd);
    tw_tokenizer_opts_t o = {0};
    o.stopword_dir = S_SWDIR;
    const char *extra[] = {path};
    o.extra_stopword_files = extra;
    o.n_extra_stopword_files = 1;
    ck_assert_int_eq(tw_tokenizer_new(&t, &o, NULL), TW_OK);
    ck_assert_ptr_nonnull(t);
    s_expect(t, "the Stream chat rocks", "rocks");
    tw_tokenizer_destroy(&t);
    unlink(path);

    /* missing files and bad names are errors, not crashes */
    tw_err_t err;
    o.extra_stopword_files = NULL;
    o.n_extra_stopword_files = 0;
    o.languages = "xx";
    ck_assert_int_eq(tw_tokenizer_new(&t, &o, &err), TW_ERR_CONFIG);
    ck_assert_ptr_null(t);
    ck_assert_ptr_nonnull(strstr(err.msg, "xx.txt"));
    o.languages = "../en";
    ck_assert_int_eq(tw_tokenizer_new(&t, &o, &err), TW_ERR_CONFIG);
    ck_assert_ptr_null(t);
    o.languages = "en";
    o.stopword_dir = "/nonexistent";
    ck_assert_int_eq(tw_tokenizer_new(&t, &o, &err), TW_ERR_CONFIG);
    ck_assert_ptr_null(t);
    o.keep_stopwords = true;
    ck_assert_int_eq(tw_tokenizer_new(&t, &o, &err), TW_OK);
    ck_assert_ptr_nonnull(t);
    s_expect(t, "the end", "the end");
    tw_tokenizer_destroy(&t);

    /* languages as a list, as tw_cfg gives them */
    const char *list[] = {"de", "fr"};
    tw_tokenizer_opts_t o2 = {0};
    o2.stopword_dir = S_SWDIR;
    o2.language_list = list;
    o2.n_language_list = 2;
    ck_assert_int_eq(tw_tokenizer_new(&t, &o2, &err), TW_OK);
    ck_assert_ptr_nonnull(t);
    s_expect(t, "der Hund et le chat the", "hund chat the");
    tw_tokenizer_destroy(&t);

    tw_tok_mode_t m;
    ck_assert_int_eq(tw_tokenizer_mode_parse("drop", &m), TW_OK);
    ck_assert_int_eq(m, TW_TOK_MODE_DROP);
    ck_assert_int_eq(tw_tokenizer_mode_parse("", &m), TW_OK);
    ck_assert_int_eq(m, TW_TOK_MODE_KEEP);
    ck_assert_int_eq(tw_tokenizer_mode_parse("text", &m), TW_OK);
    ck_assert_int_eq(m, TW_TOK_MODE_TEXT);
    ck_assert_int_eq(tw_tokenizer_mode_parse("maybe", &m), TW_ERR_CONFIG);
}
END_TEST

START_TEST(test_stemming)
{
    tw_tokenizer_t *t = s_new("en", "english, russian");
    s_expect(t, "Running jumps connected John's", "run jump connect john");
    /* Cyrillic words go to the Russian stemmer, Latin to English */
    s_expect(t, "\xd0\xba\xd0\xbd\xd0\xb8\xd0\xb3\xd0\xb8 books",
             "\xd0\xba\xd0\xbd\xd0\xb8\xd0\xb3 book");
    /* numbers, emoji and CJK are not stemmed */
    s_expect(t, "1990s \xf0\x9f\x98\x80", "1990s \xf0\x9f\x98\x80");
    tw_tokenizer_destroy(&t);
    tw_tokenizer_opts_t o = {0};
    o.keep_stopwords = true;
    o.stem_languages = "klingon";
    tw_err_t err;
    ck_assert_int_eq(tw_tokenizer_new(&t, &o, &err), TW_ERR_CONFIG);
    ck_assert_ptr_null(t);
    ck_assert_ptr_nonnull(strstr(err.msg, "klingon"));
    o.stem_languages = "de";
    ck_assert_int_eq(tw_tokenizer_new(&t, &o, &err), TW_OK);
    ck_assert_ptr_nonnull(t);
    s_expect(t, "H\xc3\xa4user", "haus");
    tw_tokenizer_destroy(&t);
}
END_TEST

START_TEST(test_invalid_utf8)
{
    tw_tokenizer_t *t = s_new("", NULL);
    s_expect(t,
             "\xff\xfe"
             "abc\xc3",
             "abc");
    s_expect(t,
             "ab\xc0\xaf"
             "cd",
             "ab cd");                     /* overlong */
    s_expect(t, "x\xed\xa0\x80y", "x y");  /* surrogate */
    s_expect(t, "\xf4\x90\x80\x80z", "z"); /* > U+10FFFF */
    s_expect(t, "\xe6\x97", "");           /* truncated */
    const char nul[] = "a\0b";
    size_t len;
    const char *j = tw_tokenizer_join(t, nul, 3, &len);
    ck_assert_str_eq(j, "a b");
    tw_tokenizer_destroy(&t);
}
END_TEST

static bool s_count_two(const tw_token_t *tok, void *arg)
{
    (void)tok;
    int *n = arg;
    return ++*n < 2;
}

START_TEST(test_limits_and_callback)
{
    tw_tokenizer_opts_t o = {0};
    o.keep_stopwords = true;
    o.max_token_bytes = 8;
    tw_tokenizer_t *t = NULL;
    ck_assert_int_eq(tw_tokenizer_new(&t, &o, NULL), TW_OK);
    ck_assert_ptr_nonnull(t);
    s_expect(t, "short waytoolongword ok", "short ok");
    int n = 0;
    ck_assert_int_eq(tw_tokenizer_run(t, "a b c d e", 9, s_count_two, &n),
                     TW_OK);
    ck_assert_int_eq(n, 2);
    s_expect(t, "", "");
    const tw_token_t *toks;
    size_t cnt;
    ck_assert_int_eq(tw_tokenizer_tokens(t, "", 0, &toks, &cnt), TW_OK);
    ck_assert_uint_eq(cnt, 0);
    tw_tokenizer_destroy(&t);
}
END_TEST

Suite *tokenize_suite(void)
{
    Suite *s = suite_create("tokenize");
    TCase *tc = tcase_create("tokenize");
    tcase_set_timeout(tc, 10);
    tcase_add_test(tc, test_latin_accents);
    tcase_add_test(tc, test_turkish_i);
    tcase_add_test(tc, test_german_sharp_s);
    tcase_add_test(tc, test_japanese_bigrams);
    tcase_add_test(tc, test_korean_and_chinese);
    tcase_add_test(tc, test_arabic);
    tcase_add_test(tc, test_emoji);
    tcase_add_test(tc, test_urls);
    tcase_add_test(tc, test_mentions);
    tcase_add_test(tc, test_numbers);
    tcase_add_test(tc, test_stopwords);
    tcase_add_test(tc, test_stemming);
    tcase_add_test(tc, test_invalid_utf8);
    tcase_add_test(tc, test_limits_and_callback);
    tcase_add_test(tc, test_stopwords_unreadable_now);
    suite_add_tcase(s, tc);
    return s;
}
