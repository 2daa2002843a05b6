/* tw-kafka-mock - a Kafka cluster for tests: librdkafka's built-in mock
 * cluster (real Kafka protocol on 127.0.0.1), driven by one-line commands
 * on stdin so a test can take brokers down and inject request errors. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "tw_rc.h"

#define S_MAX_ERRORS 100000 /* most errors one `errors` command pushes */

static void s_usage(FILE *f)
{
    fputs(
        "usage: tw-kafka-mock [--brokers N] [--topic NAME:PARTITIONS]...\n"
        "Starts librdkafka's mock Kafka cluster (N brokers, default 3, ids\n"
        "1..N, listening on 127.0.0.1) and prints its bootstrap servers as\n"
        "the first stdout line. Then reads commands on stdin, one a line,\n"
        "and answers each with one stdout line, \"ok ...\" or \"error: ...\":\n"
        "  down N                    broker N closes its connections and\n"
        "                            refuses new ones\n"
        "  up N                      broker N serves again\n"
        "  rtt N MS                  broker N answers MS ms late\n"
        "  errors APIKEY COUNT CODE  the next COUNT requests of APIKEY (a\n"
        "                            number or Produce, Fetch, ListOffsets,\n"
        "                            Metadata, InitProducerId, ...) fail with\n"
        "                            CODE (a number or a name such as\n"
        "                            NOT_LEADER_FOR_PARTITION, _TRANSPORT)\n"
        "  clear APIKEY              drops the errors not served yet\n"
        "  create TOPIC PARTITIONS   creates a topic (replication 1..3)\n"
        "  leader TOPIC PART N       makes broker N the partition's leader\n"
        "  ping                      answers \"ok pong\"\n"
        "Stops on EOF, `quit`, SIGTERM or SIGINT.\n"
        "Exit codes: 0 ok, 100 usage error, 111 the cluster did not start.\n",
        f);
}

/* Kafka protocol request names (ApiKey numbers of the protocol guide). */
static const struct {
    const char *name; /* request name */
    int16_t key;      /* ApiKey */
} s_apis[] = {
    {"Produce", 0},          {"Fetch", 1},
    {"ListOffsets", 2},      {"Metadata", 3},
    {"OffsetCommit", 8},     {"OffsetFetch", 9},
    {"FindCoordinator", 10}, {"JoinGroup", 11},
    {"Heartbeat", 12},       {"LeaveGroup", 13},
    {"SyncGroup", 14},       {"SaslHandshake", 17},
    {"ApiVersions", 18},     {"CreateTopics", 19},
    {"InitProducerId", 22},  {"AddPartitionsToTxn", 24},
    {"EndTxn", 26},          {"SaslAuthenticate", 36},
};

static int s_apikey(const char *s)
{
    char *end = NULL;
    long v = strtol(s, &end, 10);
    if (*s && end && *end == '\0') {
        return v >= 0 && v < 1000 ? (int)v : -1;
    }
    for (size_t i = 0; i < sizeof s_apis / sizeof s_apis[0]; i++) {
        if (strcasecmp(s, s_apis[i].name) == 0) {
            return s_apis[i].key;
        }
    }
    return -1;
}

/* A numeric error code or a librdkafka error name ("REQUEST_TIMED_OUT",
 * "_TRANSPORT"); false when unknown. */
static int s_errcode(const char *s, rd_kafka_resp_err_t *out)
{
    char *end = NULL;
    long v = strtol(s, &end, 10);
    if (*s && end && *end == '\0') {
        *out = (rd_kafka_resp_err_t)v;
        return 1;
    }
    const struct rd_kafka_err_desc *descs = NULL;
    size_t n = 0;
    rd_kafka_get_err_descs(&descs, &n);
    for (size_t i = 0; i < n; i++) {
        if (descs[i].name && strcasecmp(descs[i].name, s) == 0) {
            *out = descs[i].code;
            return 1;
        }
    }
    return 0;
}

static int s_broker(const char *s, int n_brokers)
{
    char *end = NULL;
    long v = strtol(s, &end, 10);
    if (!*s || *end || v < 1 || v > n_brokers) {
        return -1;
    }
    return (int)v;
}

/* Runs one command line; writes the answer to stdout. Returns 0, or 1 when
 * the command asks to stop. */
