// SPDX-License-Identifier: GPL-2.0-only
/*
 * log: bounded, non-blocking line log. See log.h for the contract.
 */
#include "log.h"
#include "loop.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static struct {
	char *buf;    /* ring of complete lines */
	size_t cap;   /* bytes in buf */
	size_t head;  /* offset of the oldest unwritten byte */
	size_t len;   /* unwritten bytes */
	int fd;	      /* output, -1 until attached */
	int pollable; /* output can be waited on with epoll */
	int watched;  /* fd registered with the loop */
	int want_out; /* EPOLLOUT requested */
	enum log_level level;
	uint64_t dropped; /* lines dropped and not yet reported */
	uint64_t dropped_total;
} lg = {.fd = -1, .level = LV_INFO};
/* The buffer until log_set_capacity(), apart from lg: zeros cost the static binary no file size. */
static char early[LOG_BUFFER_MIN];

static const char *const level_names[] = {"error", "warn", "info", "debug"};

static void emitf(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

const char *log_level_name(enum log_level level)
{
	return level <= LV_DEBUG ? level_names[level] : "?";
}

void log_init(void)
{
	if (lg.buf)
		return;
	lg.buf = early;
	lg.cap = sizeof(early);
	lg.head = lg.len = 0;
}

void log_set_level(enum log_level level)
{
	lg.level = level;
}

enum log_level log_get_level(void)
{
	return lg.level;
}

uint64_t log_dropped_total(void)
{
	return lg.dropped_total;
}

/* Copies the unwritten bytes, oldest first, into @dst (at least lg.len bytes). */
static void ring_copy_out(char *dst)
{
	size_t first = lg.cap - lg.head < lg.len ? lg.cap - lg.head : lg.len;

	memcpy(dst, lg.buf + lg.head, first);
	memcpy(dst + first, lg.buf, lg.len - first);
}

static void ring_put(const char *s, size_t n)
{
	size_t tail = (lg.head + lg.len) % lg.cap;
	size_t first = lg.cap - tail < n ? lg.cap - tail : n;

	memcpy(lg.buf + tail, s, first);
	memcpy(lg.buf, s + first, n - first);
	lg.len += n;
}

static uint64_t count_lines(const char *s, size_t n)
{
	uint64_t c = 0;

	for (size_t i = 0; i < n; i++)
		c += s[i] == '\n';
	return c;
}

int log_set_capacity(size_t bytes)
{
	size_t keep = lg.len;
	char *nb, *tmp;

	if (bytes < LOG_BUFFER_MIN)
		bytes = LOG_BUFFER_MIN;
	if (bytes == lg.cap)
		return 0;
	nb = malloc(bytes);
	tmp = malloc(lg.len + 1);
	if (!nb || !tmp) {
		free(nb);
		free(tmp);
		return -ENOMEM;
	}
	ring_copy_out(tmp);
	if (keep > bytes) {
		/* Keep the oldest whole lines: they are the ones the output is owed first. */
		char *cut = memrchr(tmp, '\n', bytes);
		uint64_t n;

		keep = cut ? (size_t)(cut - tmp) + 1 : 0;
		n = count_lines(tmp + keep, lg.len - keep);
		lg.dropped += n;
		lg.dropped_total += n;
	}
	memcpy(nb, tmp, keep);
	free(tmp);
	if (lg.buf != early)
		free(lg.buf);
	lg.buf = nb;
	lg.cap = bytes;
	lg.head = 0;
	lg.len = keep;
	return 0;
}

static uint64_t pending_lines(void)
{
	size_t first = lg.cap - lg.head < lg.len ? lg.cap - lg.head : lg.len;

	return count_lines(lg.buf + lg.head, first) + count_lines(lg.buf, lg.len - first);
}

/* A hung-up output reports EPOLLERR for ever: watching it would spin the loop. */
static void unwatch(void)
{
	if (lg.watched)
		loop_remove(lg.fd);
	lg.watched = lg.want_out = lg.pollable = 0;
}

static void set_want_out(int on)
{
	if (!lg.watched || lg.want_out == on)
		return;
	if (loop_modify(lg.fd, on ? EPOLLOUT : 0) == 0)
		lg.want_out = on;
}

/*
 * Writes what the output takes now. Returns 0 when the buffer drained, 1 when the output is
 * stalled, -1 when it failed for good (the buffered lines are then counted as dropped).
 */
static int write_some(void)
{
	while (lg.len) {
		size_t chunk = lg.cap - lg.head < lg.len ? lg.cap - lg.head : lg.len;
		ssize_t w = write(lg.fd, lg.buf + lg.head, chunk);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN)
			return 1;
		if (w <= 0) {
			/* The output is gone (hung-up console): count what it will never see. */
			uint64_t n = pending_lines();

			lg.dropped += n;
			lg.dropped_total += n;
			lg.head = lg.len = 0;
			return -1;
		}
		lg.head = (lg.head + (size_t)w) % lg.cap;
		lg.len -= (size_t)w;
	}
	lg.head = 0;
	return 0;
}

size_t log_flush(int wait_ms)
{
	int r;

	if (lg.fd < 0)
		return lg.len;
	r = write_some();
	if (r == 0 && lg.dropped) {
		uint64_t n = lg.dropped;

		lg.dropped = 0;
		emitf(LV_WARN, "log: %llu lines dropped while the log output was not draining",
		      (unsigned long long)n);
		r = write_some();
	}
	if (r < 0)
		unwatch();
	if (r == 1 && wait_ms > 0) {
		struct pollfd p = {.fd = lg.fd, .events = POLLOUT};

		if (poll(&p, 1, wait_ms) > 0)
			return log_flush(0);
	}
	set_want_out(r == 1);
	return lg.len;
}

