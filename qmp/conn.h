/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * qmp conn: the one QMP client of stubinit, over a connected unix socket to one of QEMU's
 * monitors. Owns the greeting, commands with their replies matched by id, events, passing an fd
 * with a command (SCM_RIGHTS, as add-fd and getfd need), and forwarding whole commands that came
 * from elsewhere (dom0's): each command leaves with an id of the connection's own, so a reply
 * finds its caller whatever id the command had.
 *
 * Everything from QEMU is hostile: messages are framed within the limits given (qmp/framer.h),
 * a reply is matched only by an id the connection issued, a second greeting, an event before the
 * greeting or a message of no known shape is dropped and counted. Nothing grows without bound:
 * bytes queued toward QEMU are capped (qmp_conn_command refuses past the cap) and so are commands
 * in flight. It never blocks: the owner polls qmp_conn_fd() for reading (and for writing while
 * qmp_conn_wants_write()) and calls qmp_conn_read() / qmp_conn_flush().
 */
#ifndef STUBINIT_QMP_CONN_H
#define STUBINIT_QMP_CONN_H

#include <stdbool.h>
#include <stddef.h>

struct json_object;
struct qmp_conn;

/* Commands waiting for their reply, at most, unless the limits say otherwise; and commands with
 * an fd waiting to be sent. */
#define QMP_CONN_INFLIGHT 64

/* @msg is the whole reply ({"return": ...} or {"error": ...}), or NULL when the connection closed
 * first. Borrowed. Called exactly once for every command queued. */
typedef void (*qmp_reply_fn)(struct json_object *msg, void *arg);

struct qmp_conn_ops {
	void (*greeting)(struct json_object *greeting, void *arg);
	void (*event)(struct json_object *event, void *arg);
	/* A message refused by the framer's limits (skipped; the connection goes on). QEMU answers
	 * in order, so it is taken for the reply to the oldest command waiting, which gets an error
	 * reply of stubinit's ("stubinit: QEMU's reply was refused: <why>"). */
	void (*refused)(const char *why, void *arg);
	void (*closed)(const char *why, void *arg);
};

struct qmp_conn_limits {
	size_t max_msg;	       /* bytes of one message from QEMU */
	size_t max_alloc;      /* what parsing one message may allocate (framer.h) */
	size_t max_out;	       /* bytes queued toward QEMU */
	unsigned max_inflight; /* commands waiting for their reply; 0: QMP_CONN_INFLIGHT */
};

/* Takes ownership of @fd (made non-blocking). */
struct qmp_conn *qmp_conn_new(int fd, const struct qmp_conn_limits *lim,
			      const struct qmp_conn_ops *ops, void *arg);
int qmp_conn_fd(const struct qmp_conn *c);

/*
 * Reads at most @budget bytes and dispatches them. Returns 0 when there is nothing more to read
 * now, 1 when the budget ran out first (call again next turn), or -1 once the connection is
 * closed (ops->closed has been called; the owner then frees it).
 */
int qmp_conn_read(struct qmp_conn *c, size_t budget);

/*
 * Queues @cmd with @args (ownership taken; may be NULL) and, with @pass_fd >= 0, that fd alongside
 * (it must stay open until @fn is called). Returns 0, -EPIPE (closed), -ENOBUFS (too much queued
 * toward QEMU or too many commands in flight) or -ENOMEM; on error @fn is not called. @fn may be
 * NULL: nobody waits for the reply.
 */
int qmp_conn_command(struct qmp_conn *c, const char *cmd, struct json_object *args, int pass_fd,
		     qmp_reply_fn fn, void *arg);

/* Queues the command object @msg as it is but for its "id", which becomes the connection's own.
 * @msg is borrowed (its id is replaced). Returns as qmp_conn_command. */
int qmp_conn_forward(struct qmp_conn *c, struct json_object *msg, qmp_reply_fn fn, void *arg);

/* Writes what the socket takes now: 0 all sent, 1 more pending, -1 failed (closed). */
int qmp_conn_flush(struct qmp_conn *c);
bool qmp_conn_wants_write(const struct qmp_conn *c);
/* Bytes queued toward QEMU. */
size_t qmp_conn_queued(const struct qmp_conn *c);
/* Commands waiting for their reply. */
unsigned qmp_conn_inflight(const struct qmp_conn *c);
/* Messages from QEMU dropped: no known shape, a reply to no command, a second greeting. */
unsigned long qmp_conn_dropped(const struct qmp_conn *c);

/* Closes the fd; commands still waiting get their callback with NULL. */
void qmp_conn_free(struct qmp_conn *c);

#endif
