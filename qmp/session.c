// SPDX-License-Identifier: GPL-2.0-only
/*
 * qmp session: one dom0 client at a time over vchan or a unix socket. See session.h.
 */
#include "session.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/sock.h"
#include "core/xenlog.h"

#include <errno.h>
#include <stdarg.h>
#include <libxenvchan.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum state {
	IDLE,
	OPEN,
	EOF_,
	DISCARD
};

struct session {
	struct session_config cfg;
	char *unix_path, *vchan_path, *name, *what;
	const struct session_ops *ops;
	void *arg;
	enum state state;
	bool fresh; /* no byte from the client yet in this session */
	bool end_when_sent;
	bool pumping, again;
	int listen_fd;		/* unix: listening; registered while no session runs */
	int client_fd;		/* unix: the session's client */
	struct libxenvchan *vc; /* vchan: the ring of the session (or of the next client) */
	int vc_fd;
	struct libxenvchan *spare; /* vchan: published for the next client once vc has one */
	struct loop_timer *lag;	   /* test-vchan-lag: the wake-up being held */
	bool lagged;		   /* the wake-up now handled was held */
	int peer_fd;		   /* the owner's side, or -1 */
	bool peer_parked; /* hung up while not read: unwatched until the owner reads again */
	struct buf out;
	struct loop_work *more; /* a budget ran out: pump again next turn */
	unsigned long count;
};

/* ---- the transports -------------------------------------------------------------------------- */

/* >0 bytes, 0 the client's end of stream (a vchan: closed), -EAGAIN nothing now, <0 errors. */
static ssize_t client_read(struct session *s, char *buf, size_t n)
{
	int got;

	if (!s->vc) {
		ssize_t k = read(s->client_fd, buf, n);

		return k < 0 ? -errno : k;
	}
	if (libxenvchan_is_open(s->vc) != 1)
		return 0;
	if (libxenvchan_data_ready(s->vc) <= 0)
		return -EAGAIN;
	got = libxenvchan_read(s->vc, buf, n);
	return got < 0 ? -EIO : got == 0 ? -EAGAIN : got;
}

/* >0 bytes taken, -EAGAIN no room now, <0 errors (-EPIPE: the vchan closed). */
static ssize_t client_write(struct session *s, const char *buf, size_t n)
{
	int space, put;

	if (!s->vc) {
		ssize_t k = send(s->client_fd, buf, n, MSG_NOSIGNAL | MSG_DONTWAIT);

		return k < 0 ? -errno : k;
	}
	if (libxenvchan_is_open(s->vc) != 1)
		return -EPIPE;
	space = libxenvchan_buffer_space(s->vc);
	if (space <= 0)
		return -EAGAIN;
	put = libxenvchan_write(s->vc, buf, n < (size_t)space ? n : (size_t)space);
	return put < 0 ? -EIO : put == 0 ? -EAGAIN : put;
}

/* What a departed vchan client left in the ring is not the next client's. */
static void vchan_drop(struct libxenvchan *vc)
{
	char junk[1024];

	while (libxenvchan_data_ready(vc) > 0 && libxenvchan_read(vc, junk, sizeof(junk)) > 0)
		;
}

/* ---- a ring per client ---------------------------------------------------------------------- */

/*
 * vchan-socket-proxy (libxl's, in client mode) closes its end of the ring when its unix client
 * goes and connects again for the next one at once. On the same ring, a server that had not woken
 * in between sees the client live throughout and takes the newcomer for the old session: no
 * greeting, and libxl times out (Qubes issue 6824; upstream libxl sends no reconnect marker). So
 * each client gets a ring of its own: when a session begins, a fresh ring is published at the path
 * (libxenvchan_server_init writes ring-ref and event-channel in one transaction) and the next
 * client, which reads the path only after this one closed, connects there. The spare is not
 * watched until it becomes the session's ring: its client's notification waits in its event
 * channel, and epoll reports it as soon as the fd is added.
 */
static void on_vchan(int fd, uint32_t events, void *arg);

