/* Unit tests of the archive pass and its pieces: base64url and RS256 JWTs
 * (tw_gauth), md5 and query escaping (tw_drive), credential loading, the
 * manifest, deterministic zips and the uploaded.tsv journal. */
#include <check.h>
#include <signal.h>
#include <sys/resource.h>
#include <dirent.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zip.h>

#include "tw_archive.h"
#include "tw_drive.h"
#include "tw_gauth.h"
#include "tw_rc.h"
#include "tw_time.h"

static char s_dir[64];

static void s_setup(void)
{
    snprintf(s_dir, sizeof s_dir, "/tmp/tw-check-uploader-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(s_dir));
}

static void s_teardown(void)
{
    tw_test_rm_rf(s_dir);
}

/* Writes text to DIR/rel (making parents) with mode; returns the path. */
static const char *s_write(const char *rel, const char *text, mode_t mode)
{
    static char path[1024];
    snprintf(path, sizeof path, "%s/%s", s_dir, rel);
    for (char *p = path + strlen(s_dir) + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            mkdir(path, 0755);
            *p = '/';
        }
    }
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
    chmod(path, mode);
    return path;
}

/* ---- base64url and JWT -------------------------------------------- */

START_TEST(test_b64url)
{
    static const struct {
        const char *in, *out;
    } v[] = {{"", ""},
             {"f", "Zg"},
             {"fo", "Zm8"},
             {"foo", "Zm9v"},
             {"foob", "Zm9vYg"},
             {"fooba", "Zm9vYmE"},
             {"foobar", "Zm9vYmFy"},
             {"\xfb\xff", "-_8"}};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        char *s = tw_gauth_b64url(v[i].in, strlen(v[i].in));
        ck_assert_str_eq(s, v[i].out);
        free(s);
    }
}
END_TEST

/* Decodes base64url into out (NUL-terminated); returns the length. */
static int s_unb64(const char *s, size_t n, unsigned char *out, size_t cap)
{
    char buf[4096];
    ck_assert_uint_lt(n + 4, sizeof buf);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        buf[k++] = s[i] == '-' ? '+' : s[i] == '_' ? '/' : s[i];
    size_t pad = (4 - k % 4) % 4;
    for (size_t i = 0; i < pad; i++)
        buf[k++] = '=';
    buf[k] = '\0';
    ck_assert_uint_le(k / 4 * 3, cap);
    int len = EVP_DecodeBlock(out, (unsigned char *)buf, (int)k);
    ck_assert_int_ge(len, 0);
    len -= (int)pad;
    out[len] = '\0';
    return len;
}

static char *s_pem_key(EVP_PKEY **pub)
{
    EVP_PKEY *key = EVP_RSA_gen(2048);
    ck_assert_ptr_nonnull(key);
    BIO *b = BIO_new(BIO_s_mem());
    ck_assert_int_eq(
        PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL, NULL), 1);
    char *data = NULL;
    long n = BIO_get_mem_data(b, &data);
    char *pem = strndup(data, (size_t)n);
    BIO_free(b);
    *pub = key;
    return pem;
}

