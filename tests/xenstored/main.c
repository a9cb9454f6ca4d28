// SPDX-License-Identifier: MIT
/*
 * main.c - front end of the test xenstored: command line, the listening unix sockets (each
 * with the domid its clients act as), the single-threaded epoll loop, per-connection
 * message framing and output queues, the request log, and clean shutdown on SIGTERM/SIGINT.
 *
 * Usage: test-xenstored --socket PATH[:DOMID] [--socket ...] [--ready-fd N] [--log FILE|-]
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "xsd.h"

/* A client that stops reading must not make us buffer without bound. */
#define MAX_OUTPUT	(16u << 20)

struct listener {
	enum xsd_ep_kind kind;	/* first: epoll data points at it */
	int fd;
	unsigned int domid;
	char *path;
};

struct xsd_conn *xsd_conns;

static FILE *log_file;
static int epfd = -1;
static unsigned int conn_serial;

bool xsd_logging(void)
{
	return log_file != NULL;
}

void xsd_log(const char *fmt, ...)
{
	struct timespec ts;
	va_list ap;

	if (!log_file)
		return;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	fprintf(log_file, "[%ld.%06ld] ", (long)ts.tv_sec, ts.tv_nsec / 1000);
	va_start(ap, fmt);
	vfprintf(log_file, fmt, ap);
	va_end(ap);
	fputc('\n', log_file);
	fflush(log_file);
}

static void usage(FILE *f)
{
	fputs("usage: test-xenstored --socket PATH[:DOMID] [--socket PATH[:DOMID]...]\n"
	      "                      [--ready-fd N] [--log FILE|-]\n"
	      "  --socket PATH[:DOMID]  listen on a unix socket; its clients act as DOMID\n"
	      "                         (default 0, i.e. privileged dom0)\n"
	      "  --ready-fd N           write \"ready\\n\" to fd N and close it once listening\n"
	      "  --log FILE             log one line per request (\"-\" for stderr)\n", f);
}

/* ---- output ------------------------------------------------------------------------- */

void conn_send(struct xsd_conn *c, uint32_t type, uint32_t req_id, uint32_t tx_id,
	       const void *data, size_t len)
{
	struct xsd_sockmsg hdr = {
		.type = type, .req_id = req_id, .tx_id = tx_id, .len = (uint32_t)len,
	};
	size_t need = sizeof(hdr) + len;

	if (c->dead)
		return;
	if (len > XENSTORE_PAYLOAD_MAX) {
		/* Never put an oversized message on the wire: clients drop the connection. */
		conn_send(c, XS_ERROR, req_id, tx_id, "E2BIG", 6);
		return;
	}
	if (c->outlen - c->outoff + need > MAX_OUTPUT) {
		xsd_log("conn %u dom%u not reading its replies: dropped", c->serial, c->domid);
		c->dead = true;
		return;
	}
	if (c->outoff && c->outoff == c->outlen)
		c->outoff = c->outlen = 0;
	if (c->outlen + need > c->outcap) {
		/* Compact before growing: the consumed head is dead space. */
		if (c->outoff) {
			memmove(c->out, c->out + c->outoff, c->outlen - c->outoff);
			c->outlen -= c->outoff;
			c->outoff = 0;
		}
		if (c->outlen + need > c->outcap) {
			c->outcap = (c->outlen + need) * 2;
			c->out = xrealloc(c->out, c->outcap);
		}
	}
	memcpy(c->out + c->outlen, &hdr, sizeof(hdr));
	if (len)
		memcpy(c->out + c->outlen + sizeof(hdr), data, len);
	c->outlen += need;
}

static void set_pollout(struct xsd_conn *c, bool on)
{
	struct epoll_event ev = { .events = EPOLLIN | (on ? EPOLLOUT : 0), .data.ptr = c };

	if (c->pollout == on)
		return;
	if (epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev) == 0)
		c->pollout = on;
}

static void conn_flush(struct xsd_conn *c)
{
	while (!c->dead && c->outoff < c->outlen) {
		ssize_t n = send(c->fd, c->out + c->outoff, c->outlen - c->outoff,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			set_pollout(c, true);
			return;
		}
		if (n <= 0) {
			c->dead = true;
			return;
		}
		c->outoff += (size_t)n;
	}
	c->outoff = c->outlen = 0;
	if (!c->dead)
		set_pollout(c, false);
}

