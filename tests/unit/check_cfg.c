/* Unit tests of tw_cfg: defaults, types, unknown keys, secrets, deps. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tw_cfg.h"
#include "tw_log.h"

static char s_dir[64];

static void s_setup(void)
{
    snprintf(s_dir, sizeof s_dir, "/tmp/tw-cfg-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(s_dir));
}

static void s_teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", s_dir);
    ck_assert_int_eq(system(cmd), 0);
}

static const char *s_write(const char *name, const char *text, mode_t mode)
{
    static char path[128];
    snprintf(path, sizeof path, "%s/%s", s_dir, name);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
    chmod(path, mode);
    return path;
}

/* Loads text; returns the config or NULL, with the problems joined. */
static tw_cfg_t *s_load(const char *text, char *problems, size_t cap)
{
    const char *path = s_write("t.toml", text, 0600);
    tw_cfg_problem_t *p = NULL;
    size_t n = 0;
    tw_cfg_t *cfg = tw_cfg_load(path, &p, &n);
    problems[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        char line[512];
        snprintf(line, sizeof line, "%d:%d: %s\n", p[i].line, p[i].col,
                 p[i].msg);
        strncat(problems, line, cap - strlen(problems) - 1);
    }
    free(p);
    return cfg;
}

/* A file that cannot be read now (EMFILE) is a temporary problem, worth
 * trying again (exit 111); a missing file or bad TOML is not (100). */
START_TEST(test_unreadable_now_is_temporary)
{
    char path[128];
    snprintf(path, sizeof path, "%s", s_write("t.toml", "", 0600));
    tw_cfg_problem_t *p = NULL;
    size_t n = 0;
    struct rlimit old;
    int lim = tw_test_limit_fds(&old);
    tw_cfg_t *cfg = tw_cfg_load(path, &p, &n);
    tw_test_limit_restore(RLIMIT_NOFILE, &old);
    ck_assert_int_eq(lim, 0);
    ck_assert_ptr_null(cfg);
    ck_assert_uint_ge(n, 1);
    ck_assert_ptr_nonnull(strstr(p[0].msg, "Too many open files"));
    ck_assert(tw_cfg_problems_temporary(p, n));
    free(p);
    /* the same file, readable: fine */
    cfg = tw_cfg_load(path, &p, &n);
    ck_assert_ptr_nonnull(cfg);
    tw_cfg_destroy(&cfg);
    free(p);
    /* missing, or not TOML: the operator's to fix */
    char missing[160];
    snprintf(missing, sizeof missing, "%s/missing.toml", s_dir);
    ck_assert_ptr_null(tw_cfg_load(missing, &p, &n));
    ck_assert(!tw_cfg_problems_temporary(p, n));
    free(p);
    ck_assert_ptr_null(
        tw_cfg_load(s_write("bad.toml", "a = [\n", 0600), &p, &n));
    ck_assert(!tw_cfg_problems_temporary(p, n));
    free(p);
}
END_TEST

START_TEST(test_example_config_is_valid)
{
    tw_cfg_problem_t *p = NULL;
    size_t n = 0;
    tw_cfg_t *cfg = tw_cfg_load("supervisor.toml", &p, &n);
    if (!cfg)
        tw_cfg_print_problems(stderr, "supervisor.toml", p, n);
    ck_assert_ptr_nonnull(cfg);
    ck_assert_uint_eq(n, 0);
    ck_assert_ptr_nonnull(tw_cfg_worker(cfg, "scanner"));
    const tw_cfg_worker_t *chat = tw_cfg_worker(cfg, "chat");
    ck_assert_ptr_nonnull(chat);
    ck_assert(chat->is_template);
    ck_assert_int_eq(chat->restart, TW_RESTART_TRANSIENT);
    ck_assert_uint_eq(cfg->scanner.lead_time_ms, 300000);
    ck_assert_uint_eq(cfg->supervisor.log_max_size, 10u * 1024 * 1024);
    ck_assert_uint_eq(cfg->notify.nrules, 1);
    ck_assert_str_eq(cfg->notify.rules[0].template_text,
                     "Video: {title} | Likes changed: {prev} -> {curr}");
    tw_cfg_destroy(&cfg);
    ck_assert_ptr_null(cfg);
}
END_TEST