static void on_output(int fd, uint32_t events, void *arg)
{
	(void)fd, (void)arg;
	if (events & (EPOLLERR | EPOLLHUP))
		unwatch();
	log_flush(0);
}

int log_attach(int fd)
{
	char path[64];
	struct stat st;
	int nfd;

	log_init();
	if (fcntl(fd, F_GETFD) < 0)
		return -errno;
	/*
	 * A fresh open file description keeps O_NONBLOCK to ourselves when stderr is a terminal or
	 * pipe shared with a shell; /proc may not be mounted yet, or the fd may be a socket, and
	 * then the shared description is switched instead.
	 */
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	nfd = -1;
	if (fstat(fd, &st) == 0 && !S_ISREG(st.st_mode) && !S_ISSOCK(st.st_mode))
		nfd = open(path, O_WRONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC | O_APPEND);
	if (nfd < 0) {
		nfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
		if (nfd < 0)
			return -errno;
		fcntl(nfd, F_SETFL, fcntl(nfd, F_GETFL) | O_NONBLOCK);
	}
	if (lg.fd >= 0) {
		if (lg.watched)
			loop_remove(lg.fd);
		close(lg.fd);
	}
	lg.fd = nfd;
	lg.watched = lg.want_out = 0;
	lg.pollable = !S_ISREG(st.st_mode);
	log_flush(0);
	return 0;
}

void log_watch(void)
{
	if (lg.fd < 0 || lg.watched || !lg.pollable)
		return;
	/* epoll refuses fds that never block (regular files, /dev/null): those need no waiting. */
	if (loop_add(lg.fd, 0, on_output, NULL) == 0)
		lg.watched = 1;
	else
		lg.pollable = 0;
	log_flush(0);
}

/* Foreign lines stop at their share of the buffer; stubinit's own may use all of it. */
static void append_line(const char *line, size_t n, int foreign)
{
	size_t limit = foreign ? lg.cap / LOG_FOREIGN_SHARE_DEN * LOG_FOREIGN_SHARE_NUM : lg.cap;

	if (lg.len > limit || n > limit - lg.len) {
		lg.dropped++;
		lg.dropped_total++;
		return;
	}
	ring_put(line, n);
}

/* Formats one line into the buffer; the caller flushes. */
static void emit(enum log_level level, int foreign, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));
static void emit(enum log_level level, int foreign, const char *fmt, va_list ap)
{
	char line[LOG_LINE_MAX + 64];
	struct timespec ts;
	int n, m;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	n = snprintf(line, sizeof(line), "[%5lld.%06ld] stubinit %s: ", (long long)ts.tv_sec,
		     ts.tv_nsec / 1000, log_level_name(level));
	m = vsnprintf(line + n, LOG_LINE_MAX, fmt, ap);
	if (m < 0)
		m = 0;
	if (m >= LOG_LINE_MAX) {
		m = LOG_LINE_MAX - 1;
		memcpy(line + n + m - 3, "...", 3);
	}
	/* One event, one line: whatever the message carries (QEMU output, xenstore values) is
	 * escaped. */
	for (int i = n; i < n + m; i++)
		if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f)
			line[i] = '?';
	line[n + m] = '\n';
	append_line(line, (size_t)(n + m + 1), foreign);
}

static void emitf(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	emit(level, 0, fmt, ap);
	va_end(ap);
}

static void vmsg(enum log_level level, int foreign, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));
static void vmsg(enum log_level level, int foreign, const char *fmt, va_list ap)
{
	if (level > lg.level)
		return;
	if (!lg.buf)
		log_init();
	emit(level, foreign, fmt, ap);
	log_flush(0);
}

void log_vmsg(enum log_level level, const char *fmt, va_list ap)
{
	vmsg(level, 0, fmt, ap);
}

void log_foreign(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(level, 1, fmt, ap);
	va_end(ap);
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int log_ratelimit(struct log_ratelimit *rl)
{
	uint64_t now = now_ms();

	/* One never set up still logs, at the default rate: a limit must not silence a room. */
	if (!rl->burst || !rl->window_ms) {
		rl->burst = rl->burst ? rl->burst : 10;
		rl->window_ms = rl->window_ms ? rl->window_ms : 1000;
		rl->what = rl->what ? rl->what : "log";
	}

	if (!rl->start_ms || now - rl->start_ms >= rl->window_ms) {
		if (rl->suppressed)
			log_msg(LV_WARN, "%s: %llu more suppressed (at most %u per %u ms)",
				rl->what, (unsigned long long)rl->suppressed, rl->burst,
				rl->window_ms);
		rl->start_ms = now ? now : 1;
		rl->n = 0;
		rl->suppressed = 0;
	}
	if (rl->n < rl->burst) {
		rl->n++;
		return 1;
	}
	rl->suppressed++;
	rl->suppressed_total++;
	return 0;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, fmt, ap);
	va_end(ap);
}

void log_errno(enum log_level level, int err, const char *fmt, ...)
{
	char msg[LOG_LINE_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_msg(level, "%s: %s", msg, strerror(err < 0 ? -err : err));
}

void log_fini(void)
{
	if (lg.watched)
		loop_remove(lg.fd);
	if (lg.fd >= 0)
		close(lg.fd);
	if (lg.buf != early)
		free(lg.buf);
	lg.buf = NULL;
	lg.fd = -1;
	lg.watched = lg.want_out = 0;
	lg.len = lg.head = lg.cap = 0;
}
