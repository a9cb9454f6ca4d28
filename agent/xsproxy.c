// SPDX-License-Identifier: GPL-2.0-only
/*
 * xsproxy: QEMU's xenstore, filtered. See xsproxy.h.
 */
#include "xsproxy.h"
#include "qemu.h"
#include "store.h"
#include "xswire.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/sock.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

/* Bytes queued toward either side, and moved per wake-up. */
#define QUEUE_MAX   (64 * 1024)
#define PUMP_BUDGET (64 * 1024)

struct conn {
	int qemu, up;	      /* QEMU's connection, stubinit's to xenstore */
	struct buf from_qemu; /* one request being assembled */
	struct buf from_up;   /* one reply or event being assembled */
	struct buf to_qemu, to_up;
	unsigned long id;
	struct conn *next;
};

static struct {
	enum xsproxy_mode mode;
	struct xswire_ident ident;
	char *path;
	int listen_fd;
	struct conn *conns;
	unsigned nconns;
	unsigned long next_id;
	struct loop_work *more;
	struct log_ratelimit refusals, strangers;
} xp = {.listen_fd = -1};

/* ---- a connection ---------------------------------------------------------------------------- */

static void on_io(int fd, uint32_t events, void *arg);

static void conn_close(struct conn *c, const char *why)
{
	struct conn **pp;

	for (pp = &xp.conns; *pp && *pp != c; pp = &(*pp)->next)
		;
	if (*pp)
		*pp = c->next;
	xp.nconns--;
	if (why)
		log_warn("xenstore: QEMU's connection %lu closed: %s", c->id, why);
	else
		log_debug("xenstore: QEMU's connection %lu closed", c->id);
	loop_remove(c->qemu);
	loop_remove(c->up);
	close(c->qemu);
	close(c->up);
	buf_free(&c->from_qemu);
	buf_free(&c->from_up);
	buf_free(&c->to_qemu);
	buf_free(&c->to_up);
	free(c);
}

/* The whole message at the front of @b: its length, or 0 while incomplete. */
static size_t whole(const struct buf *b)
{
	struct xsd_sockmsg h;

	if (buf_pending(b) < XSWIRE_HDR)
		return 0;
	memcpy(&h, buf_data(b), sizeof(h));
	return buf_pending(b) >= XSWIRE_HDR + h.len ? XSWIRE_HDR + h.len : 0;
}

/* One complete request from QEMU: passed on, or answered here. Returns false to close. */
static bool judge(struct conn *c, const char *msg)
{
	struct xsd_sockmsg h;
	char what[256], err[XSWIRE_MAX];
	enum xswire_verdict v;

	memcpy(&h, msg, sizeof(h));
	v = xswire_check(&xp.ident, &h, msg + XSWIRE_HDR, what, sizeof(what));
	if (xp.mode == XSPROXY_LOG) {
		log_foreign(LV_INFO, "xenstore: QEMU %s (%s)", what,
			    v == XSWIRE_ALLOW ? "allowed" : "would be refused");
		v = XSWIRE_ALLOW;
	}
	if (v == XSWIRE_ALLOW)
		return buf_add(&c->to_up, msg, XSWIRE_HDR + h.len) == 0;
	if (log_ratelimit(&xp.refusals))
		log_foreign(LV_WARN, "xenstore: refused QEMU's %s", what);
	return buf_add(&c->to_qemu, err,
		       xswire_error(&h, v == XSWIRE_REFUSE ? "EACCES" : "EINVAL", err)) == 0;
}

/* Room for one more message each way, whatever it is. */
static bool room_for_qemu(const struct conn *c)
{
	return buf_room(&c->to_up) >= XSWIRE_MAX && buf_room(&c->to_qemu) >= XSWIRE_MAX;
}

/* Reads @fd into @in (one message at a time); calls @take for each whole one. */
static int read_side(struct conn *c, int fd, struct buf *in, size_t *budget, bool from_qemu)
{
	while (*budget && (from_qemu ? room_for_qemu(c) : buf_room(&c->to_qemu) >= XSWIRE_MAX)) {
		size_t want = XSWIRE_HDR, got, n;
		struct xsd_sockmsg h;
		char *at;
		ssize_t r;

		if (buf_pending(in) >= XSWIRE_HDR) {
			memcpy(&h, buf_data(in), sizeof(h));
			if (from_qemu ? !xswire_header_ok(&h) : h.len > XENSTORE_PAYLOAD_MAX)
				return -EBADMSG;
			want = XSWIRE_HDR + h.len;
		}
		at = buf_space(in, want - buf_pending(in), &got);
		if (!at)
			return -ENOMEM;
		r = read(fd, at, want - buf_pending(in) < got ? want - buf_pending(in) : got);
		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			return 0;
		if (r <= 0)
			return r < 0 ? -errno : -EPIPE;
		buf_commit(in, (size_t)r);
		*budget -= (size_t)r < *budget ? (size_t)r : *budget;
		if (!(n = whole(in)))
			continue;
		if (from_qemu ? !judge(c, buf_data(in)) : buf_add(&c->to_qemu, buf_data(in), n) < 0)
			return -ENOBUFS;
		buf_consume(in, n);
	}
	return 0;
}

