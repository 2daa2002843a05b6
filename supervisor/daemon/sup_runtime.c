/* sup_runtime - tubewatchd's runtime dir, its lock, signals and sockets. */
#define _GNU_SOURCE
#include "sup_runtime.h"

#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include "tw_file.h"
#include "tw_log.h"
#include "tw_signal.h"
#include "tw_worker.h"

/* The socket files, removed by the lock holder at the end. */
static const char *const s_sock_files[] = {"control.sock", "sup.sock",
                                           "events.sock"};

struct sup_runtime {
    char dir[PATH_MAX - 64];          /* runtime dir */
    char sup_endpoint[PATH_MAX + 32]; /* ipc://RUNTIME/sup.sock */
    int lockfd;                       /* RUNTIME/lock, -1 when not open */
    bool locked;                      /* we hold the lock */
    int sigfd;                        /* signalfd, -1 when not open */
    int nullfd;                       /* /dev/null, -1 when not open */
    void *zctx;                       /* ZeroMQ context */
    void *ctl;                        /* ROUTER control.sock */
    void *wsock;                      /* ROUTER sup.sock */
    void *pub;                        /* PUB events.sock */
};

/* Kills what a previous tubewatchd left behind in this runtime dir
 * (grandchildren of its workers, a worker still stopping after its
 * parent-death SIGTERM): any process whose environment names our runtime
 * dir. We hold the lock, so none is ours. */
static void s_kill_leftovers(const sup_runtime_t *self)
{
    char needle[PATH_MAX + 32];
    int nl =
        snprintf(needle, sizeof needle, "%s=%s", TW_ENV_RUNTIME_DIR, self->dir);
    DIR *d = opendir("/proc");
    if (!d)
        return;
    struct dirent *e;
    pid_t me = getpid();
    uid_t uid = getuid();
    size_t killed = 0;
    while ((e = readdir(d)) != NULL) {
        char *end;
        long pid = strtol(e->d_name, &end, 10);
        if (*end || pid <= 1 || pid == me)
            continue;
        char path[64];
        snprintf(path, sizeof path, "/proc/%ld/environ", pid);
        struct stat st;
        if (stat(path, &st) != 0 || st.st_uid != uid)
            continue;
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            continue;
        char buf[65536];
        ssize_t n = read(fd, buf, sizeof buf - 1);
        close(fd);
        if (n <= 0)
            continue;
        buf[n] = '\0';
        for (ssize_t off = 0; off < n;) {
            const char *entry = buf + off;
            size_t len = strnlen(entry, (size_t)(n - off));
            if (len == (size_t)nl && memcmp(entry, needle, (size_t)nl) == 0) {
                kill((pid_t)pid, SIGKILL);
                killed++;
                break;
            }
            off += (ssize_t)len + 1;
        }
    }
    closedir(d);
    if (killed > 0)
        tw_log_warn("killed %zu processes left over by a previous "
                    "tubewatchd",
                    killed);
}

static tw_rc_t s_lock(sup_runtime_t *self, tw_err_t *err)
{
    char path[PATH_MAX + 8];
    snprintf(path, sizeof path, "%s/lock", self->dir);
    self->lockfd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (self->lockfd < 0) {
        tw_err_set(err, "unable to open %s: %s", path, strerror(errno));
        return TW_ERR_AGAIN;
    }
    if (flock(self->lockfd, LOCK_EX | LOCK_NB) != 0) {
        char pid[32] = "";
        ssize_t n = pread(self->lockfd, pid, sizeof pid - 1, 0);
        if (n > 0) {
            pid[n] = '\0';
            pid[strcspn(pid, "\n")] = '\0';
        }
        tw_err_set(err,
                   "unable to lock %s: another tubewatchd (pid %s) is "
                   "running with this runtime_dir",
                   path, pid[0] ? pid : "?");
        return TW_ERR_AGAIN;
    }
    self->locked = true;
    char pid[32];
    int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (ftruncate(self->lockfd, 0) != 0 ||
        pwrite(self->lockfd, pid, (size_t)n, 0) != n)
        tw_log_warn("unable to write the pid to %s", path);
    return TW_OK;
}