START_TEST(test_jwt_rs256)
{
    EVP_PKEY *key = NULL;
    char *pem = s_pem_key(&key);
    char *jwt = NULL;
    tw_err_t err = {0};
    ck_assert_int_eq(tw_gauth_jwt("sa@p.iam.gserviceaccount.com",
                                  TW_GAUTH_SCOPE_DRIVE_FILE, TW_GAUTH_AUD,
                                  1700000000, pem, &jwt, &err),
                     TW_OK);
    const char *d1 = strchr(jwt, '.');
    ck_assert_ptr_nonnull(d1);
    const char *d2 = strchr(d1 + 1, '.');
    ck_assert_ptr_nonnull(d2);
    ck_assert_ptr_null(strchr(d2 + 1, '.'));
    ck_assert_ptr_null(strchr(jwt, '='));
    unsigned char hdr[512], cl[1024], sig[512];
    s_unb64(jwt, (size_t)(d1 - jwt), hdr, sizeof hdr);
    ck_assert_str_eq((char *)hdr, "{\"alg\":\"RS256\",\"typ\":\"JWT\"}");
    s_unb64(d1 + 1, (size_t)(d2 - d1 - 1), cl, sizeof cl);
    ck_assert_str_eq(
        (char *)cl,
        "{\"iss\":\"sa@p.iam.gserviceaccount.com\",\"scope\":\"https://"
        "www.googleapis.com/auth/drive.file\",\"aud\":\"https://"
        "oauth2.googleapis.com/token\",\"iat\":1700000000,\"exp\":"
        "1700003600}");
    int slen = s_unb64(d2 + 1, strlen(d2 + 1), sig, sizeof sig);
    ck_assert_int_eq(slen, 256);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    ck_assert_int_eq(EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, key),
                     1);
    ck_assert_int_eq(EVP_DigestVerify(ctx, sig, (size_t)slen,
                                      (const unsigned char *)jwt,
                                      (size_t)(d2 - jwt)),
                     1);
    /* a flipped byte of the signed input must not verify */
    char *bad = strdup(jwt);
    bad[5] = bad[5] == 'A' ? 'B' : 'A';
    EVP_MD_CTX_reset(ctx);
    EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, key);
    ck_assert_int_ne(EVP_DigestVerify(ctx, sig, (size_t)slen,
                                      (const unsigned char *)bad,
                                      (size_t)(d2 - jwt)),
                     1);
    free(bad);
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(key);
    free(jwt);
    free(pem);
}
END_TEST

START_TEST(test_jwt_bad_key)
{
    char *jwt = NULL;
    tw_err_t err = {0};
    ck_assert_int_eq(
        tw_gauth_jwt("a@b", "s", "aud", 1, "not a key", &jwt, &err),
        TW_ERR_CONFIG);
    ck_assert_ptr_null(jwt);
    ck_assert_ptr_nonnull(strstr(err.msg, "private key"));
}
END_TEST

/* ---- credentials ---------------------------------------------------- */

START_TEST(test_gauth_credentials)
{
    char cs[1024], tok[1024];
    snprintf(cs, sizeof cs, "%s",
             s_write("cs.json",
                     "{\"web\":{\"client_id\":\"id\","
                     "\"client_secret\":\"sec1234\"}}",
                     0600));
    snprintf(tok, sizeof tok, "%s/token.json", s_dir);
    tw_cfg_drive_t d = {.client_secrets_file = cs,
                        .token_file = tok,
                        .service_account_file = "",
                        .oauth_base_url = "http://127.0.0.1:9"};
    tw_gauth_t *g = NULL;
    tw_err_t err = {0};
    /* no token yet: tells the user what to run */
    ck_assert_int_eq(tw_gauth_new(&g, &d, &err), TW_ERR_AUTH);
    ck_assert_ptr_nonnull(strstr(err.msg, "drive-auth"));
    /* a token readable by others is refused */
    s_write("token.json", "{\"refresh_token\":\"1//abcdef\"}", 0644);
    ck_assert_int_eq(tw_gauth_new(&g, &d, &err), TW_ERR_CONFIG);
    ck_assert_ptr_null(strstr(err.msg, "1//abcdef"));
    chmod(tok, 0600);
    ck_assert_int_eq(tw_gauth_new(&g, &d, &err), TW_OK);
    ck_assert_ptr_nonnull(g);
    ck_assert_uint_eq(tw_gauth_fetches(g), 0);
    /* the endpoint is unreachable: a temporary error, no secret shown */
    const char *at = NULL;
    tw_rc_t rc = tw_gauth_token(g, &at, &err);
    ck_assert(rc == TW_ERR_NET || rc == TW_ERR_TIMEOUT || rc == TW_ERR_AGAIN);
    ck_assert_ptr_null(strstr(err.msg, "1//abcdef"));
    ck_assert_ptr_null(strstr(err.msg, "sec1234"));
    tw_gauth_destroy(&g);
    tw_gauth_destroy(&g);
    /* a token file without refresh_token */
    s_write("token.json", "{\"other\":1}", 0600);
    ck_assert_int_eq(tw_gauth_new(&g, &d, &err), TW_ERR_AUTH);
    /* client secrets without a secret */
    s_write("cs.json", "{\"installed\":{\"client_id\":\"id\"}}", 0600);
    ck_assert_int_eq(tw_gauth_new(&g, &d, &err), TW_ERR_CONFIG);
    /* a service-account key without private_key */
    d.service_account_file =
        (char *)s_write("sa.json", "{\"client_email\":\"a@b\"}", 0600);
    ck_assert_int_eq(tw_gauth_new(&g, &d, &err), TW_ERR_CONFIG);
    ck_assert_ptr_nonnull(strstr(err.msg, "private_key"));
    s_write("sa.json", "[1,2]", 0600);
    ck_assert_int_eq(tw_gauth_new(&g, &d, &err), TW_ERR_CONFIG);
}
END_TEST

