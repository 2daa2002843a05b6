/* tw_cfg - loads and validates supervisor.toml into a typed struct. */
#ifndef TW_CFG_H
#define TW_CFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "tw_rc.h"

/* Restart policy of a worker (Erlang/OTP names). */
typedef enum {
    TW_RESTART_PERMANENT = 0, /* always restart */
    TW_RESTART_TRANSIENT = 1, /* restart only after an abnormal exit */
    TW_RESTART_TEMPORARY = 2, /* never restart */
} tw_restart_t;

/* A list of strings (owned by the config). */
typedef struct {
    char **v;   /* the strings */
    size_t len; /* how many */
} tw_cfg_strv_t;

/* One [worker.NAME] section: how the supervisor runs it. Durations in ms. */
typedef struct {
    char *name;                    /* section name, e.g. "scanner", "chat" */
    char *kind;                    /* built-in kind, or "" for a command */
    tw_cfg_strv_t command;         /* argv of an extra program; empty if kind */
    bool enabled;                  /* false: declared but not started */
    bool is_template;              /* instances NAME@ARG made by spawn only */
    uint32_t max_instances;        /* bound on live instances of a template */
    tw_cfg_strv_t after;           /* workers that must be READY first */
    tw_restart_t restart;          /* restart policy */
    uint64_t min_uptime_ms;        /* up longer than this: restart at once */
    uint64_t restart_delay_ms;     /* first backoff delay */
    uint64_t restart_delay_max_ms; /* backoff cap */
    uint32_t max_restarts;        /* more than this in restart_window: FAILED */
    uint64_t restart_window_ms;   /* window for max_restarts */
    uint64_t failed_retry_ms;     /* retry period of a FAILED worker */
    int stop_signal;              /* signal sent first on stop (SIGTERM) */
    uint64_t stop_timeout_ms;     /* then SIGKILL after this */
    uint64_t ready_timeout_ms;    /* silent worker counts as ready after */
    uint64_t watchdog_timeout_ms; /* no heartbeat this long: kill; 0 off */
    uint64_t memory_limit;        /* RLIMIT_AS bytes; 0 = unlimited */
    uint64_t open_files;          /* RLIMIT_NOFILE; 0 = inherited */
    tw_cfg_strv_t env;            /* extra "KEY=VALUE" environment entries */
} tw_cfg_worker_t;

/* [supervisor] */
typedef struct {
    char *runtime_dir;           /* control socket, lock, status.json (0700) */
    char *state_dir;             /* checkpoints, journals, outbox */
    char *data_dir;              /* comments/, viewers/, stats/, archive/ */
    char *log_dir;               /* LOGS/NAME.log */
    char *libexec_dir;           /* where tw-KIND programs live */
    char *timezone;              /* IANA zone for day partitions and 02:00 */
    uint64_t log_max_size;       /* rotate a worker log above this many bytes */
    uint32_t log_keep;           /* rotated files kept */
    uint64_t status_interval_ms; /* status.json refresh period */
    char *metrics_listen;        /* "ADDR:PORT" of GET /metrics; "" = off */
} tw_cfg_supervisor_t;

/* [youtube] */
typedef struct {
    char *api_key;            /* Data API key, "" = quota-free sources only */
    char *web_base_url;       /* www.youtube.com (RSS, watch, youtubei) */
    char *api_base_url;       /* googleapis.com/youtube/v3 */
    uint64_t quota_per_day;   /* units per Pacific day */
    bool use_search;          /* allow search.list (100 units) */
    uint64_t http_timeout_ms; /* per request */
    char *user_agent;         /* sent to the web client endpoints */
    uint32_t drift_threshold; /* answers not understood that raise drift */
    uint64_t drift_window_ms; /* ... within this window */
} tw_cfg_youtube_t;

/* [telegram] */
typedef struct {
    char *bot_token;        /* "" = notifications disabled */
    char *base_url;         /* api.telegram.org */
    tw_cfg_strv_t chat_ids; /* default recipients */
} tw_cfg_telegram_t;

/* [drive] */
typedef struct {
    bool enabled;               /* upload archives */
    char *client_secrets_file;  /* Google's client_secrets.json */
    char *token_file;           /* refresh token from drive-auth (0600) */
    char *service_account_file; /* alternative: service-account key */
    char *folder_id;            /* target folder id, or */
    char *folder_name;          /* folder name, created when missing */
    char *oauth_base_url;       /* oauth2.googleapis.com */
    char *api_base_url;         /* www.googleapis.com (drive/v3, upload) */
    uint64_t chunk_size;        /* resumable chunk, multiple of 256 KiB */
} tw_cfg_drive_t;