/* ---- input -------------------------------------------------------------------------- */

static void conn_process(struct xsd_conn *c)
{
	struct xsd_sockmsg hdr;
	size_t done = 0;

	while (!c->dead && c->inlen - done >= sizeof(hdr)) {
		char *payload;

		memcpy(&hdr, c->in + done, sizeof(hdr));
		/* Like xenstored: an oversized message is a protocol violation, not a request. */
		if (hdr.len > XENSTORE_PAYLOAD_MAX) {
			xsd_log("conn %u dom%u sent len %u > %u: dropped", c->serial, c->domid,
				hdr.len, XENSTORE_PAYLOAD_MAX);
			c->dead = true;
			return;
		}
		if (c->inlen - done < sizeof(hdr) + hdr.len)
			break;
		/* A private copy with a NUL after it: string scans can never overrun. */
		payload = xmalloc(hdr.len + 1);
		memcpy(payload, c->in + done + sizeof(hdr), hdr.len);
		payload[hdr.len] = '\0';
		done += sizeof(hdr) + hdr.len;
		ops_handle(c, &hdr, payload);
		free(payload);
	}
	memmove(c->in, c->in + done, c->inlen - done);
	c->inlen -= done;
}

static void conn_readable(struct xsd_conn *c)
{
	for (;;) {
		ssize_t n = read(c->fd, c->in + c->inlen, sizeof(c->in) - c->inlen);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			c->dead = true;
			return;
		}
		c->inlen += (size_t)n;
		conn_process(c);
		if (c->dead)
			return;
	}
}

/* ---- connections -------------------------------------------------------------------- */

static void accept_all(struct listener *l)
{
	for (;;) {
		int fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct epoll_event ev;
		struct xsd_conn *c;

		if (fd < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				xsd_log("accept on %s: %s", l->path, strerror(errno));
			return;
		}
		c = xmalloc(sizeof(*c));
		memset(c, 0, sizeof(*c));
		c->kind = XSD_EP_CONN;
		c->fd = fd;
		c->domid = l->domid;
		c->serial = ++conn_serial;
		ev.events = EPOLLIN;
		ev.data.ptr = c;
		if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
			xsd_log("epoll_ctl: %s", strerror(errno));
			close(fd);
			free(c);
			continue;
		}
		c->next = xsd_conns;
		xsd_conns = c;
		xsd_log("conn %u dom%u connected on %s", c->serial, c->domid, l->path);
	}
}

static void conn_destroy(struct xsd_conn *c)
{
	xsd_log("conn %u dom%u closed", c->serial, c->domid);
	epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	ops_conn_gone(c);
	free(c->out);
	free(c);
}

/* Dead connections are only freed between epoll batches, when nothing points at them. */
static void reap(bool all)
{
	struct xsd_conn **pp = &xsd_conns;

	while (*pp) {
		struct xsd_conn *c = *pp;

		if (c->dead || all) {
			*pp = c->next;
			conn_destroy(c);
		} else {
			pp = &c->next;
		}
	}
}

/* ---- setup -------------------------------------------------------------------------- */

static int parse_socket_arg(const char *arg, struct listener *l)
{
	const char *colon = strrchr(arg, ':');
	size_t len = strlen(arg);

	l->kind = XSD_EP_LISTENER;
	l->fd = -1;
	l->domid = 0;
	/* PATH:DOMID only if everything after the last colon is a number. */
	if (colon && colon[1] && strspn(colon + 1, "0123456789") == strlen(colon + 1)) {
		unsigned long v = strtoul(colon + 1, NULL, 10);

		if (v > 65535 || strlen(colon + 1) > 5)
			return -1;
		l->domid = (unsigned int)v;
		len = (size_t)(colon - arg);
	}
	if (!len)
		return -1;
	l->path = strndup(arg, len);
	return l->path ? 0 : -1;
}

