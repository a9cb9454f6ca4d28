// SPDX-License-Identifier: GPL-2.0-only
/*
 * qmp relay: the guest's display between one dom0 client and QEMU. See relay.h.
 */
#include "relay.h"
#include "core/buf.h"
#include "core/log.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct qmp_relay {
	struct qmp_relay_config cfg;
	struct session *sess;
	int qemu_fd; /* the session's connection to QEMU */
	bool qemu_eof;
	struct buf to_qemu;
};

static void close_qemu(struct qmp_relay *r)
{
	if (r->qemu_fd >= 0) {
		session_peer(r->sess, -1);
		close(r->qemu_fd);
	}
	r->qemu_fd = -1;
}

/* Room toward the client for QEMU's bytes. */
static size_t room_to_client(const struct qmp_relay *r)
{
	size_t pending = session_out_pending(r->sess);

	return pending < RELAY_BUF ? RELAY_BUF - pending : 0;
}

static const char *op_begin(void *arg)
{
	struct qmp_relay *r = arg;
	static char why[160];
	int fd;

	r->qemu_eof = false;
	buf_reset(&r->to_qemu);
	fd = r->cfg.connect(r->cfg.connect_arg, why, sizeof(why));
	if (fd < 0)
		return why;
	if (session_peer(r->sess, fd) < 0) {
		close(fd);
		return "cannot watch QEMU's side";
	}
	r->qemu_fd = fd;
	return NULL;
}

static size_t op_room(void *arg)
{
	return buf_room(&((struct qmp_relay *)arg)->to_qemu);
}

static void op_input(void *arg, const char *p, size_t n)
{
	struct qmp_relay *r = arg;

	/* op_room() bounded the read: it fits. */
	buf_add(&r->to_qemu, p, n);
}

static void qemu_gone(struct qmp_relay *r)
{
	/* What QEMU sent before still goes to the client. */
	r->qemu_eof = true;
	close_qemu(r);
	session_end_when_sent(r->sess);
}

static void op_io(void *arg)
{
	struct qmp_relay *r = arg;
	size_t budget = SESSION_BUDGET;
	char buf[4096];

	while (r->qemu_fd >= 0 && buf_pending(&r->to_qemu)) {
		ssize_t n = send(r->qemu_fd, buf_data(&r->to_qemu), buf_pending(&r->to_qemu),
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			break;
		if (n < 0) {
			qemu_gone(r);
			return;
		}
		buf_consume(&r->to_qemu, (size_t)n);
	}
	while (r->qemu_fd >= 0 && budget && room_to_client(r)) {
		size_t want = room_to_client(r) < sizeof(buf) ? room_to_client(r) : sizeof(buf);
		ssize_t n = read(r->qemu_fd, buf, want);

		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {
			qemu_gone(r);
			return;
		}
		budget -= (size_t)n < budget ? (size_t)n : budget;
		session_send(r->sess, buf, (size_t)n);
	}
	if (!budget)
		session_again(r->sess);
}

static bool op_settled(void *arg)
{
	return !buf_pending(&((struct qmp_relay *)arg)->to_qemu);
}

static void op_end(void *arg, const char *why)
{
	struct qmp_relay *r = arg;

	(void)why;
	close_qemu(r);
	buf_reset(&r->to_qemu);
}

static bool op_peer_read(void *arg)
{
	return room_to_client(arg) > 0;
}

static bool op_peer_write(void *arg)
{
	return buf_pending(&((struct qmp_relay *)arg)->to_qemu) > 0;
}

/* In struct session_ops' order; a later 0x01 is data, so restart never comes. */
static const struct session_ops ops = {op_begin,   op_room, op_input,	  NULL,		op_io,
				       op_settled, op_end,  op_peer_read, op_peer_write};

struct qmp_relay *qmp_relay_start(const struct qmp_relay_config *cfg)
{
	struct qmp_relay *r = calloc(1, sizeof(*r));
	struct session_config sc = cfg->session;

	if (!r)
		return NULL;
	r->cfg = *cfg;
	r->qemu_fd = -1;
	buf_init(&r->to_qemu, RELAY_BUF);
	sc.out_max = RELAY_BUF;
	sc.marker_anywhere = false;
	r->sess = session_start(&sc, &ops, r);
	if (r->sess)
		return r;
	buf_free(&r->to_qemu);
	free(r);
	return NULL;
}

void qmp_relay_stop(struct qmp_relay *r)
{
	if (!r)
		return;
	/* Ending a live session closes QEMU's side (op_end); none is open otherwise. */
	session_stop(r->sess);
	buf_free(&r->to_qemu);
	free(r);
}