/* [worker.scanner] settings beyond tw_cfg_worker_t. */
typedef struct {
    char *channels_file;       /* channel ids, @handles, URLs */
    uint64_t scan_interval_ms; /* each channel checked once per interval */
    uint64_t lead_time_ms;     /* spawn chat@VIDEO this long before start */
    char *shard;               /* "K/N" (tw_shard), "" = every channel */
    uint32_t shard_k;          /* K of shard (1 when unsharded) */
    uint32_t shard_n;          /* N of shard (1 when unsharded) */
    uint32_t channels_max;     /* channels used from the file, at most */
} tw_cfg_scanner_t;

/* [worker.chat] settings. */
typedef struct {
    uint64_t poll_min_ms;  /* clamp of timeoutMs */
    uint64_t poll_max_ms;  /* clamp of timeoutMs */
    bool reconcile_replay; /* walk the replay after the end */
    bool use_api;          /* liveChatMessages.list instead of web client */
} tw_cfg_chat_t;

/* [worker.stats] settings. */
typedef struct {
    uint64_t viewers_interval_ms; /* live concurrent viewers */
    uint64_t stats_interval_ms;   /* views/likes/favorites/comments */
    bool watch_uploads;           /* all uploads of listed channels */
    tw_cfg_strv_t videos;         /* explicit video ids */
    uint64_t uploads_max_age_ms;  /* older uploads leave; 0 = no limit */
    uint32_t uploads_max;         /* newest uploads per channel; 0 = all */
} tw_cfg_stats_t;

/* [worker.tokenizer] settings. */
typedef struct {
    tw_cfg_strv_t languages;      /* stop-word languages, e.g. ["en"] */
    char *stopwords_dir;          /* shipped lists */
    tw_cfg_strv_t stopword_files; /* user lists */
    char *urls;                   /* "keep" or "drop" */
    char *mentions;               /* "keep" or "drop" */
    char *stem;                   /* "" or a Snowball language */
} tw_cfg_tokenizer_t;

/* [worker.writer] settings. */
typedef struct {
    uint64_t fsync_interval_ms; /* 0 = fsync every batch */
    tw_cfg_strv_t formats;      /* "tsv", "jsonl" */
} tw_cfg_writer_t;

/* [worker.uploader] settings. */
typedef struct {
    char *archive_at;   /* "HH:MM" local time */
    uint32_t keep_days; /* delete uploaded days older; 0 = keep all */
} tw_cfg_uploader_t;

/* [kafka]: the kafka worker's output (docs/kafka.md). */
typedef struct {
    bool enabled;                   /* run the kafka worker and feed it */
    char *brokers;                  /* bootstrap servers "host:port,..." */
    char *client_id;                /* client.id sent to the brokers */
    char *format;                   /* "avro" (Schema Registry) or "json" */
    char *schema_registry_url;      /* base URL of the Schema Registry */
    char *schema_registry_user;     /* basic auth user, "" = none */
    char *schema_registry_password; /* basic auth password (secret) */
    char *topic_videos;             /* stats samples: the seed's record */
    char *topic_chat;               /* one record per chat item */
    char *topic_viewers;            /* concurrent viewers samples */
    char *topic_events;             /* stream events */
    char *security_protocol;        /* plaintext | ssl | sasl_ssl */
    char *sasl_mechanism;           /* PLAIN | SCRAM-SHA-256 | SCRAM-SHA-512 */
    char *sasl_username;            /* SASL user (API key) */
    char *sasl_password;            /* SASL password (secret) */
    char *ssl_ca_file;              /* CA bundle, "" = system default */
    uint32_t queue_max_messages;    /* records queued in the producer */
} tw_cfg_kafka_t;

/* One [[notify.rule]]. */
typedef struct {
    tw_cfg_strv_t metrics;  /* views likes favorites comments viewers */
    uint64_t min_delta;     /* announce when |curr - prev| >= this */
    uint64_t milestone;     /* or when a multiple of this is crossed */
    uint64_t cooldown_ms;   /* per video and metric */
    tw_cfg_strv_t chat_ids; /* recipients; empty = [telegram] chat_ids */
    char *template_text;    /* "{title} {metric} {prev} {curr} {video_id}" */
} tw_cfg_rule_t;

