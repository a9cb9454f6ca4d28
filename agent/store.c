// SPDX-License-Identifier: GPL-2.0-only
/*
 * store: libxenstore connection, boot-time wait, reads and writes. See store.h.
 */
#include "store.h"
#include "core/log.h"
#include "core/loop.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <fcntl.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <xenstore.h>

/* Where libxenstore looks, in its order: the daemon's socket, then the xenbus device. */
#define DEFAULT_SOCKET "/var/run/xenstored/socket"
#define XENBUS_DEV     "/dev/xen/xenbus"

#define MAX_WATCHES 16
/* Watch events handled per wake-up. */
#define WATCH_BUDGET 32

static struct {
	struct xs_handle *xs;
	int watching; /* xs_fileno registered with the loop */
	struct {
		store_watch_fn fn;
		void *arg;
	} w[MAX_WATCHES];
	unsigned nw;
	int ino;
	struct loop_timer *timer;
	store_ready_fn fn;
	void *arg;
} st = {.ino = -1};

bool store_connected(void)
{
	return st.xs != NULL;
}

static const char *socket_path(void)
{
	const char *p = getenv("XENSTORED_PATH");

	return p && *p ? p : DEFAULT_SOCKET;
}

/* Watches the deepest existing directory on the way to @path, so its creation wakes us. */
static void watch_towards(const char *path)
{
	char dir[PATH_MAX];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	while ((slash = strrchr(dir, '/'))) {
		struct stat sb;

		*slash = 0;
		if (!*dir)
			strcpy(dir, "/");
		if (stat(dir, &sb) == 0 && S_ISDIR(sb.st_mode)) {
			if (inotify_add_watch(st.ino, dir, IN_CREATE | IN_MOVED_TO | IN_ATTRIB) < 0)
				log_errno(LV_WARN, errno, "xenstore: inotify on %s", dir);
			return;
		}
		if (!strcmp(dir, "/"))
			return;
	}
}

static void stop_waiting(void)
{
	if (st.ino >= 0) {
		loop_remove(st.ino);
		close(st.ino);
		st.ino = -1;
	}
	loop_timer_free(st.timer);
	st.timer = NULL;
}

static int try_open(void)
{
	st.xs = xs_open(0);
	return st.xs ? 0 : -errno;
}

static void done(bool ok)
{
	stop_waiting();
	st.fn(ok, st.arg);
}

static void on_inotify(int fd, uint32_t events, void *arg)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));

	(void)events, (void)arg;
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	if (try_open() == 0) {
		log_info("xenstore: reachable now, connected");
		done(true);
		return;
	}
	/* Something was created on the way (say /dev/xen): follow it one level deeper. */
	watch_towards(socket_path());
	watch_towards(XENBUS_DEV);
}

static void on_timeout(void *arg)
{
	(void)arg;
	log_error("xenstore: still not reachable (socket %s, device %s) after the "
		  "xenstore-timeout bound",
		  socket_path(), XENBUS_DEV);
	done(false);
}

void store_connect(uint64_t timeout_ms, store_ready_fn fn, void *arg)
{
	int err;

	st.fn = fn;
	st.arg = arg;
	err = try_open();
	if (!err) {
		log_info("xenstore: connected");
		fn(true, arg);
		return;
	}
	st.ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	st.timer = loop_timer_new(on_timeout, NULL);
	if (st.ino < 0 || !st.timer || loop_add(st.ino, EPOLLIN, on_inotify, NULL) < 0) {
		log_errno(LV_ERROR, errno, "xenstore: cannot wait for it");
		done(false);
		return;
	}
	watch_towards(socket_path());
	watch_towards(XENBUS_DEV);
	/* It may have appeared between the first try and the watches: the watches see only later.
	 */
	if (try_open() == 0) {
		log_info("xenstore: connected");
		done(true);
		return;
	}
	log_warn("xenstore: not reachable (socket %s, device %s): %s; waiting up to %llu ms",
		 socket_path(), XENBUS_DEV, strerror(-err), (unsigned long long)timeout_ms);
	loop_timer_arm(st.timer, timeout_ms ? timeout_ms : 1, 0);
}

char *store_read(const char *path)
{
	unsigned len;
	char *v;

	if (!st.xs) {
		errno = ENOTCONN;
		return NULL;
	}
	v = xs_read(st.xs, XBT_NULL, path, &len);
	return v;
}

int store_read_domid(const char *path, unsigned *out)
{
	char *v = store_read(path), *end;
	unsigned long n;

	if (!v) {
		log_errno(LV_ERROR, errno, "xenstore: %s: cannot read", path);
		return -1;
	}
	errno = 0;
	n = strtoul(v, &end, 10);
	/* Domain ids are below DOMID_FIRST_RESERVED (0x7ff0). */
	if (!*v || *end || errno || n >= 0x7ff0) {
		log_error("xenstore: %s: '%s' is not a domain id", path, v);
		free(v);
		return -1;
	}
	free(v);
	*out = (unsigned)n;
	return 0;
}

char **store_directory(const char *path, unsigned *n)
{
	if (!st.xs) {
		errno = ENOTCONN;
		return NULL;
	}
	return xs_directory(st.xs, XBT_NULL, path, n);
}

int store_write(const char *path, const char *value)
{
	if (!st.xs)
		return -ENOTCONN;
	if (!xs_write(st.xs, XBT_NULL, path, value, (unsigned)strlen(value)))
		return -errno;
	return 0;
}

int store_rm(const char *path)
{
	if (!st.xs)
		return -ENOTCONN;
	if (!xs_rm(st.xs, XBT_NULL, path))
		return -errno;
	return 0;
}

int store_open_raw(void)
{
	const char *p = socket_path();
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct stat sb;
	int fd;

	if (stat(p, &sb) < 0 || !S_ISSOCK(sb.st_mode))
		return open(XENBUS_DEV, O_RDWR | O_CLOEXEC | O_NONBLOCK);
	if (strlen(p) >= sizeof(sa.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(sa.sun_path, p, strlen(p) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int err = errno;

		close(fd);
		errno = err;
		return -1;
	}
	return fd;
}

static void on_watch_fd(int fd, uint32_t events, void *arg)
{
	char **vec;
	unsigned budget = WATCH_BUDGET;

	(void)fd, (void)events, (void)arg;
	/* libxenstore's reader thread queues events and keeps its fd readable while any wait: a
	 * bounded number per wake-up, and the loop comes back for the rest. */
	while (budget-- && (vec = xs_check_watch(st.xs))) {
		unsigned long i = strtoul(vec[XS_WATCH_TOKEN] + 1, NULL, 10);

		if (vec[XS_WATCH_TOKEN][0] == 'w' && i < st.nw)
			st.w[i].fn(vec[XS_WATCH_PATH], st.w[i].arg);
		free(vec);
	}
}

int store_watch(const char *path, store_watch_fn fn, void *arg)
{
	char token[16];

	if (!st.xs)
		return -ENOTCONN;
	if (st.nw == MAX_WATCHES)
		return -ENOSPC;
	if (!st.watching) {
		if (loop_add(xs_fileno(st.xs), EPOLLIN, on_watch_fd, NULL) < 0)
			return -EIO;
		st.watching = 1;
	}
	snprintf(token, sizeof(token), "w%u", st.nw);
	st.w[st.nw].fn = fn;
	st.w[st.nw].arg = arg;
	if (!xs_watch(st.xs, path, token))
		return -errno;
	st.nw++;
	return 0;
}

void store_fini(void)
{
	stop_waiting();
	if (st.xs)
		xs_close(st.xs);
	st.xs = NULL;
}
