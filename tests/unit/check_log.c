/* Unit tests of tw_log: redaction of secrets and credentials. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tw_log.h"
#include "tw_rc.h"

static void s_redacts(const char *in, const char *want)
{
    char buf[512];
    snprintf(buf, sizeof buf, "%s", in);
    tw_log_redact(buf, sizeof buf);
    ck_assert_str_eq(buf, want);
}

START_TEST(test_query_params_masked)
{
    s_redacts("GET /youtube/v3/videos?id=abc&key=AIzaSyXYZ&part=snippet",
              "GET /youtube/v3/videos?id=abc&key=***&part=snippet");
    s_redacts("refresh_token=1//0abc&client_secret=s3cr3t",
              "refresh_token=***&client_secret=***");
    s_redacts("monkey=banana", "monkey=banana");
}
END_TEST

START_TEST(test_bearer_and_bot_token_masked)
{
    s_redacts("Authorization: Bearer ya29.a0AfH6", "Authorization: Bearer ***");
    s_redacts("POST http://127.0.0.1:1/bot123456:ABC-DEF/sendMessage failed",
              "POST http://127.0.0.1:1/bot***/sendMessage failed");
}
END_TEST

START_TEST(test_registered_secret_masked)
{
    tw_log_add_secret("hunter2-very-secret");
    s_redacts("token hunter2-very-secret leaked twice hunter2-very-secret",
              "token *** leaked twice ***");
    tw_log_clear_secrets();
    s_redacts("hunter2-very-secret", "hunter2-very-secret");
}
END_TEST

START_TEST(test_redact_respects_capacity)
{
    char buf[8] = "key=ab";
    tw_log_redact(buf, sizeof buf);
    ck_assert_str_eq(buf, "key=***");
    char tiny[8] = "x key=a";
    tw_log_redact(tiny, sizeof tiny);
    ck_assert_uint_le(strlen(tiny), 7);
    ck_assert_ptr_null(strstr(tiny, "=a"));
}
END_TEST

/* A long-running worker registers every refreshed access token: the newest
 * one (and the first, long-lived secrets) must stay masked however many
 * came before. */
START_TEST(test_rotating_secrets_stay_masked)
{
    tw_log_add_secret("LONGLIVED-api-key-0001");
    char tok[64];
    for (int i = 0; i < 200; i++) {
        snprintf(tok, sizeof tok, "ya29.rotating-access-%03d", i);
        tw_log_add_secret(tok);
    }
    s_redacts("t ya29.rotating-access-199 k LONGLIVED-api-key-0001",
              "t *** k ***");
    tw_log_clear_secrets();
}
END_TEST

/* Error messages travel further than logs (control replies, notices sent
 * to Telegram, status): they are redacted when set. */
START_TEST(test_err_messages_redacted)
{
    tw_log_add_secret("1//refresh-secret-in-a-reply");
    tw_err_t err;
    tw_err_set(&err, "Google refused (invalid_grant: %s)",
               "bad token 1//refresh-secret-in-a-reply");
    ck_assert_str_eq(err.msg, "Google refused (invalid_grant: bad token ***)");
    tw_err_setpos(&err, 3, 4, "GET %s failed",
                  "https://x/youtube/v3/videos?id=a&key=AIzaSecret");
    ck_assert_str_eq(err.msg, "GET https://x/youtube/v3/videos?id=a&key=*** "
                              "failed");
    ck_assert_int_eq(err.line, 3);
    tw_log_clear_secrets();
}
END_TEST

/* Hostile text (a stream title, a chat author) logged as is must not forge
 * lines nor drive the terminal of whoever reads the log. */
START_TEST(test_control_chars_neutralised)
{
    char path[] = "/tmp/tw-check-log-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    int saved = dup(STDERR_FILENO);
    ck_assert_int_ge(saved, 0);
    dup2(fd, STDERR_FILENO);
    tw_log_info("title [%s] end", "a\nb\rc\x1b[31mred\x07\x7f\tt");
    dup2(saved, STDERR_FILENO);
    close(saved);
    char buf[512] = "";
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    close(fd);
    unlink(path);
    ck_assert_int_gt(n, 0);
    buf[n] = '\0';
    char *body = strstr(buf, "title [");
    ck_assert_ptr_nonnull(body);
    ck_assert_str_eq(body, "title [a b c?[31mred??\tt] end\n");
}
END_TEST

Suite *log_suite(void)
{
    Suite *s = suite_create("log");
    TCase *tc = tcase_create("redact");
    tcase_set_timeout(tc, 5);
    tcase_add_test(tc, test_query_params_masked);
    tcase_add_test(tc, test_bearer_and_bot_token_masked);
    tcase_add_test(tc, test_registered_secret_masked);
    tcase_add_test(tc, test_rotating_secrets_stay_masked);
    tcase_add_test(tc, test_err_messages_redacted);
    tcase_add_test(tc, test_control_chars_neutralised);
    tcase_add_test(tc, test_redact_respects_capacity);
    suite_add_tcase(s, tc);
    return s;
}