static int write_side(int fd, struct buf *out)
{
	while (buf_pending(out)) {
		ssize_t n = write(fd, buf_data(out), buf_pending(out));

		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return 0;
		if (n <= 0)
			return n < 0 ? -errno : -EPIPE;
		buf_consume(out, (size_t)n);
	}
	return 0;
}

static void interest(struct conn *c)
{
	loop_modify(c->qemu,
		    (room_for_qemu(c) ? EPOLLIN : 0) | (buf_pending(&c->to_qemu) ? EPOLLOUT : 0));
	loop_modify(c->up, (buf_room(&c->to_qemu) >= XSWIRE_MAX ? EPOLLIN : 0) |
				   (buf_pending(&c->to_up) ? EPOLLOUT : 0));
}

/* Everything that can move for @c, within the budget. Returns false once @c is closed. */
static bool pump(struct conn *c)
{
	size_t budget = PUMP_BUDGET;
	int err;

	if ((err = read_side(c, c->qemu, &c->from_qemu, &budget, true)) < 0) {
		conn_close(c, err == -EPIPE	? NULL
			      : err == -EBADMSG ? "not the xenstore protocol"
						: strerror(-err));
		return false;
	}
	if ((err = write_side(c->up, &c->to_up)) < 0 ||
	    (err = read_side(c, c->up, &c->from_up, &budget, false)) < 0) {
		conn_close(c, err == -EPIPE ? "xenstore closed the connection" : strerror(-err));
		return false;
	}
	if ((err = write_side(c->qemu, &c->to_qemu)) < 0) {
		conn_close(c, err == -EPIPE ? NULL : strerror(-err));
		return false;
	}
	if (!budget)
		loop_work_queue(xp.more);
	interest(c);
	return true;
}

static void on_io(int fd, uint32_t events, void *arg)
{
	(void)fd, (void)events;
	pump(arg);
}

static void on_more(void *arg)
{
	struct conn *c = xp.conns, *next;

	(void)arg;
	for (; c; c = next) {
		next = c->next;
		pump(c);
	}
}

/* ---- the socket ------------------------------------------------------------------------------ */

static void on_accept(int fd, uint32_t events, void *arg)
{
	struct conn *c;
	int q = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK), up;
	pid_t peer;

	(void)events, (void)arg;
	if (q < 0)
		return;
	if (!qemu_is_peer(q, &peer) || xp.nconns >= XSPROXY_MAX_CONNS) {
		if (log_ratelimit(&xp.strangers))
			log_warn("xenstore: refused a connection from pid %d (QEMU is %d; %u of %u "
				 "connections in use)",
				 (int)peer, qemu_pid(), xp.nconns, XSPROXY_MAX_CONNS);
		close(q);
		return;
	}
	up = store_open_raw();
	c = calloc(1, sizeof(*c));
	if (up < 0 || !c) {
		log_errno(LV_ERROR, errno, "xenstore: no connection to xenstore for QEMU");
		if (up >= 0)
			close(up);
		close(q);
		free(c);
		return;
	}
	c->qemu = q;
	c->up = up;
	c->id = ++xp.next_id;
	buf_init(&c->from_qemu, XSWIRE_MAX);
	buf_init(&c->from_up, XSWIRE_MAX);
	buf_init(&c->to_qemu, QUEUE_MAX);
	buf_init(&c->to_up, QUEUE_MAX);
	c->next = xp.conns;
	xp.conns = c;
	xp.nconns++;
	if (loop_add(q, EPOLLIN, on_io, c) < 0 || loop_add(up, EPOLLIN, on_io, c) < 0) {
		conn_close(c, "cannot watch it");
		return;
	}
	log_debug("xenstore: QEMU's connection %lu", c->id);
}

const char *xsproxy_start(const char *path, enum xsproxy_mode mode, unsigned stubdom,
			  unsigned guest)
{
	int fd, err;

	xp.mode = mode;
	xp.ident = (struct xswire_ident){stubdom, guest};
	xp.refusals = (struct log_ratelimit)LOG_RATELIMIT("xenstore: refusals", 10, 1000);
	xp.strangers = (struct log_ratelimit)LOG_RATELIMIT("xenstore: strangers", 5, 1000);
	xp.more = loop_work_new(on_more, NULL);
	fd = sock_listen(path, XSPROXY_MAX_CONNS);
	err = fd < 0 ? fd : !xp.more ? -ENOMEM : loop_add(fd, EPOLLIN, on_accept, NULL);
	if (err < 0) {
		log_errno(LV_ERROR, err, "xenstore: cannot listen for QEMU on %s", path);
		if (fd >= 0)
			close(fd);
		return "cannot serve QEMU's xenstore";
	}
	xp.listen_fd = fd;
	log_info("xenstore: QEMU reaches xenstore only through %s (%s)", path,
		 mode == XSPROXY_LOG ? "every request logged and passed" : "filtered");
	return NULL;
}