/* Creates, checks and locks the runtime dir; creates the state and data
 * dirs. */
static tw_rc_t s_dirs(sup_runtime_t *self, const tw_cfg_supervisor_t *sv,
                      tw_err_t *err)
{
    snprintf(self->dir, sizeof self->dir, "%s", sv->runtime_dir);
    /* sockaddr_un holds 108 bytes: "RUNTIME/control.sock" must fit. */
    if (strlen(sv->runtime_dir) + sizeof "/control.sock" > 108) {
        tw_err_set(err,
                   "runtime_dir %s is too long for Unix sockets (at most "
                   "94 bytes)",
                   sv->runtime_dir);
        return TW_ERR_CONFIG;
    }
    if (tw_file_mkdirs(self->dir, 0700, err) != TW_OK)
        return TW_ERR_IO;
    struct stat st;
    if (stat(self->dir, &st) != 0 || !S_ISDIR(st.st_mode) ||
        st.st_uid != geteuid()) {
        tw_err_set(err, "unable to use %s: not a directory owned by us",
                   self->dir);
        return TW_ERR_CONFIG;
    }
    if ((st.st_mode & 0777) != 0700 && chmod(self->dir, 0700) != 0) {
        tw_err_set(err, "unable to chmod 0700 %s: %s", self->dir,
                   strerror(errno));
        return TW_ERR_IO;
    }
    tw_rc_t rc = s_lock(self, err);
    if (rc != TW_OK)
        return rc;
    tw_err_t derr = {{0}, 0, 0};
    if (tw_file_mkdirs(sv->state_dir, 0700, &derr) != TW_OK ||
        tw_file_mkdirs(sv->data_dir, 0750, &derr) != TW_OK) {
        tw_err_set(err, "unable to create the state/data dirs: %s", derr.msg);
        return TW_ERR_IO;
    }
    return TW_OK;
}

/* Blocks the signals the loop reads from a signalfd; opens /dev/null. */
static tw_rc_t s_signals(sup_runtime_t *self, tw_err_t *err)
{
    /* Blocked before any thread of ours exists, so every one inherits
     * the mask; a foreign thread's catch is forwarded (tw_signal.h). */
    static const int sigs[] = {SIGCHLD, SIGTERM, SIGINT, SIGHUP};
    tw_rc_t rc =
        tw_signal_fd(sigs, sizeof sigs / sizeof sigs[0], &self->sigfd, err);
    if (rc != TW_OK)
        return rc;
    signal(SIGPIPE, SIG_IGN);
    /* Orphaned grandchildren come to us, not to init. */
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    self->nullfd = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (self->nullfd < 0) {
        tw_err_set(err, "unable to open /dev/null: %s", strerror(errno));
        return TW_ERR_IO;
    }
    return TW_OK;
}

/* Binds RUNTIME/file (mode 0600) as a socket of type; NULL with err set
 * on failure. */
static void *s_bind(sup_runtime_t *self, int type, const char *file,
                    tw_err_t *err)
{
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/%s", self->dir, file);
    unlink(path); /* stale: we hold the lock */
    char endpoint[PATH_MAX + 48];
    snprintf(endpoint, sizeof endpoint, "ipc://%s", path);
    void *sock = zmq_socket(self->zctx, type);
    if (!sock) {
        tw_err_set(err, "unable to create a socket for %s: %s", endpoint,
                   zmq_strerror(zmq_errno()));
        return NULL;
    }
    int linger = 0;
    zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof linger);
    if (type == ZMQ_ROUTER) {
        int one = 1;
        /* A restarted worker reconnects under the same routing id. */
        zmq_setsockopt(sock, ZMQ_ROUTER_HANDOVER, &one, sizeof one);
    }
    mode_t old = umask(077);
    int rc = zmq_bind(sock, endpoint);
    umask(old);
    if (rc != 0) {
        tw_err_set(err, "unable to bind %s: %s", endpoint,
                   zmq_strerror(zmq_errno()));
        zmq_close(sock);
        return NULL;
    }
    chmod(path, 0600);
    return sock;
}