/* ---- drive helpers ------------------------------------------------ */

START_TEST(test_md5_and_escape)
{
    char hex[33];
    uint64_t size = 0;
    tw_err_t err = {0};
    const char *p = s_write("abc", "abc", 0644);
    ck_assert_int_eq(tw_drive_md5_file(p, hex, &size, &err), TW_OK);
    ck_assert_str_eq(hex, "900150983cd24fb0d6963f7d28e17f72");
    ck_assert_uint_eq(size, 3);
    p = s_write("empty", "", 0644);
    ck_assert_int_eq(tw_drive_md5_file(p, hex, &size, &err), TW_OK);
    ck_assert_str_eq(hex, "d41d8cd98f00b204e9800998ecf8427e");
    ck_assert_int_eq(tw_drive_md5_file("/nonexistent/x", hex, NULL, &err),
                     TW_ERR_NOTFOUND);
    char *q = tw_drive_q_escape("it's a\\b");
    ck_assert_str_eq(q, "it\\'s a\\\\b");
    free(q);
}
END_TEST

/* Drive ids from answers end up in URLs, queries and uploaded.tsv: only
 * Drive's own id alphabet passes. */
START_TEST(test_drive_id_ok)
{
    ck_assert(tw_drive_id_ok("1UrbUxnv6fDoF8VXTaNn3HgHNBONhkZZYQ"));
    ck_assert(tw_drive_id_ok("root"));
    ck_assert(tw_drive_id_ok("0B_a-b"));
    ck_assert(!tw_drive_id_ok(""));
    ck_assert(!tw_drive_id_ok("abc\tdef"));
    ck_assert(!tw_drive_id_ok("abc\ndef"));
    ck_assert(!tw_drive_id_ok("../../etc"));
    ck_assert(!tw_drive_id_ok("a' or name='x"));
    ck_assert(!tw_drive_id_ok("a&b=c"));
    char big[200];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    ck_assert(!tw_drive_id_ok(big));
}
END_TEST

/* ---- manifest and zip --------------------------------------------- */

static void s_day_tree(void)
{
    s_write("data/comments/2026-11-20/UCb/v2.tsv", "h\nl1\nl2\n", 0644);
    s_write("data/comments/2026-11-20/UCa/v1.tsv", "abc", 0644);
    s_write("data/comments/2026-11-20/UCa/v1.tsv.tmp.12.3", "junk", 0644);
    s_write("data/viewers/2026-11-20/UCa/v1.tsv", "h\n", 0644);
    s_write("data/stats/2026-11-20/UCa.tsv", "h\nx\n", 0644);
    s_write("data/stats/2026-11-21/UCa.tsv", "other day\n", 0644);
}

