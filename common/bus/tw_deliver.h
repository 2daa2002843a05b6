/* tw_deliver - at-least-once delivery of proto messages between processes
 * over ZeroMQ DEALER -> ROUTER on ipc://, with application acks, credits,
 * resends and receiver-side dedup (docs/protocol.md).
 *
 * Sender: a DEALER whose routing id is its stable name (src). Every message
 * gets (src, epoch, seq); unacked frames are kept (optionally in a
 * tw_journal) and resent after an ack timeout, when the receiver's epoch
 * changes (it restarted) and when the receiver asks (resync). At most
 * `window` frames are in flight: when tw_deliver_can_send is false the
 * caller stops reading upstream.
 * Receiver: a ROUTER bound on ipc://. It hands each frame to the caller once
 * per (src, epoch) and in seq order, drops duplicates and acks them again;
 * the caller calls tw_deliver_ack once the frame is durable on its side
 * (acks are cumulative per src).
 *
 * Both sides run on the process's tw_loop: tw_deliver_attach registers the
 * socket and the resend/probe timer; a receiver's callback reads with
 * tw_deliver_recv_each. (Without a loop: poll tw_deliver_socket for
 * ZMQ_POLLIN, then call tw_deliver_handle or tw_deliver_recv until
 * TW_ERR_AGAIN; call tw_deliver_tick when tw_deliver_timeout_ms says so.)
 * Times are CLOCK_MONOTONIC milliseconds. */
#ifndef TW_DELIVER_H
#define TW_DELIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tw_loop.h"
#include "tw_proto.h"
#include "tw_rc.h"

/* Default frames in flight per sender. */
#define TW_DELIVER_WINDOW 256
/* Default: resend every unacked frame after this long without an ack. */
#define TW_DELIVER_ACK_TIMEOUT_MS 5000
/* Default: probe the receiver (SYNC) after this long without an ack. */
#define TW_DELIVER_PROBE_MS 1000
/* Default: a receiver keeps state for this many senders before it forgets
 * idle ones (one chat@VIDEO per stream accumulates over months)... */
#define TW_DELIVER_MAX_PEERS 1024
/* ...idle meaning no frame for this long and nothing unacked. */
#define TW_DELIVER_PEER_IDLE_MS (10 * 60 * 1000)
/* Largest frame tw_deliver_send accepts (= TW_JOURNAL_MAX_RECORD). */
#define TW_DELIVER_MAX_FRAME (64u * 1024 * 1024)

/* One end of a delivery link: a sender or a receiver. */
typedef struct tw_deliver tw_deliver_t;

/* Sender settings; zero values mean the defaults. */
typedef struct {
    const char *endpoint;    /* receiver's endpoint, "ipc://DIR/writer" */
    const char *src;         /* stable name and routing id, "chat@VIDEO" */
    uint64_t epoch;          /* incarnation (supervisor); 0 = now in us */
    uint32_t window;         /* frames in flight; 0 = TW_DELIVER_WINDOW */
    uint32_t ack_timeout_ms; /* 0 = TW_DELIVER_ACK_TIMEOUT_MS */
    uint32_t probe_ms;       /* 0 = TW_DELIVER_PROBE_MS */
    const char *journal;     /* journal path, NULL = keep frames in memory */
} tw_deliver_opts_t;

/* Counters of one end. */
typedef struct {
    uint64_t sent;      /* sender: frames sent for the first time */
    uint64_t resent;    /* sender: frames sent again */
    uint64_t acked;     /* sender: frames trimmed by acks */
    uint64_t replayed;  /* sender: frames replayed from the journal */
    uint64_t delivered; /* receiver: frames handed to the caller */
    uint64_t dups;      /* receiver: duplicate frames dropped */
    uint64_t dropped;   /* receiver: out-of-order or stale frames dropped */
    uint64_t bad;       /* both: undecodable frames */
} tw_deliver_stats_t;

/* Creates a sender connected to opts->endpoint. zctx is the caller's ZMQ
 * context, or NULL for a private one. With opts->journal, frames left in the
 * journal by an earlier run are queued first (restamped with this epoch and
 * new seqs), and every sent frame is journaled (fdatasync) before it leaves.
 * Returns TW_ERR_INVALID on bad options, TW_ERR_IO/TW_ERR_STATE from the
 * journal, TW_ERR_NET when ZMQ fails. */
tw_rc_t tw_deliver_sender_new(tw_deliver_t **self_p, void *zctx,
                              const tw_deliver_opts_t *opts, tw_err_t *err);
/* Creates a receiver bound on endpoint; name is the src of its acks, epoch
 * its incarnation (0 = now in us). zctx as above. Returns TW_ERR_NET when
 * the endpoint cannot be bound. */
tw_rc_t tw_deliver_receiver_new(tw_deliver_t **self_p, void *zctx,
                                const char *endpoint, const char *name,
                                uint64_t epoch, tw_err_t *err);
/* Closes the socket at once (ZMQ_LINGER 0: unacked frames are not waited
 * for; call tw_deliver_drain first), frees *self_p, sets it to NULL. */
void tw_deliver_destroy(tw_deliver_t **self_p);

/* Returns the ZMQ socket to poll for ZMQ_POLLIN (borrowed). */
void *tw_deliver_socket(tw_deliver_t *self);
/* Returns the milliseconds until tw_deliver_tick is due, or -1 when no
 * timer runs. */
int tw_deliver_timeout_ms(tw_deliver_t *self, int64_t now_ms);
/* Runs timers: resends after the ack timeout, probes the receiver, retries
 * frames the socket refused. */
tw_rc_t tw_deliver_tick(tw_deliver_t *self, int64_t now_ms, tw_err_t *err);
/* Copies the counters into *stats. */
void tw_deliver_stats(const tw_deliver_t *self, tw_deliver_stats_t *stats);