START_TEST(test_defaults_and_relative_paths)
{
    char pr[2048];
    tw_cfg_t *cfg = s_load("[supervisor]\nstate_dir = \"st\"\n"
                           "[worker.writer]\n",
                           pr, sizeof pr);
    ck_assert_msg(cfg != NULL, "%s", pr);
    char want[128];
    snprintf(want, sizeof want, "%s/st", s_dir);
    char *real = realpath(s_dir, NULL);
    snprintf(want, sizeof want, "%s/st", real);
    free(real);
    ck_assert_str_eq(cfg->supervisor.state_dir, want);
    const tw_cfg_worker_t *w = tw_cfg_worker(cfg, "writer");
    ck_assert_str_eq(w->kind, "writer");
    ck_assert_uint_eq(w->restart_delay_ms, 100);
    ck_assert_uint_eq(w->max_restarts, 10);
    ck_assert_uint_eq(cfg->writer.fsync_interval_ms, 0);
    ck_assert_int_eq(w->restart, TW_RESTART_PERMANENT);
    tw_cfg_destroy(&cfg);
    /* A template's instances finish: transient unless said otherwise. */
    cfg = s_load("[defaults]\nrestart = \"permanent\"\n[worker.chat]\n", pr,
                 sizeof pr);
    ck_assert_msg(cfg != NULL, "%s", pr);
    ck_assert_int_eq(tw_cfg_worker(cfg, "chat")->restart, TW_RESTART_TRANSIENT);
    tw_cfg_destroy(&cfg);
    cfg = s_load("[worker.chat]\nrestart = \"permanent\"\n", pr, sizeof pr);
    ck_assert_msg(cfg != NULL, "%s", pr);
    ck_assert_int_eq(tw_cfg_worker(cfg, "chat")->restart, TW_RESTART_PERMANENT);
    ck_assert_uint_eq(cfg->writer.formats.len, 1);
    tw_cfg_destroy(&cfg);
}
END_TEST

START_TEST(test_type_error_has_position)
{
    char pr[2048];
    tw_cfg_t *cfg =
        s_load("[supervisor]\nlog_keep = \"five\"\n", pr, sizeof pr);
    ck_assert_ptr_null(cfg);
    ck_assert_msg(strstr(pr, "2:12: 'log_keep' in [supervisor] must be an "
                             "integer, not string") != NULL,
                  "%s", pr);
}
END_TEST

START_TEST(test_shard_and_watch_list_bounds)
{
    char pr[2048];
    tw_cfg_t *cfg = s_load("[worker.scanner]\n[worker.stats]\n", pr, sizeof pr);
    ck_assert_msg(cfg != NULL, "%s", pr);
    ck_assert_uint_eq(cfg->scanner.shard_k, 1);
    ck_assert_uint_eq(cfg->scanner.shard_n, 1);
    ck_assert_uint_eq(cfg->stats.uploads_max_age_ms, UINT64_C(30) * 86400000);
    ck_assert_uint_eq(cfg->stats.uploads_max, 50);
    tw_cfg_destroy(&cfg);
    cfg = s_load("[worker.scanner]\nshard = \"2/3\"\n[worker.stats]\n"
                 "uploads_max_age = \"0\"\nuploads_max = 0\n",
                 pr, sizeof pr);
    ck_assert_msg(cfg != NULL, "%s", pr);
    ck_assert_uint_eq(cfg->scanner.shard_k, 2);
    ck_assert_uint_eq(cfg->scanner.shard_n, 3);
    ck_assert_uint_eq(cfg->stats.uploads_max_age_ms, 0);
    ck_assert_uint_eq(cfg->stats.uploads_max, 0);
    tw_cfg_destroy(&cfg);
    const char *bad[] = {"0/3", "4/3", "3", "1/0", "a/b", "1/3x", "-1/3"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char text[128];
        snprintf(text, sizeof text, "[worker.scanner]\nshard = \"%s\"\n",
                 bad[i]);
        cfg = s_load(text, pr, sizeof pr);
        ck_assert_ptr_null(cfg);
        ck_assert_msg(strstr(pr, "[worker.scanner] shard must be \"K/N\"") !=
                          NULL,
                      "%s: %s", bad[i], pr);
    }
}
END_TEST