static int s_command(rd_kafka_mock_cluster_t *mc, int n_brokers, char *line)
{
    char *argv[8] = {0};
    int argc = 0;
    char *save = NULL;
    for (char *t = strtok_r(line, " \t\r\n", &save); t && argc < 8;
         t = strtok_r(NULL, " \t\r\n", &save)) {
        argv[argc++] = t;
    }
    if (argc == 0) {
        return 0;
    }
    const char *cmd = argv[0];
    rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
    if (strcmp(cmd, "quit") == 0 && argc == 1) {
        printf("ok quit\n");
        return 1;
    }
    if (strcmp(cmd, "ping") == 0 && argc == 1) {
        printf("ok pong\n");
        return 0;
    }
    if ((strcmp(cmd, "down") == 0 || strcmp(cmd, "up") == 0) && argc == 2) {
        int b = s_broker(argv[1], n_brokers);
        if (b < 0) {
            printf("error: no broker %s (1..%d)\n", argv[1], n_brokers);
            return 0;
        }
        err = cmd[0] == 'd' ? rd_kafka_mock_broker_set_down(mc, b)
                            : rd_kafka_mock_broker_set_up(mc, b);
    } else if (strcmp(cmd, "rtt") == 0 && argc == 3) {
        int b = s_broker(argv[1], n_brokers);
        char *end = NULL;
        long ms = strtol(argv[2], &end, 10);
        if (b < 0 || *end || ms < 0 || ms > 600000) {
            printf("error: rtt wants a broker (1..%d) and 0..600000 ms\n",
                   n_brokers);
            return 0;
        }
        err = rd_kafka_mock_broker_set_rtt(mc, b, (int)ms);
    } else if (strcmp(cmd, "errors") == 0 && argc == 4) {
        int key = s_apikey(argv[1]);
        char *end = NULL;
        long cnt = strtol(argv[2], &end, 10);
        rd_kafka_resp_err_t code;
        if (key < 0) {
            printf("error: unknown ApiKey %s\n", argv[1]);
            return 0;
        }
        if (*end || cnt < 1 || cnt > S_MAX_ERRORS) {
            printf("error: errors wants a count of 1..%d\n", S_MAX_ERRORS);
            return 0;
        }
        if (!s_errcode(argv[3], &code)) {
            printf("error: unknown error code %s\n", argv[3]);
            return 0;
        }
        rd_kafka_resp_err_t *codes = calloc((size_t)cnt, sizeof *codes);
        if (!codes) {
            printf("error: out of memory\n");
            return 0;
        }
        for (long i = 0; i < cnt; i++) {
            codes[i] = code;
        }
        rd_kafka_mock_push_request_errors_array(mc, (int16_t)key, (size_t)cnt,
                                                codes);
        free(codes);
    } else if (strcmp(cmd, "clear") == 0 && argc == 2) {
        int key = s_apikey(argv[1]);
        if (key < 0) {
            printf("error: unknown ApiKey %s\n", argv[1]);
            return 0;
        }
        rd_kafka_mock_clear_request_errors(mc, (int16_t)key);
    } else if (strcmp(cmd, "create") == 0 && argc == 3) {
        char *end = NULL;
        long parts = strtol(argv[2], &end, 10);
        if (*end || parts < 1 || parts > 1000) {
            printf("error: create wants 1..1000 partitions\n");
            return 0;
        }
        err = rd_kafka_mock_topic_create(mc, argv[1], (int)parts,
                                         n_brokers < 3 ? n_brokers : 3);
    } else if (strcmp(cmd, "leader") == 0 && argc == 4) {
        char *end = NULL;
        long part = strtol(argv[2], &end, 10);
        int b = s_broker(argv[3], n_brokers);
        if (*end || part < 0 || part > 1000 || b < 0) {
            printf("error: leader wants TOPIC PARTITION BROKER\n");
            return 0;
        }
        err = rd_kafka_mock_partition_set_leader(mc, argv[1], (int32_t)part, b);
    } else {
        printf("error: unknown command or wrong arguments: %s\n", cmd);
        return 0;
    }
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        printf("error: %s: %s\n", cmd, rd_kafka_err2str(err));
    } else {
        printf("ok %s\n", cmd);
    }
    return 0;
}

static void s_log(const rd_kafka_t *rk, int level, const char *fac,
                  const char *buf)
{
    (void)rk;
    if (level <= 4) {
        fprintf(stderr, "tw-kafka-mock: %s: %s\n", fac, buf);
    }
}

