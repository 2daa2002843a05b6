/* sup_proc - starts one worker process: fork, clean slate, exec. */
#ifndef SUP_PROC_H
#define SUP_PROC_H

#include <stdint.h>
#include <sys/types.h>

#include "tw_rc.h"

/* How to start a process. */
typedef struct {
    char *const *argv;     /* program and arguments; argv[0] is the path */
    char *const *envp;     /* complete environment */
    int null_fd;           /* open /dev/null, becomes stdin */
    int out_fd;            /* becomes stdout and stderr (log pipe) */
    uint64_t memory_limit; /* RLIMIT_AS bytes; 0 = inherited */
    uint64_t open_files;   /* RLIMIT_NOFILE; 0 = inherited */
} sup_proc_spec_t;

/* Forks and execs spec in a new session (its pid is its process group),
 * with an empty signal mask, default signal handlers, only fds 0-2 open,
 * and SIGKILL when tubewatchd dies. An exec failure shows in the child's
 * exit code: 100 when the program is missing or not executable, else 111.
 * TW_ERR_AGAIN with err set if fork failed. */
tw_rc_t sup_proc_spawn(const sup_proc_spec_t *spec, pid_t *pid, tw_err_t *err);
/* Sends sig to the whole process group of a worker (pgid = its pid). */
void sup_proc_kill_group(pid_t pgid, int sig);

#endif
