/* ctl - the tubewatch CLI: its command table and what every command
 * shares (options, config, the control-socket client). Adding a command is
 * one row in CTL_COMMANDS and a function in its own ctl_<name>.c. */
#ifndef CTL_H
#define CTL_H

#include <jansson.h>
#include <stdbool.h>

#include "tw_cfg.h"

/* Global state of one CLI run. */
typedef struct {
    const char *config_path; /* -c CONFIG, $TUBEWATCH_CONFIG or default */
    bool config_given;       /* -c or $TUBEWATCH_CONFIG was given */
    const char *socket_path; /* --socket PATH, or NULL: from the config */
    bool json;               /* --json: machine-readable output */
    int timeout_ms;          /* reply timeout of the daemon */
    tw_cfg_t *cfg;           /* loaded on demand by ctl_cfg */
} ctl_t;

/* A command: gets the arguments after its name (argv[0] is the name). */
typedef int (*ctl_fn)(ctl_t *ctl, int argc, char **argv);

/* X(name, function, arguments, summary) - the command table. */
#define CTL_COMMANDS(X)                                                        \
    X("status", ctl_status_main, "[--all] [--json]",                           \
      "workers: state, pid, uptime, restarts, last exit, msgs/s")              \
    X("start", ctl_start_main, "NAME", "start a worker")                       \
    X("stop", ctl_stop_main, "NAME", "stop a worker (an instance is removed)") \
    X("restart", ctl_restart_main, "NAME", "stop and start a worker")          \
    X("spawn", ctl_spawn_main, "TEMPLATE INSTANCE [--at TIME]",                \
      "start TEMPLATE@INSTANCE now or at TIME (RFC 3339 or +5m)")              \
    X("logs", ctl_logs_main, "[NAME] [-n N] [-f]",                             \
      "last N lines of a worker log; -f follows (all logs without NAME)")      \
    X("reload", ctl_reload_main, "", "re-read the config (like SIGHUP)")       \
    X("shutdown", ctl_shutdown_main, "", "stop every worker and tubewatchd")   \
    X("channels", ctl_channels_main, "add|rm REF... | ls",                     \
      "edit or list the scanner's channels file (ids, @handles, URLs)")        \
    X("streams", ctl_streams_main, "[--all] [--json]",                         \
      "streams found by the scanner and their states")                         \
    X("check-config", ctl_check_config_main, "FILE", "validate a config file") \
    X("parse-chat", ctl_parse_chat_main, "FILE...",                            \
      "print the chat items of saved YouTube chat responses as TSV")           \
    X("parse-page", ctl_parse_page_main, "FILE...",                            \
      "print what saved YouTube pages say, one JSON object per file")          \
    X("probe", ctl_probe_main, "VIDEO|URL",                                    \
      "self-test: can chat of VIDEO be read from YouTube as it is today?")     \
    X("import", ctl_import_main, "FILE... --video ID [--channel UC...]",       \
      "store saved chat files in DATA/comments via the running pipeline")      \
    X("report", ctl_report_main, "VIDEO [-o FILE.svg] | --day DAY -o DIR",     \
      "SVG of a stream's chat, viewers and Super Chats (offline, DATA)")       \
    X("archive", ctl_archive_main, "[--date D] [--now] [--no-upload]",         \
      "zip closed days and upload them to Drive now")                          \
    X("drive-auth", ctl_drive_auth_main, "",                                   \
      "authorise Google Drive uploads (device code)")                          \
    X("help", ctl_help_main, "[COMMAND]",                                      \
      "print the usage and summary of COMMAND (of every command without)")     \
    X("version", ctl_version_main, "", "print the version")

#define CTL_DECLARE(name, fn, args, summary)                                   \
    int fn(ctl_t *ctl, int argc, char **argv);
CTL_COMMANDS(CTL_DECLARE)
#undef CTL_DECLARE

/* Loads the config once (borrowed); NULL after printing the problems. */
const tw_cfg_t *ctl_cfg(ctl_t *ctl);
/* Sends req (consumed) to tubewatchd and waits for the reply. Returns 0
 * with *reply set (caller decrefs), 1 when the daemon refused (error
 * printed, or the reply given as JSON with --json), 100 when the config is
 * unusable, 111 when the daemon cannot be reached (message printed). */
int ctl_request(ctl_t *ctl, json_t *req, json_t **reply);
/* Sends {"cmd": cmd} plus name=value when name is not NULL, prints the
 * reply's message (or the JSON) and returns the exit code. */
int ctl_simple(ctl_t *ctl, const char *cmd, const char *key, const char *value);
/* 0 when something accepts connections on the unix socket path, else the
 * errno of a plain connect: tells "not running" apart from "not
 * answering". */
int ctl_socket_probe(const char *path);
/* Prints a JSON value on one line to stdout. */
void ctl_print_json(json_t *v);
/* Prints "tubewatch: usage: tubewatch NAME ARGS" and returns 100. */
int ctl_usage_of(const char *name);
/* The exit code of a command for a file the operator named that failed to
 * parse (or, for import, to be read) with rc: what the file holds does not
 * change by retrying, so 100, except out of memory and bugs, which are
 * tw_rc_exit(rc) (111, 101); 0 for TW_OK. Used by parse-chat, parse-page
 * and import, whose documented codes say "a file that is not chat (or not
 * a page) gives 100" where tw_rc_exit alone gives 111 for TW_ERR_PARSE. */
int ctl_parse_exit(tw_rc_t rc);

#endif
