/*
 * qmp relay: a byte stream between one dom0 client and a unix socket of QEMU's (the guest's VNC
 * display), over the QMP path's transports. See qmp.h.
 */
#include "qmp.h"
#include "agent/log.h"
#include "agent/loop.h"

#include <errno.h>
#include <libxenvchan.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define RECONNECT_MARKER 0x01

/* One direction's bytes in flight: a full buffer stops reading the side that fills it. */
struct pipe_buf {
	char d[RELAY_BUF];
	size_t off, len;
};

struct qmp_relay {
	struct qmp_relay_config cfg;
	char *unix_path, *vchan_path, *target_path, *name;

	int listen_fd, client_fd; /* unix transport */
	struct libxenvchan *vc;	  /* vchan transport: the ring, kept across sessions */
	int vc_fd;
	int qemu_fd; /* the session's connection to QEMU's socket */

	bool active;  /* a session runs */
	bool discard; /* vchan: the session ended on our side; drop input until the client leaves */
	bool fresh;   /* nothing from the client yet (a leading reconnect marker is dropped) */
	bool client_eof, qemu_eof;
	bool parked; /* QEMU's socket hung up while the client is behind: unwatched until room */
	struct pipe_buf to_qemu, to_client;
	unsigned long sessions;
};

static void end_session(struct qmp_relay *r, const char *why);
static void update_interest(struct qmp_relay *r);
static void close_qemu(struct qmp_relay *r);
static void on_qemu_io(int fd, uint32_t events, void *arg);

static size_t room(const struct pipe_buf *b)
{
	return sizeof(b->d) - b->len;
}

static size_t pending(const struct pipe_buf *b)
{
	return b->len - b->off;
}

static void consumed(struct pipe_buf *b, size_t n)
{
	b->off += n;
	if (b->off == b->len)
		b->off = b->len = 0;
}

/* Room at the end after moving the unsent bytes to the front. */
static char *tail(struct pipe_buf *b)
{
	if (b->off) {
		memmove(b->d, b->d + b->off, b->len - b->off);
		b->len -= b->off;
		b->off = 0;
	}
	return b->d + b->len;
}

/* ---- the client's side ----------------------------------------------------------------------- */

static ssize_t client_read(struct qmp_relay *r, char *buf, size_t n)
{
	return qmp_transport_read(r->client_fd, r->vc, buf, n);
}

static ssize_t client_write(struct qmp_relay *r, const char *buf, size_t n)
{
	return qmp_transport_write(r->client_fd, r->vc, buf, n);
}

/* ---- pumping --------------------------------------------------------------------------------- */

static void pump_client_in(struct qmp_relay *r)
{
	while (r->active && !r->client_eof && room(&r->to_qemu)) {
		char *at = tail(&r->to_qemu);
		ssize_t n = client_read(r, at, room(&r->to_qemu));

		if (n == -EAGAIN || n == -EINTR)
			return;
		if (n <= 0) {
			r->client_eof = true;
			return;
		}
		if (r->discard)
			continue;
		if (r->fresh && *at == RECONNECT_MARKER) {
			memmove(at, at + 1, (size_t)--n);
		}
		r->fresh = false;
		r->to_qemu.len += (size_t)n;
	}
}