START_TEST(test_unknown_key_did_you_mean)
{
    char pr[2048];
    tw_cfg_t *cfg =
        s_load("[worker.scanner]\nscan_intervall = \"5m\"\n", pr, sizeof pr);
    ck_assert_ptr_null(cfg);
    ck_assert_msg(strstr(pr, "2:1: unknown key 'scan_intervall' in "
                             "[worker.scanner] (did you mean "
                             "'scan_interval'?)") != NULL,
                  "%s", pr);
    cfg = s_load("[supervisr]\n", pr, sizeof pr);
    ck_assert_ptr_null(cfg);
    ck_assert_msg(strstr(pr, "did you mean 'supervisor'") != NULL, "%s", pr);
}
END_TEST

START_TEST(test_kind_specific_keys_stay_in_their_kind)
{
    char pr[2048];
    tw_cfg_t *cfg =
        s_load("[worker.writer]\nlead_time = \"5m\"\n", pr, sizeof pr);
    ck_assert_ptr_null(cfg);
    ck_assert_msg(strstr(pr, "unknown key 'lead_time' in [worker.writer]"),
                  "%s", pr);
}
END_TEST

START_TEST(test_secret_file_permissions)
{
    char pr[2048];
    s_write("token", "123:ABCDEF\n", 0644);
    tw_cfg_t *cfg = s_load("[telegram]\nbot_token_file = \"token\"\n"
                           "chat_ids = [42]\n",
                           pr, sizeof pr);
    ck_assert_ptr_null(cfg);
    ck_assert_msg(strstr(pr, "is readable by group or others (mode 0644)"),
                  "%s", pr);
    ck_assert_ptr_null(strstr(pr, "ABCDEF"));
    s_write("token", "123:ABCDEF\n", 0600);
    cfg = s_load("[telegram]\nbot_token_file = \"token\"\nchat_ids = [42]\n",
                 pr, sizeof pr);
    ck_assert_msg(cfg != NULL, "%s", pr);
    ck_assert_str_eq(cfg->telegram.bot_token, "123:ABCDEF");
    ck_assert_str_eq(cfg->telegram.chat_ids.v[0], "42");
    tw_cfg_destroy(&cfg);
}
END_TEST

/* Every process that loads the config (tubewatchd, the CLI, workers) masks
 * its secrets in logs and error messages from then on. */
START_TEST(test_loaded_secrets_registered)
{
    char pr[2048];
    s_write("key", "AIzaFromAFile0123456789\n", 0600);
    tw_cfg_t *cfg = s_load("[youtube]\napi_key_file = \"key\"\n"
                           "user_agent = \"Agent Smith\"\n"
                           "[telegram]\nbot_token = \"987:InlineBotTok\"\n"
                           "chat_ids = [42]\n"
                           "[drive]\nfolder_name = \"tubewatch demo\"\n",
                           pr, sizeof pr);
    ck_assert_msg(cfg != NULL, "%s", pr);
    char buf[200] = "k AIzaFromAFile0123456789 t 987:InlineBotTok.";
    tw_log_redact(buf, sizeof buf);
    ck_assert_str_eq(buf, "k *** t ***.");
    /* plain strings are not secrets: a Drive folder name stays readable */
    char plain[200] = "created Drive folder 'tubewatch demo' as Agent Smith";
    tw_log_redact(plain, sizeof plain);
    ck_assert_str_eq(plain,
                     "created Drive folder 'tubewatch demo' as Agent Smith");
    tw_cfg_destroy(&cfg);
    tw_log_clear_secrets();
}
END_TEST

START_TEST(test_ranges_and_durations)
{
    char pr[2048];
    tw_cfg_t *cfg = s_load("[worker.scanner]\nscan_interval = \"5 minutes\"\n"
                           "max_restarts = 0\nrestart = \"always\"\n",
                           pr, sizeof pr);
    ck_assert_ptr_null(cfg);
    ck_assert_msg(strstr(pr, "must be a duration"), "%s", pr);
    ck_assert_msg(strstr(pr, "'max_restarts' is out of range"), "%s", pr);
    ck_assert_msg(strstr(pr, "'restart' must be \"permanent\""), "%s", pr);
    uint64_t ms;
    ck_assert_int_eq(tw_cfg_parse_duration("1h30m", &ms), TW_OK);
    ck_assert_uint_eq(ms, 5400000);
    ck_assert_int_eq(tw_cfg_parse_duration("250ms", &ms), TW_OK);
    ck_assert_uint_eq(ms, 250);
    ck_assert_int_eq(tw_cfg_parse_duration("5", &ms), TW_ERR_INVALID);
    ck_assert_int_eq(tw_cfg_parse_duration("99999999999999999999s", &ms),
                     TW_ERR_INVALID);
}
END_TEST