static int listen_on(struct listener *l)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = l };
	struct stat st;

	if (strlen(l->path) >= sizeof(addr.sun_path)) {
		fprintf(stderr, "test-xenstored: socket path too long: %s\n", l->path);
		return -1;
	}
	strcpy(addr.sun_path, l->path);
	/* A stale socket from an earlier run would make bind fail; anything else stays. */
	if (lstat(l->path, &st) == 0 && S_ISSOCK(st.st_mode))
		unlink(l->path);
	l->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (l->fd < 0 || bind(l->fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
	    listen(l->fd, 64) < 0 || epoll_ctl(epfd, EPOLL_CTL_ADD, l->fd, &ev) < 0) {
		fprintf(stderr, "test-xenstored: listen on %s: %s\n", l->path, strerror(errno));
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "ready-fd", required_argument, NULL, 'r' },
		{ "log", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct listener *listeners = NULL;
	enum xsd_ep_kind sigkind = XSD_EP_SIGNAL;
	unsigned int nlisteners = 0;
	const char *logpath = NULL;
	struct epoll_event ev;
	int ready_fd = -1, sfd = -1, ret = 1, opt;
	bool running = true;
	sigset_t mask;

	while ((opt = getopt_long(argc, argv, "s:r:l:h", opts, NULL)) != -1) {
		char *end;

		switch (opt) {
		case 's':
			listeners = xrealloc(listeners, (nlisteners + 1) * sizeof(*listeners));
			if (parse_socket_arg(optarg, &listeners[nlisteners])) {
				fprintf(stderr, "test-xenstored: bad --socket %s\n", optarg);
				goto out;
			}
			nlisteners++;
			break;
		case 'r':
			ready_fd = (int)strtol(optarg, &end, 10);
			if (*end || ready_fd < 0 || fcntl(ready_fd, F_GETFD) < 0) {
				fprintf(stderr, "test-xenstored: bad --ready-fd %s\n", optarg);
				goto out;
			}
			break;
		case 'l':
			logpath = optarg;
			break;
		case 'h':
			usage(stdout);
			ret = 0;
			goto out;
		default:
			usage(stderr);
			goto out;
		}
	}
	if (optind != argc || !nlisteners) {
		usage(stderr);
		goto out;
	}
	if (logpath) {
		log_file = strcmp(logpath, "-") ? fopen(logpath, "ae") : stderr;
		if (!log_file) {
			fprintf(stderr, "test-xenstored: %s: %s\n", logpath, strerror(errno));
			goto out;
		}
	}

	/* Signals arrive through the loop, so shutdown never interrupts a request. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (sfd < 0 || epfd < 0) {
		perror("test-xenstored: signalfd/epoll");
		goto out;
	}
	ev.events = EPOLLIN;
	ev.data.ptr = &sigkind;
	epoll_ctl(epfd, EPOLL_CTL_ADD, sfd, &ev);

	ops_init();
	for (unsigned int i = 0; i < nlisteners; i++) {
		if (listen_on(&listeners[i]))
			goto out_ops;
		xsd_log("listening on %s as dom%u", listeners[i].path, listeners[i].domid);
	}
	if (ready_fd >= 0) {
		if (write(ready_fd, "ready\n", 6) != 6)
			perror("test-xenstored: ready-fd");
		close(ready_fd);
	}

	while (running) {
		struct epoll_event evs[32];
		int n = epoll_wait(epfd, evs, 32, -1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			perror("test-xenstored: epoll_wait");
			goto out_ops;
		}
		for (int i = 0; i < n; i++) {
			enum xsd_ep_kind kind = *(enum xsd_ep_kind *)evs[i].data.ptr;

			if (kind == XSD_EP_SIGNAL) {
				struct signalfd_siginfo si;

				if (read(sfd, &si, sizeof(si)) == sizeof(si))
					xsd_log("signal %u: exiting", si.ssi_signo);
				running = false;
			} else if (kind == XSD_EP_LISTENER) {
				accept_all(evs[i].data.ptr);
			} else {
				struct xsd_conn *c = evs[i].data.ptr;

				if (c->dead)
					continue;
				if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
					conn_readable(c);
			}
		}
		/* Requests may have queued output (watch events) on any connection. */
		for (struct xsd_conn *c = xsd_conns; c; c = c->next)
			if (c->outlen > c->outoff)
				conn_flush(c);
		reap(false);
	}
	ret = 0;

out_ops:
	reap(true);
	ops_fini();
out:
	for (unsigned int i = 0; i < nlisteners; i++) {
		if (listeners[i].fd >= 0) {
			close(listeners[i].fd);
			unlink(listeners[i].path);
		}
		free(listeners[i].path);
	}
	free(listeners);
	if (sfd >= 0)
		close(sfd);
	if (epfd >= 0)
		close(epfd);
	if (log_file && log_file != stderr)
		fclose(log_file);
	return ret;
}
