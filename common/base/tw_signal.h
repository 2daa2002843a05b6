/* tw_signal - the signals a process reads from a signalfd.
 * A signalfd sees a signal only while every thread blocks it: the kernel
 * hands a process-directed signal to any thread that does not. The threads
 * tubewatch starts inherit the mask of the thread that blocked them, but a
 * library can start one before main (a preloaded one: fault injection,
 * profilers, monitoring agents) with everything unblocked; SIGCHLD would
 * then be lost in it (children never reaped), SIGTERM and SIGHUP would
 * kill the process. So each signal also gets a handler, which runs only in
 * such a foreign thread and sends the signal on to the thread that reads
 * it (tgkill), where it waits, blocked, for the signalfd. */
#ifndef TW_SIGNAL_H
#define TW_SIGNAL_H

#include <stddef.h>

#include "tw_rc.h"

/* Blocks the n signals sigs in the calling thread (call it before any
 * thread starts: they inherit the mask), installs the forwarding handler
 * for each (SA_RESTART; the handler keeps errno and, in a forked child of
 * this process, does what the default action would), and stores in *fd a
 * new signalfd (nonblocking, close-on-exec) reading them. TW_ERR_INVALID
 * for a signal that cannot be caught, TW_ERR_IO with err on failure. */
tw_rc_t tw_signal_fd(const int *sigs, size_t n, int *fd, tw_err_t *err);

#endif