/* Sender: true when a frame may be sent (fewer than window unacked). */
bool tw_deliver_can_send(const tw_deliver_t *self);
/* Sender: stamps msg (src, epoch, seq), journals and sends it. Returns
 * TW_ERR_AGAIN without sending when out of credit, encoding errors
 * (TW_ERR_TOOBIG also for a frame over TW_DELIVER_MAX_FRAME: split the
 * batch; TW_ERR_INVALID) and journal errors; the frame is kept for
 * resending whenever TW_OK is returned. */
tw_rc_t tw_deliver_send(tw_deliver_t *self, tw_msg_t *msg, tw_err_t *err);
/* Sender: processes every ack waiting on the socket (non-blocking). */
tw_rc_t tw_deliver_handle(tw_deliver_t *self, tw_err_t *err);
/* Sender: returns the highest seq of this epoch the receiver acked (0 when
 * none): every frame up to it is durable downstream. A relay (tokenizer)
 * notes msg->seq after tw_deliver_send and acks its own inputs once this
 * passes it. */
uint64_t tw_deliver_acked(const tw_deliver_t *self);
/* Sender: returns the number of frames sent (or queued) and not yet acked. */
size_t tw_deliver_unacked(const tw_deliver_t *self);
/* Sender: waits up to timeout_ms for every frame to be acked, handling acks
 * and timers; for a process's last words once its loop has returned (it
 * runs no other callback). TW_OK when all were acked, else
 * TW_ERR_TIMEOUT. */
tw_rc_t tw_deliver_drain(tw_deliver_t *self, int timeout_ms, tw_err_t *err);

/* Receiver: sets how many senders it tracks before it forgets idle ones and
 * after how long a sender is idle. A forgotten sender that comes back is
 * asked to SYNC and goes on where it was. */
void tw_deliver_set_peer_limit(tw_deliver_t *self, size_t max_peers,
                               int idle_ms);
/* Receiver: takes the next new frame into *msg (free with tw_proto_clear).
 * Returns TW_ERR_AGAIN when nothing is waiting (non-blocking). Duplicates,
 * stale and out-of-order frames and SYNCs are handled inside and never
 * returned. TW_ERR_PROTO: the next frame's body could not be decoded; msg
 * then holds only its envelope (id, src, epoch, seq) so that the caller can
 * count it and ack it like any other frame. Frames with seq 0 are not
 * sequenced (control messages): they are returned as they come, not acked. */
tw_rc_t tw_deliver_recv(tw_deliver_t *self, tw_msg_t *msg, tw_err_t *err);
/* Receiver: says that every frame of (src, epoch) up to seq is durable and
 * sends the cumulative ack. An ack for an older epoch of src is ignored
 * (TW_OK); one beyond what was delivered is TW_ERR_INVALID. */
tw_rc_t tw_deliver_ack(tw_deliver_t *self, const char *src, uint64_t epoch,
                       uint64_t seq, tw_err_t *err);
/* Receiver: notes that every frame of (src, epoch) up to seq is done while
 * its ack waits (for an fsync, for delivery reports); the highest seq per
 * sender is kept, and a note for an epoch the sender left is dropped (it
 * resends anyway). */
void tw_deliver_ack_later(tw_deliver_t *self, const char *src, uint64_t epoch,
                          uint64_t seq);
/* Receiver: true while acks noted by tw_deliver_ack_later wait. */
bool tw_deliver_acks_owed(const tw_deliver_t *self);
/* Receiver: sends every ack noted by tw_deliver_ack_later and forgets them.
 * Returns the first failure (err set for it); the others are sent anyway. */
tw_rc_t tw_deliver_ack_owed(tw_deliver_t *self, tw_err_t *err);

/* ---- on a tw_loop ---- */

/* What an attached end calls on its loop: a receiver when frames wait (read
 * them with tw_deliver_recv_each), a sender after it handled acks (credit
 * may be back: read upstream again). Return as a tw_loop callback. */
typedef tw_rc_t(tw_deliver_fn)(tw_deliver_t *self, void *arg);
/* Registers self on loop: its socket, and for a sender the timer of its
 * resends, probes and retries, kept due by every send, ack and tick (no
 * tw_deliver_tick or tw_deliver_handle calls are needed then). fn may be
 * NULL for a sender. Failures of acks and resends are logged, as the
 * sender goes on. TW_ERR_STATE when attached already; errors of
 * tw_loop_add_socket. tw_deliver_destroy detaches: destroy before the
 * loop. */
tw_rc_t tw_deliver_attach(tw_deliver_t *self, tw_loop_t *loop,
                          tw_deliver_fn *fn, void *arg);
/* Receiver: stops (paused) or resumes reading frames on the loop: frames
 * wait in the socket, and senders run out of credit. */
void tw_deliver_pause(tw_deliver_t *self, bool paused);

/* A frame for tw_deliver_recv_each: msg is the caller's (free it with
 * tw_proto_clear, or keep it), rc TW_OK or TW_ERR_PROTO (only the envelope
 * decoded, see tw_deliver_recv; why says what was wrong, else ""). Return
 * false to stop reading. */
typedef bool(tw_deliver_recv_fn)(tw_msg_t *msg, tw_rc_t rc, const char *why,
                                 void *arg);
/* Receiver: hands every waiting frame, at most max (0 = no limit), to fn
 * in order. TW_OK when nothing waits any more, fn returned false or max
 * frames were handed; an rc of tw_deliver_recv (err set) when receiving
 * failed. */
tw_rc_t tw_deliver_recv_each(tw_deliver_t *self, size_t max,
                             tw_deliver_recv_fn *fn, void *arg, tw_err_t *err);

#endif
