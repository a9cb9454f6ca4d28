/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * qmp server: the QMP path to dom0. One client session at a time (qmp/session.h) over vchan or a
 * unix socket, every session sharing one connection to QEMU's session monitor (qmp/conn.h), which
 * QEMU opens to stubinit at its start and keeps while it lives: a QMP client that disconnects
 * while QEMU's output to it is in flight corrupts QEMU 7.2's heap. The firewall
 * (qmp/firewall.h) decides what crosses; this applies it, with bounds in both directions: a client
 * that does not read stops being read, QEMU's side is read only while the client keeps up, and a
 * client's bytes wait only up to QMP_TO_QEMU_LIMIT.
 *
 * Owns the save hold: when a session's save to /dev/fdset/1 succeeds, QEMU's reply is held, QEMU's
 * side is not read, and the owner is asked to move the state where dom0 reads it; the reply goes
 * out on qmp_server_save_done(). The held reply belongs to its session: if that session ends
 * first, the reply is dropped (logged) and the next session never sees it.
 */
#ifndef STUBINIT_QMP_SERVER_H
#define STUBINIT_QMP_SERVER_H

#include "session.h"

#include <stddef.h>

/* Client bytes queued toward QEMU before the client stops being read. */
#define QMP_TO_QEMU_LIMIT (64 * 1024)
/* Commands waiting for QEMU's reply: the client stops being read at half of it (one read of the
 * client's may hold many commands, and none may be refused out of order). */
#define QMP_SERVER_INFLIGHT 4096
/* What parsing one message of the session path may allocate (qmp/framer.h), whatever its size. */
#define QMP_SESSION_ALLOC_MAX (8 << 20)

struct qmp_server;

typedef void (*qmp_save_fn)(struct qmp_server *srv, void *arg);

struct qmp_server_config {
	struct session_config session; /* the transport; the rest is the server's to set */
	size_t max_message;	       /* cap on one message, each direction */
	const char *allow; /* space-separated commands allowed toward QEMU, "*", or "" */
	qmp_save_fn save;
	void *save_arg;
};

struct qmp_server *qmp_server_start(const struct qmp_server_config *cfg);
void qmp_server_stop(struct qmp_server *srv);

/* QEMU's session monitor connected: @fd (taken) is the connection every session shares. */
void qmp_server_attach(struct qmp_server *srv, int fd);

/* The held save reply goes out: as QEMU's success with @error NULL, else as an error reply whose
 * description is @error. The save callback may call it itself. */
void qmp_server_save_done(struct qmp_server *srv, const char *error);

#endif