START_TEST(test_dependencies_checked)
{
    char pr[2048];
    tw_cfg_t *cfg = s_load("[worker.a]\ncommand = [\"/bin/true\"]\n"
                           "after = [\"b\"]\n"
                           "[worker.b]\ncommand = [\"/bin/true\"]\n"
                           "after = [\"a\"]\n"
                           "[worker.c]\ncommand = [\"/bin/true\"]\n"
                           "after = [\"nobody\"]\n",
                           pr, sizeof pr);
    ck_assert_ptr_null(cfg);
    ck_assert_msg(strstr(pr, "[worker.a] is part of a dependency cycle"), "%s",
                  pr);
    ck_assert_msg(strstr(pr, "runs after 'nobody', which is not a worker"),
                  "%s", pr);
}
END_TEST

START_TEST(test_command_worker_and_syntax_error)
{
    char pr[2048];
    tw_cfg_t *cfg =
        s_load("[worker.extra]\ncommand = [\"bin/x\"]\n", pr, sizeof pr);
    ck_assert_ptr_null(cfg);
    ck_assert_msg(strstr(pr, "must start with an absolute path"), "%s", pr);
    cfg = s_load("[worker.extra]\ncommand = [\"/bin/sleep\", \"1\"]\n"
                 "stop_signal = \"INT\"\n",
                 pr, sizeof pr);
    ck_assert_msg(cfg != NULL, "%s", pr);
    const tw_cfg_worker_t *w = tw_cfg_worker(cfg, "extra");
    ck_assert_str_eq(w->kind, "");
    ck_assert_uint_eq(w->command.len, 2);
    tw_cfg_destroy(&cfg);
    cfg = s_load("[supervisor\n", pr, sizeof pr);
    ck_assert_ptr_null(cfg);
    ck_assert_msg(strncmp(pr, "1:", 2) == 0, "%s", pr);
}
END_TEST
/* [kafka]: off adds no worker; on adds the kafka worker; its secrets come
 * from 0600 files and are masked; sasl_ssl needs its credentials. */