START_TEST(test_manifest)
{
    s_day_tree();
    char data[128];
    snprintf(data, sizeof data, "%s/data", s_dir);
    tw_archive_entries_t e;
    tw_err_t err = {0};
    ck_assert_int_eq(tw_archive_collect(data, "2026-11-20", &e, &err), TW_OK);
    ck_assert_uint_eq(e.n, 4);
    ck_assert_str_eq(e.v[0].rel, "comments/2026-11-20/UCa/v1.tsv");
    ck_assert_str_eq(e.v[1].rel, "comments/2026-11-20/UCb/v2.tsv");
    ck_assert_str_eq(e.v[2].rel, "stats/2026-11-20/UCa.tsv");
    ck_assert_str_eq(e.v[3].rel, "viewers/2026-11-20/UCa/v1.tsv");
    ck_assert_uint_eq(e.v[0].lines, 0);
    ck_assert_uint_eq(e.v[0].size, 3);
    ck_assert_str_eq(
        e.v[0].sha256,
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    ck_assert_uint_eq(e.v[1].lines, 3);
    char *m = tw_archive_manifest_json("2026-11-20", &e);
    ck_assert_ptr_nonnull(m);
    ck_assert_ptr_nonnull(strstr(m, "\"date\": \"2026-11-20\""));
    ck_assert_ptr_nonnull(strstr(m, "\"total_files\": 4"));
    ck_assert_ptr_nonnull(strstr(m, "\"total_lines\": 6"));
    ck_assert_ptr_null(strstr(m, "tmp"));
    free(m);
    tw_archive_entries_free(&e);
    ck_assert_int_eq(tw_archive_collect(data, "2026-11-19", &e, &err), TW_OK);
    ck_assert_uint_eq(e.n, 0);
    tw_archive_entries_free(&e);
    ck_assert_int_eq(tw_archive_collect(data, "../etc", &e, &err),
                     TW_ERR_INVALID);
    ck_assert(!tw_archive_valid_date("2026-13-01"));
    ck_assert(!tw_archive_valid_date("2026-1-01"));
    ck_assert(tw_archive_valid_date("2024-02-29"));
}
END_TEST

/* The day tree's entries of 2026-11-20 in *e; returns their manifest
 * (caller frees). */
static char *s_day_entries(tw_archive_entries_t *e)
{
    s_day_tree();
    char data[128];
    snprintf(data, sizeof data, "%s/data", s_dir);
    tw_err_t err = {0};
    ck_assert_int_eq(tw_archive_collect(data, "2026-11-20", e, &err), TW_OK);
    return tw_archive_manifest_json("2026-11-20", e);
}

START_TEST(test_zip_deterministic)
{
    char z1[160], z2[160];
    snprintf(z1, sizeof z1, "%s/a.zip", s_dir);
    snprintf(z2, sizeof z2, "%s/b.zip", s_dir);
    tw_archive_entries_t e;
    tw_err_t err = {0};
    char *m = s_day_entries(&e);
    ck_assert_int_eq(
        tw_archive_zip_write(z1, "2026-11-20", &e, m, NULL, NULL, &err), TW_OK);
    ck_assert_int_eq(
        tw_archive_zip_write(z2, "2026-11-20", &e, m, NULL, NULL, &err), TW_OK);
    char h1[33], h2[33];
    ck_assert_int_eq(tw_drive_md5_file(z1, h1, NULL, &err), TW_OK);
    ck_assert_int_eq(tw_drive_md5_file(z2, h2, NULL, &err), TW_OK);
    ck_assert_str_eq(h1, h2);
    int zerr = 0;
    zip_t *za = zip_open(z1, ZIP_RDONLY, &zerr);
    ck_assert_ptr_nonnull(za);
    ck_assert_int_eq(zip_get_num_entries(za, 0), 5);
    zip_stat_t st;
    ck_assert_int_eq(zip_stat(za, TW_ARCHIVE_MANIFEST, 0, &st), 0);
    ck_assert_uint_eq(st.size, strlen(m));
    zip_file_t *zf = zip_fopen(za, TW_ARCHIVE_MANIFEST, 0);
    char *buf = calloc(1, st.size + 1);
    ck_assert_int_eq(zip_fread(zf, buf, st.size), (zip_int64_t)st.size);
    ck_assert_str_eq(buf, m);
    free(buf);
    zip_fclose(zf);
    ck_assert_int_eq(zip_stat(za, "comments/2026-11-20/UCb/v2.tsv", 0, &st), 0);
    ck_assert_uint_eq(st.size, 8);
    ck_assert_int_eq(st.comp_method, ZIP_CM_DEFLATE);
    zip_close(za);
    /* no temporary file left */
    DIR *d = opendir(s_dir);
    struct dirent *de;
    while ((de = readdir(d)) != NULL)
        ck_assert_ptr_null(strstr(de->d_name, ".tmp."));
    closedir(d);
    free(m);
    tw_archive_entries_free(&e);
}
END_TEST

/* libzip's failures name the system call behind them (past a file size
 * limit: EFBIG). */
START_TEST(test_zip_error_names_the_call)
{
    char z[160];
    snprintf(z, sizeof z, "%s/c.zip", s_dir);
    tw_archive_entries_t e;
    tw_err_t err = {0};
    char *m = s_day_entries(&e);
    struct rlimit old;
    int lim = tw_test_limit_fsize(64, &old);
    tw_rc_t rc = tw_archive_zip_write(z, "2026-11-20", &e, m, NULL, NULL, &err);
    tw_test_limit_restore(RLIMIT_FSIZE, &old);
    ck_assert_int_eq(lim, 0);
    ck_assert_int_eq(rc, TW_ERR_IO);
    /* libzip reports it as its seek or its write */
    ck_assert_msg(strstr(err.msg, ": seek: ") || strstr(err.msg, ": write: "),
                  "%s", err.msg);
    ck_assert_msg(strstr(err.msg, "File too large"), "%s", err.msg);
    ck_assert_int_ne(access(z, F_OK), 0);
    free(m);
    tw_archive_entries_free(&e);
}
END_TEST

/* ---- journal ------------------------------------------------------ */

START_TEST(test_state_roundtrip)
{
    char path[160];
    snprintf(path, sizeof path, "%s/uploaded.tsv", s_dir);
    tw_archive_state_t *st = NULL;
    tw_err_t err = {0};
    ck_assert_int_eq(tw_archive_state_load(path, &st, &err), TW_OK);
    ck_assert_uint_eq(tw_archive_state_count(st), 0);
    tw_archive_day_t *d = tw_archive_state_get(st, "2026-11-20", true);
    d->phase = TW_ARCHIVE_SESSION;
    d->size = 1234;
    snprintf(d->md5, sizeof d->md5, "%s", "900150983cd24fb0d6963f7d28e17f72");
    snprintf(d->session, sizeof d->session, "%s",
             "http://h/upload?upload_id=xyz");
    d = tw_archive_state_get(st, "2026-11-18", true);
    d->phase = TW_ARCHIVE_UPLOADED;
    snprintf(d->file_id, sizeof d->file_id, "%s", "1abc");
    ck_assert_ptr_null(tw_archive_state_get(st, "2026-11-19", false));
    ck_assert_ptr_null(tw_archive_state_get(st, "bad", true));
    ck_assert_int_eq(tw_archive_state_save(st, &err), TW_OK);
    tw_archive_state_destroy(&st);
    struct stat sb;
    ck_assert_int_eq(stat(path, &sb), 0);
    ck_assert_int_eq(sb.st_mode & 0777, 0600);
    /* append garbage: skipped on load */
    FILE *f = fopen(path, "a");
    fputs("2026-11-21\tbogus\t1\t\t\t\t\nnot a line\n", f);
    fclose(f);
    ck_assert_int_eq(tw_archive_state_load(path, &st, &err), TW_OK);
    ck_assert_uint_eq(tw_archive_state_count(st), 2);
    ck_assert_str_eq(tw_archive_state_at(st, 0)->date, "2026-11-18");
    d = tw_archive_state_get(st, "2026-11-20", false);
    ck_assert_ptr_nonnull(d);
    ck_assert_int_eq(d->phase, TW_ARCHIVE_SESSION);
    ck_assert_uint_eq(d->size, 1234);
    ck_assert_str_eq(d->session, "http://h/upload?upload_id=xyz");
    ck_assert_str_eq(tw_archive_state_get(st, "2026-11-18", false)->file_id,
                     "1abc");
    ck_assert_str_eq(tw_archive_phase_name(TW_ARCHIVE_DELETED), "deleted");
    tw_archive_state_destroy(&st);
    tw_archive_state_destroy(&st);
}
END_TEST

/* ---- a pass, one day per step -------------------------------------- */

START_TEST(test_pass_one_day_per_step)
{
    s_day_tree(); /* 2026-11-20 and 2026-11-21 */
    s_write("data/comments/2026-11-25/UCa/v9.tsv", "h\ntoday\n", 0644);
    char data[128], state[128];
    snprintf(data, sizeof data, "%s/data", s_dir);
    snprintf(state, sizeof state, "%s/state", s_dir);
    tw_cfg_t cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.supervisor.data_dir = data;
    cfg.supervisor.state_dir = state;
    cfg.supervisor.timezone = "UTC";
    int64_t now_us = 0;
    ck_assert_int_eq(tw_time_parse_date("2026-11-25", &now_us, NULL), TW_OK);
    tw_archive_opts_t o = {.cfg = &cfg, .now_us = now_us + 3600LL * 1000000};
    tw_archive_report_t rep;
    tw_archive_pass_t *pass = NULL;
    tw_err_t err = {0};
    ck_assert_int_eq(tw_archive_pass_new(&pass, &o, &rep, &err), TW_OK);
    /* A second pass waits for the lock; with no_wait it is refused. */
    tw_archive_opts_t o2 = o;
    o2.no_wait = true;
    tw_archive_report_t rep2;
    tw_archive_pass_t *pass2 = NULL;
    ck_assert_int_eq(tw_archive_pass_new(&pass2, &o2, &rep2, &err),
                     TW_ERR_AGAIN);
    ck_assert_ptr_null(pass2);
    /* Two closed days: one zip per step; today's is left alone. */
    bool done = false;
    ck_assert_int_eq(tw_archive_pass_step(pass, &done, &err), TW_OK);
    ck_assert(!done);
    ck_assert_uint_eq(rep.zipped, 1);
    char zip[200];
    snprintf(zip, sizeof zip, "%s/archive/2026-11-20.zip", data);
    ck_assert_int_eq(access(zip, F_OK), 0);
    snprintf(zip, sizeof zip, "%s/archive/2026-11-21.zip", data);
    ck_assert_int_ne(access(zip, F_OK), 0);
    ck_assert_int_eq(tw_archive_pass_step(pass, &done, &err), TW_OK);
    ck_assert(done);
    ck_assert_uint_eq(rep.zipped, 2);
    ck_assert_int_eq(access(zip, F_OK), 0);
    snprintf(zip, sizeof zip, "%s/archive/2026-11-25.zip", data);
    ck_assert_int_ne(access(zip, F_OK), 0);
    ck_assert_int_eq(tw_archive_pass_end(&pass, &err), TW_OK);
    ck_assert_ptr_null(pass);
    /* The lock is free again; the zips are there: two steps (one per
     * closed day, without Drive they stay pending), nothing zipped. */
    ck_assert_int_eq(tw_archive_pass_new(&pass2, &o2, &rep2, &err), TW_OK);
    int steps = 0;
    for (done = false; !done; steps++)
        ck_assert_int_eq(tw_archive_pass_step(pass2, &done, &err), TW_OK);
    ck_assert_int_eq(steps, 2);
    ck_assert_uint_eq(rep2.zipped, 0);
    tw_archive_pass_destroy(&pass2);
    ck_assert_ptr_null(pass2);
    /* tw_archive_run is the same pass in one call. */
    ck_assert_int_eq(tw_archive_run(&o, &rep, &err), TW_OK);
    ck_assert_uint_eq(rep.zipped, 0);
}
END_TEST

Suite *archive_suite(void)
{
    Suite *s = suite_create("archive");
    TCase *tc = tcase_create("gauth");
    tcase_set_timeout(tc, 20);
    tcase_add_checked_fixture(tc, s_setup, s_teardown);
    tcase_add_test(tc, test_b64url);
    tcase_add_test(tc, test_jwt_rs256);
    tcase_add_test(tc, test_jwt_bad_key);
    tcase_add_test(tc, test_gauth_credentials);
    suite_add_tcase(s, tc);
    tc = tcase_create("drive");
    tcase_set_timeout(tc, 10);
    tcase_add_checked_fixture(tc, s_setup, s_teardown);
    tcase_add_test(tc, test_md5_and_escape);
    tcase_add_test(tc, test_drive_id_ok);
    suite_add_tcase(s, tc);
    tc = tcase_create("archive");
    tcase_set_timeout(tc, 10);
    tcase_add_checked_fixture(tc, s_setup, s_teardown);
    tcase_add_test(tc, test_manifest);
    tcase_add_test(tc, test_zip_deterministic);
    tcase_add_test(tc, test_zip_error_names_the_call);
    tcase_add_test(tc, test_state_roundtrip);
    tcase_add_test(tc, test_pass_one_day_per_step);
    suite_add_tcase(s, tc);
    return s;
}
