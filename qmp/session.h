/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * qmp session: dom0's side of a channel into the stubdomain, one client session at a time, over a
 * transport: a vchan (production: dom0 is the client of a ring the stubdomain serves at a
 * xenstore path) or a unix socket (tests, debugging without Xen). Shared by the QMP server and
 * the display relay, which own the other side (QEMU) and plug in through struct session_ops.
 *
 * Owns the transport, the client's bytes in both directions, and the session's life:
 *
 *   IDLE --client arrives--> OPEN --client half-closes (unix)--> EOF --all answered--> IDLE
 *   OPEN/EOF --ended by stubinit, vchan client still there--> DISCARD --client leaves--> IDLE
 *   OPEN --reconnect marker after traffic--> OPEN (a new session on the same client)
 *
 * In DISCARD the client's bytes are read and dropped: a vchan client that a session ended under
 * must not get the next session's data. A vchan client gets a ring of its own: when its session
 * begins, a fresh ring is published at the path for the next client, and when it leaves, its ring
 * is closed and the fresh one takes its place (a client that reconnects at once, as
 * vchan-socket-proxy does, cannot be taken for the one that left). A leading 0x01 (the reconnect
 * marker some toolstacks send) is never passed on; with marker_anywhere a later one restarts the
 * session, else it is data.
 * Output toward the client is capped (out_max): what does not fit is refused, and the owner stops
 * producing when the client is behind. Each wake-up reads at most SESSION_BUDGET bytes from the
 * client and then comes back in the next turn of the loop.
 *
 * The owner's side (QEMU) is an fd the engine watches for it (session_peer): readable while the
 * owner wants to read, writable while it has bytes for it. A hang-up is reported whatever the
 * interest, so one that comes while the owner does not read (its client is behind) is parked:
 * the fd is unwatched until the owner reads again, and the loop never spins on it.
 */
#ifndef STUBINIT_QMP_SESSION_H
#define STUBINIT_QMP_SESSION_H

#include <stdbool.h>
#include <stddef.h>

#define SESSION_BUDGET	 (64 * 1024)
#define RECONNECT_MARKER 0x01

enum session_transport {
	SESSION_VCHAN,
	SESSION_UNIX
};

struct session_config {
	enum session_transport transport;
	const char *unix_path;	/* SESSION_UNIX: where the client connects */
	unsigned peer;		/* SESSION_VCHAN: the toolstack's domain */
	const char *vchan_path; /* SESSION_VCHAN: the xenstore path of the ring */
	const char *name;	/* in log lines: "qmp", "vnc" */
	const char *what;	/* what is served, in the log: "dom0's QMP" */
	size_t out_max;		/* bytes toward the client at most */
	bool marker_anywhere;	/* a later 0x01 restarts the session (QMP); else it is data */
	bool quiet;		/* a session's normal begin and end logged at debug, not info */
	unsigned test_lag_ms;	/* tests: each vchan wake-up handled this late (0: at once) */
};

struct session_ops {
	/* A client arrived: NULL, or why the session cannot begin (it ends at once). */
	const char *(*begin)(void *arg);
	/* How many client bytes the owner takes now (0: the client is not read). */
	size_t (*room)(void *arg);
	/* Client bytes, markers taken out. */
	void (*input)(void *arg, const char *p, size_t n);
	/* A reconnect marker after traffic (marker_anywhere only): the owner starts afresh. NULL
	 * without marker_anywhere. */
	void (*restart)(void *arg);
	/* Every pump, after the client's input and before its output: the owner moves its side. */
	void (*io)(void *arg);
	/* A half-closed client: whether everything it asked has been answered. */
	bool (*settled)(void *arg);
	/* The session ended (@why NULL: normally): the owner drops what belonged to it. */
	void (*end)(void *arg, const char *why);
	/* Whether the owner reads its side (session_peer) now, and has bytes to write to it. */
	bool (*peer_read)(void *arg);
	bool (*peer_write)(void *arg);
};

struct session;

/* NULL after logging when the transport cannot be served. */
struct session *session_start(const struct session_config *cfg, const struct session_ops *ops,
			      void *arg);
void session_stop(struct session *s);

/* Moves everything that can move now; owners call it when their side moved by itself. */
void session_pump(struct session *s);
/* The owner's side: @fd is watched for it from now on (-1: no more; the owner closes it). Its
 * events pump the session. Returns 0 or a negative errno. */
int session_peer(struct session *s, int fd);
/* The owner's budget ran out: pump again in the next turn of the loop. */
void session_again(struct session *s);

/* Whether a client is being served (what is sent reaches it). */
bool session_live(const struct session *s);
/* Queues bytes for the client: 0, or -ENOBUFS past out_max (nothing queued), -ENOMEM. */
int session_send(struct session *s, const char *p, size_t n);
size_t session_out_pending(const struct session *s);
/* Ends the session now (@why NULL: normally; else logged as a warning). */
void session_end(struct session *s, const char *why);
/* Ends the session once what is queued for the client has been sent (the owner's side ended). */
void session_end_when_sent(struct session *s);

#endif