START_TEST(test_kafka_section)
{
    char pr[2048];
    tw_cfg_t *cfg = s_load("[worker.writer]\n", pr, sizeof pr);
    ck_assert_msg(cfg != NULL, "%s", pr);
    ck_assert_ptr_null(tw_cfg_worker(cfg, "kafka"));
    ck_assert(!cfg->kafka.enabled);
    ck_assert_str_eq(cfg->kafka.topic_videos, "yt_videos");
    tw_cfg_destroy(&cfg);

    s_write("kpw", "kafka-Secret-123\n", 0600);
    s_write("rpw", "registry-Secret-456\n", 0600);
    cfg = s_load("[defaults]\nwatchdog_timeout = \"30s\"\n"
                 "[kafka]\nenabled = true\nbrokers = \"b1:9092\"\n"
                 "security_protocol = \"sasl_ssl\"\n"
                 "sasl_username = \"KEY\"\nsasl_password_file = \"kpw\"\n"
                 "schema_registry_user = \"RKEY\"\n"
                 "schema_registry_password_file = \"rpw\"\n",
                 pr, sizeof pr);
    ck_assert_msg(cfg != NULL, "%s", pr);
    const tw_cfg_worker_t *w = tw_cfg_worker(cfg, "kafka");
    ck_assert_ptr_nonnull(w);
    ck_assert_str_eq(w->kind, "kafka");
    ck_assert(w->enabled);
    ck_assert_uint_eq(w->watchdog_timeout_ms, 30000); /* [defaults] apply */
    ck_assert_str_eq(cfg->kafka.sasl_password, "kafka-Secret-123");
    char line[200] = "pw kafka-Secret-123 reg registry-Secret-456";
    tw_log_redact(line, sizeof line);
    ck_assert_str_eq(line, "pw *** reg ***");
    tw_cfg_destroy(&cfg);
    tw_log_clear_secrets();

    s_write("kpw", "kafka-Secret-123\n", 0644);
    cfg = s_load("[kafka]\nenabled = true\nsecurity_protocol = \"sasl_ssl\"\n"
                 "sasl_username = \"KEY\"\nsasl_password_file = \"kpw\"\n",
                 pr, sizeof pr);
    ck_assert_ptr_null(cfg);
    ck_assert_msg(strstr(pr, "readable by group or others"), "%s", pr);
    cfg = s_load("[kafka]\nenabled = true\nsecurity_protocol = \"sasl_ssl\"\n"
                 "topic_chat = \"bad topic\"\nformat = \"xml\"\n",
                 pr, sizeof pr);
    ck_assert_ptr_null(cfg);
    ck_assert_msg(strstr(pr, "needs sasl_username"), "%s", pr);
    ck_assert_msg(strstr(pr, "topic 'bad topic'"), "%s", pr);
    ck_assert_msg(strstr(pr, "'format' may not be \"xml\""), "%s", pr);
    /* sasl_plaintext (PLAIN without TLS) takes the same credentials; an
     * inline password is masked in logs like one from a file. */
    s_write("kpw", "kafka-Secret-123\n", 0600);
    cfg = s_load("[kafka]\nenabled = true\nbrokers = \"b1:9092\"\n"
                 "security_protocol = \"sasl_plaintext\"\n"
                 "sasl_username = \"KEY\"\nsasl_password_file = \"kpw\"\n",
                 pr, sizeof pr);
    ck_assert_msg(cfg != NULL, "%s", pr);
    ck_assert_str_eq(cfg->kafka.security_protocol, "sasl_plaintext");
    ck_assert_str_eq(cfg->kafka.sasl_mechanism, "PLAIN");
    ck_assert_str_eq(cfg->kafka.sasl_password, "kafka-Secret-123");
    tw_cfg_destroy(&cfg);
    tw_log_clear_secrets();
    cfg = s_load("[kafka]\nenabled = true\nbrokers = \"b1:9092\"\n"
                 "security_protocol = \"sasl_plaintext\"\n",
                 pr, sizeof pr);
    ck_assert_ptr_null(cfg);
    ck_assert_msg(strstr(pr, "sasl_plaintext needs sasl_username"), "%s", pr);
    cfg = s_load("[kafka]\nenabled = true\nbrokers = \"b1:9092\"\n"
                 "security_protocol = \"sasl_plaintext\"\n"
                 "sasl_username = \"KEY\"\n"
                 "sasl_password = \"inline-Secret-5\"\n",
                 pr, sizeof pr);
    ck_assert_msg(cfg != NULL, "%s", pr);
    char masked[64] = "pw inline-Secret-5";
    tw_log_redact(masked, sizeof masked);
    ck_assert_str_eq(masked, "pw ***");
    tw_cfg_destroy(&cfg);
    tw_log_clear_secrets();
    cfg = s_load("[kafka]\nenabled = true\nbrokers = \"b1:9092\"\n"
                 "security_protocol = \"sasl_tls\"\n",
                 pr, sizeof pr);
    ck_assert_ptr_null(cfg);
    ck_assert_msg(strstr(pr, "may not be \"sasl_tls\""), "%s", pr);
    /* A declared kafka worker is not started while [kafka] is off. */
    cfg = s_load("[worker.kafka]\nkind = \"kafka\"\n", pr, sizeof pr);
    ck_assert_msg(cfg != NULL, "%s", pr);
    ck_assert(!tw_cfg_worker(cfg, "kafka")->enabled);
    tw_cfg_destroy(&cfg);
}
END_TEST

Suite *cfg_suite(void)
{
    Suite *s = suite_create("cfg");
    TCase *tc = tcase_create("load");
    tcase_set_timeout(tc, 10);
    tcase_add_checked_fixture(tc, s_setup, s_teardown);
    tcase_add_test(tc, test_example_config_is_valid);
    tcase_add_test(tc, test_defaults_and_relative_paths);
    tcase_add_test(tc, test_type_error_has_position);
    tcase_add_test(tc, test_unknown_key_did_you_mean);
    tcase_add_test(tc, test_shard_and_watch_list_bounds);
    tcase_add_test(tc, test_kind_specific_keys_stay_in_their_kind);
    tcase_add_test(tc, test_secret_file_permissions);
    tcase_add_test(tc, test_loaded_secrets_registered);
    tcase_add_test(tc, test_ranges_and_durations);
    tcase_add_test(tc, test_dependencies_checked);
    tcase_add_test(tc, test_command_worker_and_syntax_error);
    tcase_add_test(tc, test_kafka_section);
    tcase_add_test(tc, test_unreadable_now_is_temporary);
    suite_add_tcase(s, tc);
    return s;
}
