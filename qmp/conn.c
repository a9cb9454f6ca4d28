/*
 * qmp conn: a non-blocking QMP client connection. See qmp.h.
 */
#include "qmp.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct outmsg {
	char *buf;
	size_t len, off;
	int fd; /* to pass with the first byte, or -1 */
	struct outmsg *next;
};

struct pending {
	unsigned long id;
	qmp_reply_fn fn;
	void *arg;
	struct pending *next;
};

struct qmp_conn {
	int fd;
	struct qmp_framer *fr;
	const struct qmp_conn_ops *ops;
	void *arg;
	int greeted;
	int closed;
	unsigned long next_id;
	struct outmsg *out, **out_tail;
	struct pending *pend;
	char why[128];
};

struct qmp_conn *qmp_conn_new(int fd, size_t max_msg, const struct qmp_conn_ops *ops, void *arg)
{
	struct qmp_conn *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->fr = qmp_framer_new(max_msg);
	if (!c->fr) {
		free(c);
		return NULL;
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	c->fd = fd;
	c->ops = ops;
	c->arg = arg;
	c->next_id = 1;
	c->out_tail = &c->out;
	return c;
}

int qmp_conn_fd(const struct qmp_conn *c)
{
	return c->fd;
}

int qmp_conn_wants_write(const struct qmp_conn *c)
{
	return c->out != NULL;
}

const char *qmp_error_desc(struct json_object *msg)
{
	struct json_object *err, *desc;

	if (!msg)
		return "connection closed";
	if (!json_object_object_get_ex(msg, "error", &err))
		return NULL;
	if (json_object_object_get_ex(err, "desc", &desc))
		return json_object_get_string(desc);
	return "error without a description";
}

static void dispatch(struct json_object *obj, void *arg)
{
	struct qmp_conn *c = arg;
	struct json_object *v;

	if (c->closed)
		return;
	if (!c->greeted && json_object_object_get_ex(obj, "QMP", &v)) {
		c->greeted = 1;
		if (c->ops->greeting)
			c->ops->greeting(obj, c->arg);
		return;
	}
	if (json_object_object_get_ex(obj, "event", &v)) {
		if (c->ops->event)
			c->ops->event(obj, c->arg);
		return;
	}
	if (json_object_object_get_ex(obj, "id", &v) && json_object_is_type(v, json_type_int)) {
		unsigned long id = (unsigned long)json_object_get_int64(v);

		for (struct pending **pp = &c->pend; *pp; pp = &(*pp)->next) {
			struct pending *p = *pp;

			if (p->id != id)
				continue;
			*pp = p->next;
			p->fn(obj, p->arg);
			free(p);
			return;
		}
	}
	/* A reply to nobody: not ours to act on. */
}

static int close_with(struct qmp_conn *c, const char *why)
{
	if (!c->closed) {
		c->closed = 1;
		snprintf(c->why, sizeof(c->why), "%s", why);
		if (c->ops->closed)
			c->ops->closed(c->why, c->arg);
	}
	return -1;
}

int qmp_conn_read(struct qmp_conn *c)
{
	char buf[4096];

	if (c->closed)
		return -1;
	for (;;) {
		ssize_t n = read(c->fd, buf, sizeof(buf));
		int err;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 0;
		if (n < 0)
			return close_with(c, strerror(errno));
		if (n == 0)
			return close_with(c, "closed by QEMU");
		err = qmp_framer_feed(c->fr, buf, (size_t)n, dispatch, c);
		if (c->closed)
			return -1;
		if (err == -EMSGSIZE)
			return close_with(c, "message over the size cap");
		if (err)
			return close_with(c, "malformed JSON");
	}
}

int qmp_conn_command(struct qmp_conn *c, const char *cmd, struct json_object *args, int pass_fd,
		     qmp_reply_fn fn, void *arg)
{
	struct json_object *msg = json_object_new_object();
	struct outmsg *m = calloc(1, sizeof(*m));
	struct pending *p = calloc(1, sizeof(*p));
	const char *text;

	if (!msg || !m || !p || c->closed) {
		json_object_put(msg);
		json_object_put(args);
		free(m);
		free(p);
		return c->closed ? -EPIPE : -ENOMEM;
	}
	p->id = c->next_id++;
	p->fn = fn;
	p->arg = arg;
	json_object_object_add(msg, "execute", json_object_new_string(cmd));
	if (args)
		json_object_object_add(msg, "arguments", args);
	json_object_object_add(msg, "id", json_object_new_int64((int64_t)p->id));
	text = json_object_to_json_string_ext(msg, JSON_C_TO_STRING_PLAIN);
	m->len = strlen(text) + 2;
	m->buf = malloc(m->len + 1);
	if (!m->buf) {
		json_object_put(msg);
		free(m);
		free(p);
		return -ENOMEM;
	}
	snprintf(m->buf, m->len + 1, "%s\r\n", text);
	json_object_put(msg);
	m->fd = pass_fd;
	*c->out_tail = m;
	c->out_tail = &m->next;
	p->next = c->pend;
	c->pend = p;
	return qmp_conn_flush(c) < 0 ? -EPIPE : 0;
}

static ssize_t send_part(struct qmp_conn *c, struct outmsg *m)
{
	struct iovec iov = { .iov_base = m->buf + m->off, .iov_len = m->len - m->off };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (m->fd >= 0 && m->off == 0) {
		struct cmsghdr *cm;

		memset(&u, 0, sizeof(u));
		mh.msg_control = u.buf;
		mh.msg_controllen = sizeof(u.buf);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &m->fd, sizeof(int));
	}
	return sendmsg(c->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
}

int qmp_conn_flush(struct qmp_conn *c)
{
	while (c->out) {
		struct outmsg *m = c->out;
		ssize_t n = send_part(c, m);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 1;
		if (n < 0) {
			close_with(c, strerror(errno));
			return -1;
		}
		m->off += (size_t)n;
		if (m->off < m->len)
			continue;
		c->out = m->next;
		if (!c->out)
			c->out_tail = &c->out;
		free(m->buf);
		free(m);
	}
	return 0;
}

void qmp_conn_free(struct qmp_conn *c)
{
	if (!c)
		return;
	c->closed = 1;
	while (c->pend) {
		struct pending *p = c->pend;

		c->pend = p->next;
		p->fn(NULL, p->arg);
		free(p);
	}
	while (c->out) {
		struct outmsg *m = c->out;

		c->out = m->next;
		free(m->buf);
		free(m);
	}
	qmp_framer_free(c->fr);
	close(c->fd);
	free(c);
}
