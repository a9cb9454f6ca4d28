// SPDX-License-Identifier: GPL-2.0-only
/*
 * console drain: the saved state file -> console 1, in a child so the loop never blocks. See
 * console.h.
 */
#include "console.h"
#include "core/child.h"
#include "core/log.h"
#include "core/loop.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

struct drain {
	pid_t pid;
	struct loop_timer *timer;
	console_drain_fn done;
	void *arg;
	int timed_out;
};

/* Exit codes of the copy: 0, or a stage plus errno. */
enum {
	STAGE_OPEN = 1,
	STAGE_READ,
	STAGE_WRITE,
	STAGE_DRAIN
};
static const char *const stages[] = {"", "open the save file", "read the save file",
				     "write to console 1", "drain console 1"};

/* In the child: only plain system calls. */
static void copy_and_drain(const char *path, int out_fd, int report)
{
	char buf[16384];
	int in = open(path, O_RDONLY | O_CLOEXEC), code[2] = {0, 0};
	ssize_t n;

	if (in < 0) {
		code[0] = STAGE_OPEN;
		goto out;
	}
	while ((n = read(in, buf, sizeof(buf))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			code[0] = STAGE_READ;
			goto out;
		}
		for (ssize_t off = 0; off < n;) {
			ssize_t w = write(out_fd, buf + off, (size_t)(n - off));

			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0) {
				code[0] = STAGE_WRITE;
				goto out;
			}
			off += w;
		}
	}
	/* Every byte taken by the console, not merely queued: libxl reads the file next. */
	if (isatty(out_fd) && tcdrain(out_fd) < 0)
		code[0] = STAGE_DRAIN;
out:
	if (code[0])
		code[1] = errno;
	if (write(report, code, sizeof(code)) < 0)
		_exit(2);
	_exit(code[0] ? 1 : 0);
}

static int report_fd = -1;

static void on_exit_copy(pid_t pid, int status, void *arg)
{
	struct drain *d = arg;
	char why[160];
	int code[2] = {0, 0};

	(void)pid;
	loop_timer_free(d->timer);
	if (report_fd >= 0) {
		if (read(report_fd, code, sizeof(code)) != sizeof(code))
			code[0] = code[1] = 0;
		close(report_fd);
		report_fd = -1;
	}
	if (d->timed_out)
		snprintf(why, sizeof(why), "console 1 did not take the state within the bound");
	else if (code[0] > 0 && code[0] <= STAGE_DRAIN)
		snprintf(why, sizeof(why), "cannot %s: %s", stages[code[0]], strerror(code[1]));
	else if (!WIFEXITED(status) || WEXITSTATUS(status))
		child_describe(status, why, sizeof(why));
	else
		why[0] = 0;
	d->done(why[0] ? why : NULL, d->arg);
	free(d);
}

static void on_timeout(void *arg)
{
	struct drain *d = arg;

	d->timed_out = 1;
	kill(d->pid, SIGKILL);
}

int console_drain_start(const char *path, int out_fd, unsigned long timeout_ms,
			console_drain_fn done, void *arg)
{
	struct drain *d;
	int p[2];

	if (out_fd < 0) {
		done("console 1 is not open", arg);
		return -ENODEV;
	}
	d = calloc(1, sizeof(*d));
	if (!d || report_fd >= 0 || pipe2(p, O_CLOEXEC) < 0) {
		free(d);
		done(report_fd >= 0 ? "a copy is already running" : "out of resources", arg);
		return -EBUSY;
	}
	d->done = done;
	d->arg = arg;
	d->pid = fork();
	if (d->pid == 0) {
		sigset_t none;

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		copy_and_drain(path, out_fd, p[1]);
	}
	close(p[1]);
	if (d->pid < 0) {
		close(p[0]);
		free(d);
		done(strerror(errno), arg);
		return -EAGAIN;
	}
	report_fd = p[0];
	child_watch(d->pid, "save copy to console 1", on_exit_copy, d);
	d->timer = loop_timer_new(on_timeout, d);
	if (d->timer)
		loop_timer_arm(d->timer, timeout_ms ? timeout_ms : 1, 0);
	return 0;
}