int main(int argc, char **argv)
{
    int n_brokers = 3;
    const char *topics[64];
    int n_topics = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            s_usage(stdout);
            return TW_EXIT_OK;
        }
        if (i + 1 >= argc) {
            s_usage(stderr);
            return TW_EXIT_USAGE;
        }
        if (strcmp(argv[i], "--brokers") == 0) {
            char *end = NULL;
            long v = strtol(argv[++i], &end, 10);
            if (*end || v < 1 || v > 32) {
                fprintf(stderr, "tw-kafka-mock: --brokers wants 1..32\n");
                return TW_EXIT_USAGE;
            }
            n_brokers = (int)v;
        } else if (strcmp(argv[i], "--topic") == 0 && n_topics < 64) {
            topics[n_topics++] = argv[++i];
        } else {
            s_usage(stderr);
            return TW_EXIT_USAGE;
        }
    }

    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGPIPE);
    /* blocked before librdkafka starts its threads, so they inherit it */
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    int sfd = signalfd(-1, &set, SFD_CLOEXEC);
    if (sfd < 0) {
        fprintf(stderr, "tw-kafka-mock: unable to create a signalfd: %s\n",
                strerror(errno));
        return TW_EXIT_TEMP;
    }

    char errstr[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set_log_cb(conf, s_log);
    if (rd_kafka_conf_set(conf, "client.id", "tw-kafka-mock", errstr,
                          sizeof errstr) != RD_KAFKA_CONF_OK) {
        fprintf(stderr, "tw-kafka-mock: %s\n", errstr);
        rd_kafka_conf_destroy(conf);
        return TW_EXIT_TEMP;
    }
    rd_kafka_t *rk =
        rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
    if (!rk) {
        fprintf(stderr, "tw-kafka-mock: unable to create a client: %s\n",
                errstr);
        rd_kafka_conf_destroy(conf);
        return TW_EXIT_TEMP;
    }
    rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(rk, n_brokers);
    if (!mc) {
        fprintf(stderr, "tw-kafka-mock: unable to start the mock cluster\n");
        rd_kafka_destroy(rk);
        return TW_EXIT_TEMP;
    }
    int rc = TW_EXIT_OK;
    for (int i = 0; i < n_topics; i++) {
        char name[256];
        snprintf(name, sizeof name, "%s", topics[i]);
        char *colon = strrchr(name, ':');
        char *end = NULL;
        long parts = colon ? strtol(colon + 1, &end, 10) : 0;
        if (!colon || *end || parts < 1 || parts > 1000) {
            fprintf(stderr, "tw-kafka-mock: --topic wants NAME:PARTITIONS\n");
            rc = TW_EXIT_USAGE;
            goto out;
        }
        *colon = '\0';
        rd_kafka_resp_err_t err = rd_kafka_mock_topic_create(
            mc, name, (int)parts, n_brokers < 3 ? n_brokers : 3);
        if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            fprintf(stderr, "tw-kafka-mock: unable to create topic %s: %s\n",
                    name, rd_kafka_err2str(err));
            rc = TW_EXIT_TEMP;
            goto out;
        }
    }
    printf("%s\n", rd_kafka_mock_cluster_bootstraps(mc));
    fflush(stdout);

    char line[1024];
    size_t used = 0;
    int stop = 0;
    while (!stop) {
        struct pollfd pf[2] = {{.fd = 0, .events = POLLIN},
                               {.fd = sfd, .events = POLLIN}};
        int n = poll(pf, 2, 1000);
        if (n < 0 && errno != EINTR) {
            break;
        }
        if (pf[1].revents & POLLIN) {
            break; /* SIGTERM / SIGINT: a clean stop */
        }
        if (!(pf[0].revents & (POLLIN | POLLHUP | POLLERR))) {
            continue;
        }
        ssize_t got = read(0, line + used, sizeof line - 1 - used);
        if (got <= 0) {
            break; /* EOF or a closed stdin */
        }
        used += (size_t)got;
        line[used] = '\0';
        char *nl;
        while (!stop && (nl = memchr(line, '\n', used)) != NULL) {
            *nl = '\0';
            size_t take = (size_t)(nl - line) + 1;
            stop = s_command(mc, n_brokers, line);
            fflush(stdout);
            memmove(line, line + take, used - take);
            used -= take;
            line[used] = '\0';
        }
        if (used == sizeof line - 1) {
            printf("error: command line too long\n");
            fflush(stdout);
            used = 0;
        }
    }
out:
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(rk);
    close(sfd);
    return rc;
}