/* A ring published at the path, non-blocking; NULL with errno set. */
static struct libxenvchan *new_ring(const struct session *s)
{
	struct timespec t0, t1;
	struct libxenvchan *vc;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	vc = libxenvchan_server_init(xenlog_logger(), (int)s->cfg.peer, s->vchan_path, 0, 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	log_debug("%s: ring published at %s in %lld ms", s->name, s->vchan_path,
		  (long long)(t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000);
	if (vc)
		vc->blocking = 0;
	return vc;
}

/* @vc becomes the session's ring, watched in the loop. */
static int watch_ring(struct session *s, struct libxenvchan *vc)
{
	s->vc = vc;
	s->vc_fd = libxenvchan_fd_for_select(vc);
	return loop_add(s->vc_fd, EPOLLIN, on_vchan, s);
}

static void arm_spare(struct session *s)
{
	if (!s->vc || s->spare)
		return;
	s->spare = new_ring(s);
	if (!s->spare)
		/* libxenvchan removed the path if its xenstore write failed. */
		log_errno(LV_ERROR, errno,
			  "%s: no new ring at %s for the next client: it reconnects to this one",
			  s->name, s->vchan_path);
}

/* A vchan's client left and its session is over: its ring is closed, leaving the path (which
 * names the spare) in place, and the spare becomes the ring. Without a spare the ring stays for
 * the next client. */
static void retire_ring(struct session *s)
{
	struct libxenvchan *spare = s->spare;

	if (!s->vc || !spare)
		return;
	loop_remove(s->vc_fd);
	free(s->vc->xs_path);
	s->vc->xs_path = NULL;
	libxenvchan_close(s->vc);
	s->spare = NULL;
	if (watch_ring(s, spare) < 0)
		log_error("%s: cannot watch the ring at %s: no further session", s->name,
			  s->vchan_path);
}

static void to_idle(struct session *s);

/* The vchan client left: its session ends; what it left in a ring that stays for the next client
 * is dropped (a ring the spare replaces is closed with it). */
static void vchan_left(struct session *s)
{
	if (!s->spare)
		vchan_drop(s->vc);
	if (s->state == DISCARD)
		to_idle(s);
	else
		session_end(s, NULL);
}

/* ---- the session's life ---------------------------------------------------------------------- */

static void life(struct session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void life(struct session *s, const char *fmt, ...)
{
	char line[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	log_msg(s->cfg.quiet ? LV_DEBUG : LV_INFO, "%s: session %lu %s", s->name, s->count, line);
}

static void on_listen(int fd, uint32_t events, void *arg);
static void on_client_io(int fd, uint32_t events, void *arg);

/* IDLE -> OPEN */
static void begin(struct session *s)
{
	const char *why;

	/* Before the greeting: neither can this client be done, nor the next one have read the
	 * path, before the path names the spare. */
	arm_spare(s);
	s->state = OPEN;
	s->fresh = true;
	s->end_when_sent = false;
	s->count++;
	buf_reset(&s->out);
	life(s, "begins");
	why = s->ops->begin(s->arg);
	if (why)
		session_end(s, why);
}

/* -> IDLE: a unix client is closed and the next one accepted; a vchan ring is retired for the
 * spare, or else waits for the next client itself. */
static void to_idle(struct session *s)
{
	s->state = IDLE;
	retire_ring(s);
	if (s->client_fd >= 0) {
		loop_remove(s->client_fd);
		close(s->client_fd);
		s->client_fd = -1;
	}
	if (s->listen_fd >= 0)
		loop_add(s->listen_fd, EPOLLIN, on_listen, s);
}

void session_end(struct session *s, const char *why)
{
	if (s->state != OPEN && s->state != EOF_)
		return;
	if (why)
		log_warn("%s: session %lu ended: %s", s->name, s->count, why);
	else
		life(s, "ended");
	buf_reset(&s->out);
	s->end_when_sent = false;
	/* OPEN/EOF -> DISCARD: the vchan client is still there and must not see what comes next. */
	s->state = s->vc && libxenvchan_is_open(s->vc) == 1 ? DISCARD : IDLE;
	s->ops->end(s->arg, why);
	if (s->state == IDLE)
		to_idle(s);
}

void session_end_when_sent(struct session *s)
{
	s->end_when_sent = true;
}

bool session_live(const struct session *s)
{
	return s->state == OPEN || s->state == EOF_;
}

int session_send(struct session *s, const char *p, size_t n)
{
	if (!session_live(s))
		return 0;
	return buf_add(&s->out, p, n);
}

size_t session_out_pending(const struct session *s)
{
	return buf_pending(&s->out);
}

/* ---- pumping --------------------------------------------------------------------------------- */

/* The client's bytes, markers taken out. */
static void feed(struct session *s, const char *p, size_t n)
{
	while (n && s->state == OPEN) {
		const char *mark = NULL;
		size_t chunk;

		if (s->cfg.marker_anywhere)
			mark = memchr(p, RECONNECT_MARKER, n);
		else if (s->fresh && *p == RECONNECT_MARKER)
			mark = p;
		chunk = mark ? (size_t)(mark - p) : n;
		if (chunk) {
			s->fresh = false;
			s->ops->input(s->arg, p, chunk);
		}
		if (!mark)
			return;
		if (!s->fresh && s->state == OPEN) {
			/* After traffic: a new session, which the client cannot tell from a new
			 * connection. */
			log_info("%s: reconnect marker: new session", s->name);
			s->count++;
			s->end_when_sent = false;
			s->ops->restart(s->arg);
			s->fresh = true;
		}
		p = mark + 1;
		n -= chunk + 1;
	}
}

static void client_in(struct session *s)
{
	size_t budget = SESSION_BUDGET, room;
	char buf[4096];

	while (budget && (s->state == DISCARD || s->state == OPEN)) {
		size_t want = budget < sizeof(buf) ? budget : sizeof(buf);
		ssize_t n;

		if (s->state == OPEN && (room = s->ops->room(s->arg)) < want)
			want = room;
		if (!want)
			return;
		n = client_read(s, buf, want);

		if (n == -EAGAIN || n == -EINTR)
			return;
		if (n == 0 && s->vc) {
			vchan_left(s);
			return;
		}
		if (n <= 0) {
			/* Half-closed: answer what it asked, then end. */
			s->state = EOF_;
			return;
		}
		budget -= (size_t)n;
		if (s->state == OPEN)
			feed(s, buf, (size_t)n);
		/* A socket that gave less than asked is empty for now, and epoll says when it is
		 * not (a ring has no such fd of its own: it is read until it is empty). */
		if (!s->vc && (size_t)n < want)
			return;
	}
	if (!budget)
		loop_work_queue(s->more);
}

static void client_out(struct session *s)
{
	while (session_live(s) && buf_pending(&s->out)) {
		ssize_t n = client_write(s, buf_data(&s->out), buf_pending(&s->out));

		if (n == -EAGAIN || n == -EINTR)
			return;
		if (n < 0) {
			session_end(s, s->vc ? "client write failed" : NULL);
			return;
		}
		buf_consume(&s->out, (size_t)n);
	}
}

static void on_peer_io(int fd, uint32_t events, void *arg);

static void interest(struct session *s)
{
	bool rd;

	if (s->client_fd >= 0 && session_live(s))
		loop_modify(s->client_fd, (s->state == OPEN && s->ops->room(s->arg) ? EPOLLIN : 0) |
						  (buf_pending(&s->out) ? EPOLLOUT : 0));
	if (s->peer_fd < 0)
		return;
	rd = s->ops->peer_read(s->arg);
	if (s->peer_parked && rd && loop_add(s->peer_fd, EPOLLIN, on_peer_io, s) == 0)
		s->peer_parked = false;
	if (!s->peer_parked)
		loop_modify(s->peer_fd,
			    (rd ? EPOLLIN : 0) | (s->ops->peer_write(s->arg) ? EPOLLOUT : 0));
}

static void on_peer_io(int fd, uint32_t events, void *arg)
{
	struct session *s = arg;

	if ((events & (EPOLLHUP | EPOLLERR)) && !s->ops->peer_read(s->arg)) {
		loop_remove(fd);
		s->peer_parked = true;
	}
	session_pump(s);
}

int session_peer(struct session *s, int fd)
{
	int err = 0;

	if (s->peer_fd >= 0 && !s->peer_parked)
		loop_remove(s->peer_fd);
	s->peer_fd = -1;
	s->peer_parked = false;
	if (fd >= 0 && (err = loop_add(fd, EPOLLIN, on_peer_io, s)) == 0)
		s->peer_fd = fd;
	return err;
}

void session_again(struct session *s)
{
	loop_work_queue(s->more);
}

void session_pump(struct session *s)
{
	if (s->pumping) {
		s->again = true;
		return;
	}
	s->pumping = true;
	do {
		s->again = false;
		client_in(s);
		s->ops->io(s->arg);
		client_out(s);
		if (session_live(s) && !buf_pending(&s->out) &&
		    (s->end_when_sent || (s->state == EOF_ && s->ops->settled(s->arg))))
			session_end(s, NULL);
	} while (s->again);
	s->pumping = false;
	interest(s);
}

static void on_more(void *arg)
{
	session_pump(arg);
}

static void on_client_io(int fd, uint32_t events, void *arg)
{
	struct session *s = arg;

	(void)fd;
	session_pump(s);
	/* Gone both ways (a hang-up, not a half-close) with nothing more to read now: nobody is
	 * left to answer. A hang-up is reported whatever the interest, so waiting for answers owed,
	 * or for room to read what it left, would wake the loop until then. */
	if ((events & (EPOLLHUP | EPOLLERR)) && session_live(s) &&
	    (s->state == EOF_ || !s->ops->room(s->arg))) {
		session_end(s, NULL);
		interest(s);
	}
}

static void on_listen(int fd, uint32_t events, void *arg)
{
	struct session *s = arg;
	int c;

	(void)events;
	c = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (c < 0)
		return;
	/* One session at a time: the next client waits in the backlog, as with vchan. */
	loop_remove(fd);
	s->client_fd = c;
	if (loop_add(c, EPOLLIN, on_client_io, s) < 0) {
		log_error("%s: cannot watch the client", s->name);
		to_idle(s);
		return;
	}
	begin(s);
	session_pump(s);
}

/* test-vchan-lag: the ring's fd is unwatched until the timer, then its wake-up is handled. */
static void on_lag(void *arg)
{
	struct session *s = arg;

	s->lagged = true;
	loop_modify(s->vc_fd, EPOLLIN);
}

static void on_vchan(int fd, uint32_t events, void *arg)
{
	struct session *s = arg;
	int open;

	(void)events;
	if (s->lag && !s->lagged && loop_timer_arm(s->lag, s->cfg.test_lag_ms, 0) == 0 &&
	    loop_modify(fd, 0) == 0)
		return;
	s->lagged = false;
	/* Only after epoll said so: libxenvchan_wait() would block otherwise. */
	libxenvchan_wait(s->vc);
	open = libxenvchan_is_open(s->vc);
	if (open == 1 && s->state == IDLE) {
		begin(s);
	} else if (open != 1 && s->state != IDLE) {
		vchan_left(s);
		interest(s);
		return;
	}
	if (s->state != IDLE)
		session_pump(s);
}

/* ---- start and stop -------------------------------------------------------------------------- */

static int start_unix(struct session *s)
{
	int fd = sock_listen(s->unix_path, 8);

	if (fd < 0) {
		log_errno(LV_ERROR, fd, "%s: cannot listen on %s", s->name, s->unix_path);
		return -1;
	}
	s->listen_fd = fd;
	if (loop_add(fd, EPOLLIN, on_listen, s) < 0)
		return -1;
	log_info("%s: serving %s on unix socket %s", s->name, s->what, s->unix_path);
	return 0;
}

static int start_vchan(struct session *s)
{
	struct libxenvchan *vc = new_ring(s);

	if (!vc) {
		log_errno(LV_ERROR, errno, "%s: libxenvchan_server_init(peer %u, %s)", s->name,
			  s->cfg.peer, s->vchan_path);
		return -1;
	}
	if (s->cfg.test_lag_ms && !(s->lag = loop_timer_new(on_lag, s)))
		log_error("%s: test-vchan-lag: no timer", s->name);
	if (watch_ring(s, vc) < 0) {
		libxenvchan_close(s->vc);
		s->vc = NULL;
		return -1;
	}
	log_info("%s: serving %s on vchan %s (peer domain %u)", s->name, s->what, s->vchan_path,
		 s->cfg.peer);
	return 0;
}

struct session *session_start(const struct session_config *cfg, const struct session_ops *ops,
			      void *arg)
{
	struct session *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->cfg = *cfg;
	s->ops = ops;
	s->arg = arg;
	s->listen_fd = s->client_fd = s->vc_fd = s->peer_fd = -1;
	s->unix_path = cfg->unix_path ? strdup(cfg->unix_path) : NULL;
	s->vchan_path = cfg->vchan_path ? strdup(cfg->vchan_path) : NULL;
	s->name = strdup(cfg->name);
	s->what = strdup(cfg->what ? cfg->what : cfg->name);
	s->more = loop_work_new(on_more, s);
	buf_init(&s->out, cfg->out_max);
	if (!s->name || !s->what || !s->more ||
	    (cfg->transport == SESSION_UNIX ? start_unix(s) : start_vchan(s)) < 0) {
		session_stop(s);
		return NULL;
	}
	return s;
}

void session_stop(struct session *s)
{
	if (!s)
		return;
	if (session_live(s))
		session_end(s, NULL);
	session_peer(s, -1);
	if (s->client_fd >= 0) {
		loop_remove(s->client_fd);
		close(s->client_fd);
	}
	if (s->listen_fd >= 0) {
		loop_remove(s->listen_fd);
		close(s->listen_fd);
		unlink(s->unix_path);
	}
	if (s->vc) {
		loop_remove(s->vc_fd);
		libxenvchan_close(s->vc);
	}
	libxenvchan_close(s->spare);
	loop_timer_free(s->lag);
	loop_work_free(s->more);
	buf_free(&s->out);
	free(s->unix_path);
	free(s->vchan_path);
	free(s->name);
	free(s->what);
	free(s);
}