static void pump_qemu(struct qmp_relay *r)
{
	while (r->qemu_fd >= 0 && pending(&r->to_qemu)) {
		ssize_t n = send(r->qemu_fd, r->to_qemu.d + r->to_qemu.off, pending(&r->to_qemu),
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			break;
		if (n < 0) {
			/* QEMU is gone: what it sent before still goes to the client. */
			r->qemu_eof = true;
			close_qemu(r);
			break;
		}
		consumed(&r->to_qemu, (size_t)n);
	}
	while (r->qemu_fd >= 0 && !r->qemu_eof && room(&r->to_client)) {
		char *at = tail(&r->to_client);
		ssize_t n = read(r->qemu_fd, at, room(&r->to_client));

		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			break;
		if (n <= 0) {
			r->qemu_eof = true;
			close_qemu(r);
			break;
		}
		r->to_client.len += (size_t)n;
	}
}

static void pump_client_out(struct qmp_relay *r)
{
	while (r->active && !r->discard && pending(&r->to_client)) {
		ssize_t n =
			client_write(r, r->to_client.d + r->to_client.off, pending(&r->to_client));

		if (n == -EAGAIN || n == -EINTR)
			return;
		if (n < 0) {
			end_session(r, r->cfg.transport == QMP_UNIX ? NULL : "client write failed");
			return;
		}
		consumed(&r->to_client, (size_t)n);
	}
}

static void pump(struct qmp_relay *r)
{
	pump_client_in(r);
	pump_qemu(r);
	pump_client_out(r);
	/* Either end gone: what the other still has in flight to it is delivered first. */
	if (r->active && !r->discard && r->qemu_eof && !pending(&r->to_client))
		end_session(r, NULL);
	else if (r->active && !r->discard && r->client_eof && !pending(&r->to_qemu))
		end_session(r, NULL);
	update_interest(r);
}

static void update_interest(struct qmp_relay *r)
{
	if (r->qemu_fd >= 0 && r->parked && room(&r->to_client) &&
	    loop_add(r->qemu_fd, EPOLLIN, on_qemu_io, r) == 0)
		r->parked = false;
	if (r->qemu_fd >= 0 && !r->parked)
		loop_modify(r->qemu_fd, (room(&r->to_client) ? EPOLLIN : 0) |
						(pending(&r->to_qemu) ? EPOLLOUT : 0));
	if (r->active && r->cfg.transport == QMP_UNIX && r->client_fd >= 0)
		loop_modify(r->client_fd, (!r->client_eof && room(&r->to_qemu) ? EPOLLIN : 0) |
						  (pending(&r->to_client) ? EPOLLOUT : 0));
}

static void on_io(int fd, uint32_t events, void *arg)
{
	(void)fd, (void)events;
	pump(arg);
}

static void on_qemu_io(int fd, uint32_t events, void *arg)
{
	struct qmp_relay *r = arg;

	/* A hang-up is reported whatever the interest: with no room to read what is left, it would
	 * wake the loop until the client reads. */
	if ((events & (EPOLLHUP | EPOLLERR)) && !room(&r->to_client)) {
		loop_remove(fd);
		r->parked = true;
	}
	pump(r);
}

/* ---- the session ----------------------------------------------------------------------------- */

static void close_qemu(struct qmp_relay *r)
{
	if (r->qemu_fd >= 0) {
		if (!r->parked)
			loop_remove(r->qemu_fd);
		close(r->qemu_fd);
	}
	r->qemu_fd = -1;
	r->parked = false;
}

static void on_listen(int fd, uint32_t events, void *arg);

static void begin_session(struct qmp_relay *r)
{
	int fd;

	r->active = true;
	r->discard = r->client_eof = r->qemu_eof = false;
	r->fresh = true;
	r->to_qemu.off = r->to_qemu.len = r->to_client.off = r->to_client.len = 0;
	r->sessions++;
	fd = qmp_transport_connect(r->target_path);
	if (fd < 0) {
		char why[160];

		snprintf(why, sizeof(why), "cannot connect to %s: %s", r->target_path,
			 strerror(-fd));
		end_session(r, why);
		return;
	}
	if (loop_add(fd, EPOLLIN, on_qemu_io, r) < 0) {
		close(fd);
		end_session(r, "cannot watch QEMU's socket");
		return;
	}
	r->qemu_fd = fd;
	log_info("%s: session %lu begins (QEMU's %s)", r->name, r->sessions, r->target_path);
}

static void end_session(struct qmp_relay *r, const char *why)
{
	if (!r->active)
		return;
	if (why)
		log_warn("%s: session %lu ended: %s", r->name, r->sessions, why);
	else
		log_info("%s: session %lu ended", r->name, r->sessions);
	close_qemu(r);
	r->to_qemu.off = r->to_qemu.len = r->to_client.off = r->to_client.len = 0;
	r->active = false;
	if (r->cfg.transport == QMP_UNIX) {
		if (r->client_fd >= 0) {
			loop_remove(r->client_fd);
			close(r->client_fd);
			r->client_fd = -1;
		}
		loop_add(r->listen_fd, EPOLLIN, on_listen, r);
	} else if (libxenvchan_is_open(r->vc) == 1) {
		/* The client is still there: it must not get the next session's bytes. */
		r->discard = true;
		r->active = true;
	}
}

static void on_listen(int fd, uint32_t events, void *arg)
{
	struct qmp_relay *r = arg;
	int c;

	(void)events;
	c = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (c < 0)
		return;
	/* One session at a time: the next client waits in the backlog. */
	loop_remove(fd);
	r->client_fd = c;
	if (loop_add(c, EPOLLIN, on_io, r) < 0) {
		r->active = true;
		end_session(r, "cannot watch the client");
		return;
	}
	begin_session(r);
	pump(r);
}

static void on_vchan(int fd, uint32_t events, void *arg)
{
	struct qmp_relay *r = arg;
	int open;

	(void)fd, (void)events;
	/* Only after epoll said so: libxenvchan_wait() would block otherwise. */
	libxenvchan_wait(r->vc);
	open = libxenvchan_is_open(r->vc);
	if (open == 1 && !r->active) {
		begin_session(r);
	} else if (open != 1 && r->active) {
		r->discard = false;
		end_session(r, NULL);
		qmp_transport_vchan_drop(r->vc);
		return;
	}
	if (r->active)
		pump(r);
}

/* ---- start and stop -------------------------------------------------------------------------- */

static int start_unix(struct qmp_relay *r)
{
	r->listen_fd = qmp_transport_listen(r->unix_path, r->name);
	if (r->listen_fd < 0 || loop_add(r->listen_fd, EPOLLIN, on_listen, r) < 0)
		return -1;
	log_info("%s: serving %s on unix socket %s", r->name, r->target_path, r->unix_path);
	return 0;
}

static int start_vchan(struct qmp_relay *r)
{
	r->vc = qmp_transport_vchan(r->cfg.peer, r->vchan_path, r->name);
	if (!r->vc)
		return -1;
	r->vc_fd = libxenvchan_fd_for_select(r->vc);
	if (loop_add(r->vc_fd, EPOLLIN, on_vchan, r) < 0) {
		libxenvchan_close(r->vc);
		r->vc = NULL;
		return -1;
	}
	log_info("%s: serving %s on vchan %s (peer domain %u)", r->name, r->target_path,
		 r->vchan_path, r->cfg.peer);
	return 0;
}

struct qmp_relay *qmp_relay_start(const struct qmp_relay_config *cfg)
{
	struct qmp_relay *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->cfg = *cfg;
	r->listen_fd = r->client_fd = r->vc_fd = r->qemu_fd = -1;
	r->unix_path = cfg->unix_path ? strdup(cfg->unix_path) : NULL;
	r->vchan_path = cfg->vchan_path ? strdup(cfg->vchan_path) : NULL;
	r->target_path = strdup(cfg->target_path);
	r->name = strdup(cfg->name ? cfg->name : "relay");
	if (!r->target_path || !r->name ||
	    (cfg->transport == QMP_UNIX ? start_unix(r) : start_vchan(r)) < 0) {
		qmp_relay_stop(r);
		return NULL;
	}
	return r;
}

unsigned long qmp_relay_sessions(const struct qmp_relay *r)
{
	return r->sessions;
}

void qmp_relay_stop(struct qmp_relay *r)
{
	if (!r)
		return;
	if (r->active) {
		r->discard = false;
		r->active = false;
		close_qemu(r);
	}
	if (r->client_fd >= 0) {
		loop_remove(r->client_fd);
		close(r->client_fd);
	}
	if (r->listen_fd >= 0) {
		loop_remove(r->listen_fd);
		close(r->listen_fd);
		unlink(r->unix_path);
	}
	if (r->vc) {
		loop_remove(r->vc_fd);
		libxenvchan_close(r->vc);
	}
	free(r->unix_path);
	free(r->vchan_path);
	free(r->target_path);
	free(r->name);
	free(r);
}