/* [worker.notifier] settings beyond tw_cfg_worker_t. */
typedef struct {
    uint32_t outbox_max; /* parts queued per chat; the oldest go beyond */
} tw_cfg_notifier_t;

/* [notify] and its rules. */
typedef struct {
    tw_cfg_strv_t events; /* scheduled live ended failed quota upload
                             cancelled drift */
    tw_cfg_rule_t *rules; /* the [[notify.rule]] tables */
    size_t nrules;        /* how many */
} tw_cfg_notify_t;

/* The whole configuration. */
typedef struct {
    char *path;                     /* file it was read from */
    tw_cfg_supervisor_t supervisor; /* [supervisor] */
    tw_cfg_youtube_t youtube;       /* [youtube] */
    tw_cfg_telegram_t telegram;     /* [telegram] */
    tw_cfg_drive_t drive;           /* [drive] */
    tw_cfg_worker_t *workers;       /* every [worker.NAME], in file order */
    size_t nworkers;                /* how many */
    tw_cfg_scanner_t scanner;       /* [worker.scanner] extras */
    tw_cfg_chat_t chat;             /* [worker.chat] extras */
    tw_cfg_stats_t stats;           /* [worker.stats] extras */
    tw_cfg_tokenizer_t tokenizer;   /* [worker.tokenizer] extras */
    tw_cfg_writer_t writer;         /* [worker.writer] extras */
    tw_cfg_uploader_t uploader;     /* [worker.uploader] extras */
    tw_cfg_notifier_t notifier;     /* [worker.notifier] extras */
    tw_cfg_notify_t notify;         /* [notify] */
    tw_cfg_kafka_t kafka;           /* [kafka] */
} tw_cfg_t;

/* One problem found while loading. */
typedef struct {
    int line;       /* 1-based, 0 when not tied to a place */
    int col;        /* 1-based, 0 when not tied to a place */
    char msg[400];  /* e.g. "unknown key 'scan_intervall' (did you mean
                       'scan_interval'?)" */
    bool temporary; /* a file could not be read for a reason that may pass
                       (EMFILE, EIO, ENOMEM): try again, the file itself
                       may be fine */
} tw_cfg_problem_t;

/* True when one of the n problems is temporary: the load is worth trying
 * again (exit 111), where any other problem needs the operator (100). */
bool tw_cfg_problems_temporary(const tw_cfg_problem_t *problems, size_t n);

/* Loads and validates the file at path. Returns the config (free with
 * tw_cfg_destroy) or NULL when there is any problem; then, if problems is
 * not NULL, *problems receives a malloc'd array of *nproblems entries (the
 * caller frees it). Relative paths inside the file are resolved against the
 * file's directory. Secrets given as *_file are read; a secrets file
 * readable by group or others is a problem. */
tw_cfg_t *tw_cfg_load(const char *path, tw_cfg_problem_t **problems,
                      size_t *nproblems);
/* Frees *cfg_p and sets it to NULL; safe on NULL. */
void tw_cfg_destroy(tw_cfg_t **cfg_p);
/* Prints "PATH:LINE:COL: message" lines for problems to out. */
void tw_cfg_print_problems(FILE *out, const char *path,
                           const tw_cfg_problem_t *problems, size_t n);
/* Returns the worker section called name (borrowed) or NULL. */
const tw_cfg_worker_t *tw_cfg_worker(const tw_cfg_t *cfg, const char *name);
/* Parses a listen address "HOST:PORT" (IPv4 address, or IPv6 in
 * brackets; port 0-65535, 0 = any free port) into the struct
 * sockaddr_storage at addr. TW_ERR_INVALID with err set when malformed. */
tw_rc_t tw_cfg_parse_listen(const char *listen, void *addr, tw_err_t *err);
/* True when the two worker sections would run the same way (reload). */
bool tw_cfg_worker_equal(const tw_cfg_worker_t *a, const tw_cfg_worker_t *b);
/* Parses "90s", "5m", "1h30m", "250ms" into ms; TW_ERR_INVALID if bad. */
tw_rc_t tw_cfg_parse_duration(const char *text, uint64_t *ms);
/* Parses a size: integer bytes, or "10MiB", "512KiB", "1GiB", "100kB". */
tw_rc_t tw_cfg_parse_size(const char *text, uint64_t *bytes);

#endif
