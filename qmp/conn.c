// SPDX-License-Identifier: GPL-2.0-only
/*
 * qmp conn: a non-blocking QMP client connection. See conn.h.
 */
#include "conn.h"
#include "framer.h"
#include "json.h"
#include "core/buf.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct pending {
	int64_t id;
	qmp_reply_fn fn;
	void *arg;
	struct pending *next;
};

/* An fd to pass with the byte at @pos of the output stream. */
struct passfd {
	uint64_t pos;
	int fd;
};

struct qmp_conn {
	int fd;
	struct qmp_framer *fr;
	const struct qmp_conn_ops *ops;
	void *arg;
	bool greeted, closed;
	int64_t next_id;
	struct buf out;
	uint64_t sent; /* bytes of the output stream sent so far */
	struct passfd fds[QMP_CONN_INFLIGHT];
	unsigned nfds;
	struct pending *pend, **pend_tail;
	unsigned inflight, max_inflight;
	unsigned long dropped;
	char why[128];
};

struct qmp_conn *qmp_conn_new(int fd, const struct qmp_conn_limits *lim,
			      const struct qmp_conn_ops *ops, void *arg)
{
	struct qmp_conn *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->fr = qmp_framer_new(lim->max_msg, lim->max_alloc);
	if (!c->fr) {
		free(c);
		return NULL;
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	c->fd = fd;
	c->ops = ops;
	c->arg = arg;
	c->next_id = 1;
	c->pend_tail = &c->pend;
	c->max_inflight = lim->max_inflight ? lim->max_inflight : QMP_CONN_INFLIGHT;
	buf_init(&c->out, lim->max_out);
	return c;
}

int qmp_conn_fd(const struct qmp_conn *c)
{
	return c->fd;
}

bool qmp_conn_wants_write(const struct qmp_conn *c)
{
	return buf_pending(&c->out) > 0;
}

size_t qmp_conn_queued(const struct qmp_conn *c)
{
	return buf_pending(&c->out);
}

unsigned qmp_conn_inflight(const struct qmp_conn *c)
{
	return c->inflight;
}

unsigned long qmp_conn_dropped(const struct qmp_conn *c)
{
	return c->dropped;
}

/* The reply to command @id, taken off the list; NULL for an id never issued or already answered. */
static struct pending *take(struct qmp_conn *c, int64_t id)
{
	for (struct pending **pp = &c->pend; *pp; pp = &(*pp)->next) {
		struct pending *p = *pp;

		if (p->id != id)
			continue;
		*pp = p->next;
		if (!*pp)
			c->pend_tail = pp; /* it was the last */
		c->inflight--;
		return p;
	}
	return NULL;
}

/* A message skipped over a limit: the reply to the oldest command waiting, if any. */
static void refused(struct qmp_conn *c)
{
	struct pending *p = c->pend;
	struct json_object *reply, *err;
	char desc[128];

	if (c->ops->refused)
		c->ops->refused(qmp_framer_why(c->fr), c->arg);
	if (c->closed || !p || !(p = take(c, p->id)))
		return;
	snprintf(desc, sizeof(desc), "stubinit: QEMU's reply was refused: %s",
		 qmp_framer_why(c->fr));
	reply = json_object_new_object();
	err = json_object_new_object();
	json_object_object_add(err, "class", json_object_new_string("GenericError"));
	json_object_object_add(err, "desc", json_object_new_string(desc));
	json_object_object_add(reply, "error", err);
	if (p->fn)
		p->fn(reply, p->arg);
	json_object_put(reply);
	free(p);
}

static void dispatch(struct json_object *obj, void *arg)
{
	struct qmp_conn *c = arg;
	struct pending *p;
	int64_t id;

	if (c->closed)
		return;
	if (!obj) {
		refused(c);
		return;
	}
	if (qmp_has(obj, "QMP")) {
		if (c->greeted || !qmp_get_obj(obj, "QMP")) {
			c->dropped++;
			return;
		}
		c->greeted = true;
		if (c->ops->greeting)
			c->ops->greeting(obj, c->arg);
		return;
	}
	if (qmp_has(obj, "event")) {
		if (!c->greeted || !qmp_get_str(obj, "event")) {
			c->dropped++;
			return;
		}
		if (c->ops->event)
			c->ops->event(obj, c->arg);
		return;
	}
	/* A reply: only to an id this connection issued (ids are never reused). */
	if (!qmp_get_int(obj, "id", 1, INT64_MAX, &id) || !(p = take(c, id))) {
		c->dropped++;
		return;
	}
	if (p->fn)
		p->fn(obj, p->arg);
	free(p);
}

static int close_with(struct qmp_conn *c, const char *why)
{
	if (!c->closed) {
		c->closed = true;
		snprintf(c->why, sizeof(c->why), "%s", why);
		if (c->ops->closed)
			c->ops->closed(c->why, c->arg);
	}
	return -1;
}

int qmp_conn_read(struct qmp_conn *c, size_t budget)
{
	char buf[4096];

	if (c->closed)
		return -1;
	while (budget) {
		size_t want = budget < sizeof(buf) ? budget : sizeof(buf);
		ssize_t n = read(c->fd, buf, want);
		int err;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 0;
		if (n < 0)
			return close_with(c, strerror(errno));
		if (n == 0)
			return close_with(c, "closed by QEMU");
		budget -= (size_t)n;
		err = qmp_framer_feed(c->fr, buf, (size_t)n, dispatch, c);
		if (c->closed)
			return -1;
		if (err)
			return close_with(c, "malformed JSON from QEMU");
		/* Less than asked: the socket is empty for now, and epoll says when it is not. */
		if ((size_t)n < want)
			return 0;
	}
	return 1;
}

/* Queues @msg (an object) with the next id; on error @msg is left as it was but for its id. */
static int queue(struct qmp_conn *c, struct json_object *msg, int pass_fd, qmp_reply_fn fn,
		 void *arg)
{
	struct pending *p;
	const char *text;
	size_t len;
	int err;

	if (c->closed)
		return -EPIPE;
	if (c->inflight >= c->max_inflight || (pass_fd >= 0 && c->nfds == QMP_CONN_INFLIGHT))
		return -ENOBUFS;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->id = c->next_id;
	p->fn = fn;
	p->arg = arg;
	json_object_object_add(msg, "id", json_object_new_int64(p->id));
	text = json_object_to_json_string_ext(msg, JSON_C_TO_STRING_PLAIN |
							   JSON_C_TO_STRING_NOSLASHESCAPE);
	len = strlen(text);
	if (len + 2 > buf_room(&c->out)) {
		free(p);
		return -ENOBUFS;
	}
	if ((err = buf_add(&c->out, text, len)) < 0 || (err = buf_add(&c->out, "\r\n", 2)) < 0) {
		free(p);
		return err;
	}
	if (pass_fd >= 0)
		c->fds[c->nfds++] =
			(struct passfd){c->sent + buf_pending(&c->out) - len - 2, pass_fd};
	c->next_id++;
	*c->pend_tail = p;
	c->pend_tail = &p->next;
	c->inflight++;
	return qmp_conn_flush(c) < 0 ? -EPIPE : 0;
}

int qmp_conn_command(struct qmp_conn *c, const char *cmd, struct json_object *args, int pass_fd,
		     qmp_reply_fn fn, void *arg)
{
	struct json_object *msg = json_object_new_object();
	int err;

	if (!msg) {
		json_object_put(args);
		return -ENOMEM;
	}
	json_object_object_add(msg, "execute", json_object_new_string(cmd));
	if (args)
		json_object_object_add(msg, "arguments", args);
	err = queue(c, msg, pass_fd, fn, arg);
	json_object_put(msg);
	return err;
}

int qmp_conn_forward(struct qmp_conn *c, struct json_object *msg, qmp_reply_fn fn, void *arg)
{
	return queue(c, msg, -1, fn, arg);
}

/* Sends up to the next fd boundary; the fd goes with the first byte of its message. */
static ssize_t send_part(struct qmp_conn *c)
{
	size_t n = buf_pending(&c->out);
	struct iovec iov = {.iov_base = (void *)buf_data(&c->out)};
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	unsigned next = 0;

	if (c->nfds && c->fds[0].pos == c->sent) {
		struct cmsghdr *cm;

		memset(&u, 0, sizeof(u));
		mh.msg_control = u.buf;
		mh.msg_controllen = sizeof(u.buf);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &c->fds[0].fd, sizeof(int));
		next = 1;
	}
	if (next < c->nfds && c->fds[next].pos - c->sent < n)
		n = (size_t)(c->fds[next].pos - c->sent);
	iov.iov_len = n;
	return sendmsg(c->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
}

int qmp_conn_flush(struct qmp_conn *c)
{
	while (buf_pending(&c->out)) {
		ssize_t n = send_part(c);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 1;
		if (n <= 0) {
			close_with(c, n < 0 ? strerror(errno) : "QEMU takes no more");
			return -1;
		}
		if (c->nfds && c->fds[0].pos == c->sent) {
			/* The fd went with the first byte sent. */
			memmove(c->fds, c->fds + 1, --c->nfds * sizeof(c->fds[0]));
		}
		c->sent += (uint64_t)n;
		buf_consume(&c->out, (size_t)n);
	}
	return 0;
}

void qmp_conn_free(struct qmp_conn *c)
{
	if (!c)
		return;
	c->closed = true;
	while (c->pend) {
		struct pending *p = c->pend;

		c->pend = p->next;
		if (p->fn)
			p->fn(NULL, p->arg);
		free(p);
	}
	buf_free(&c->out);
	qmp_framer_free(c->fr);
	close(c->fd);
	free(c);
}