static tw_rc_t s_setup(sup_runtime_t *self, const tw_cfg_supervisor_t *sv,
                       tw_err_t *err)
{
    tw_rc_t rc = s_dirs(self, sv, err);
    if (rc != TW_OK)
        return rc;
    s_kill_leftovers(self);
    rc = s_signals(self, err);
    if (rc != TW_OK)
        return rc;
    self->zctx = zmq_ctx_new();
    if (!self->zctx) {
        tw_err_set(err, "unable to create a ZeroMQ context: %s",
                   zmq_strerror(zmq_errno()));
        return TW_ERR_AGAIN;
    }
    self->ctl = s_bind(self, ZMQ_ROUTER, "control.sock", err);
    if (self->ctl)
        self->wsock = s_bind(self, ZMQ_ROUTER, "sup.sock", err);
    if (self->wsock)
        self->pub = s_bind(self, ZMQ_PUB, "events.sock", err);
    if (!self->pub)
        return TW_ERR_IO;
    snprintf(self->sup_endpoint, sizeof self->sup_endpoint, "ipc://%s/sup.sock",
             self->dir);
    return TW_OK;
}

tw_rc_t sup_runtime_new(sup_runtime_t **self_p, const tw_cfg_supervisor_t *sv,
                        tw_err_t *err)
{
    assert(self_p);
    assert(sv);
    *self_p = NULL;
    sup_runtime_t *self = calloc(1, sizeof *self);
    if (!self) {
        tw_err_set(err, "out of memory");
        return TW_ERR_NOMEM;
    }
    self->lockfd = -1;
    self->sigfd = -1;
    self->nullfd = -1;
    tw_rc_t rc = s_setup(self, sv, err);
    if (rc != TW_OK) {
        sup_runtime_destroy(&self);
        return rc;
    }
    *self_p = self;
    return TW_OK;
}

void sup_runtime_destroy(sup_runtime_t **self_p)
{
    assert(self_p);
    sup_runtime_t *self = *self_p;
    if (!self)
        return;
    if (self->ctl)
        zmq_close(self->ctl);
    if (self->wsock)
        zmq_close(self->wsock);
    if (self->pub)
        zmq_close(self->pub);
    if (self->zctx)
        zmq_ctx_term(self->zctx);
    if (self->locked) {
        /* Only the lock holder removes the sockets. */
        for (size_t i = 0; i < sizeof s_sock_files / sizeof *s_sock_files;
             i++) {
            char path[PATH_MAX + 32];
            snprintf(path, sizeof path, "%s/%s", self->dir, s_sock_files[i]);
            unlink(path);
        }
    }
    if (self->sigfd >= 0)
        close(self->sigfd);
    if (self->nullfd >= 0)
        close(self->nullfd);
    if (self->lockfd >= 0)
        close(self->lockfd);
    free(self);
    *self_p = NULL;
}

const char *sup_runtime_dir(const sup_runtime_t *self)
{
    assert(self);
    return self->dir;
}

const char *sup_runtime_sup_endpoint(const sup_runtime_t *self)
{
    assert(self);
    return self->sup_endpoint;
}

void *sup_runtime_control_sock(const sup_runtime_t *self)
{
    assert(self);
    return self->ctl;
}

void *sup_runtime_worker_sock(const sup_runtime_t *self)
{
    assert(self);
    return self->wsock;
}

int sup_runtime_signal_fd(const sup_runtime_t *self)
{
    assert(self);
    return self->sigfd;
}

int sup_runtime_null_fd(const sup_runtime_t *self)
{
    assert(self);
    return self->nullfd;
}

void sup_runtime_publish(sup_runtime_t *self, const char *topic,
                         const void *buf, size_t len)
{
    assert(self);
    assert(topic);
    zmq_send(self->pub, topic, strlen(topic), ZMQ_SNDMORE | ZMQ_DONTWAIT);
    zmq_send(self->pub, buf, len, ZMQ_DONTWAIT);
}
