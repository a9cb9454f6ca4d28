// SPDX-License-Identifier: GPL-2.0-only
/*
 * console: raw hvc consoles. See console.h.
 */
#include "console.h"
#include "core/log.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

int console_make_raw(int fd, bool *was_cooked)
{
	struct termios t;

	if (tcgetattr(fd, &t) < 0)
		return -errno;
	*was_cooked = (t.c_lflag & (ICANON | ECHO)) != 0;
	t.c_iflag &= ~(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON | IXOFF);
	t.c_oflag &= ~OPOST;
	t.c_lflag &= ~(ECHO | ECHONL | ICANON | ISIG | IEXTEN);
	t.c_cflag &= ~(CSIZE | PARENB);
	t.c_cflag |= CS8;
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	/* TCSANOW: flushing or draining would lose or wait for bytes already in the ring. */
	if (tcsetattr(fd, TCSANOW, &t) < 0)
		return -errno;
	return 0;
}

int console_open_raw(const char *path, int flags, struct console_open *out)
{
	int fd = open(path, flags | O_NOCTTY | O_CLOEXEC);
	int err;

	if (fd < 0)
		return -errno;
	out->fd = fd;
	out->was_cooked = false;
	out->fifo = false;
	out->fifo_err = 0;
	out->is_tty = isatty(fd);
	if (!out->is_tty)
		return 0;
	err = console_make_raw(fd, &out->was_cooked);
	if (err) {
		close(fd);
		out->fd = -1;
	}
	return err;
}

int console_open_raw_first(const char *path, int flags, struct console_open *out)
{
	struct sched_param rt = {.sched_priority = 99}, normal = {.sched_priority = 0};
	int locked, fifo, err, fifo_err = 0;

	locked = mlockall(MCL_CURRENT | MCL_FUTURE) == 0;
	/* The system call itself: musl's sched_setscheduler() is a stub that fails with ENOSYS. */
	fifo = syscall(SYS_sched_setscheduler, 0, SCHED_FIFO, &rt) == 0;
	if (!fifo)
		fifo_err = errno;
	err = console_open_raw(path, flags, out);
	if (fifo)
		syscall(SYS_sched_setscheduler, 0, SCHED_OTHER, &normal);
	if (locked)
		munlockall();
	if (!err) {
		out->fifo = fifo;
		out->fifo_err = fifo_err;
	}
	return err;
}

static void report(const char *path, const struct console_open *c, const char *how)
{
	if (!c->is_tty) {
		log_info("console: %s opened %s (not a tty: nothing to make raw)", path, how);
		return;
	}
	log_info("console: %s opened %s and made raw; it was %s when opened%s", path, how,
		 c->was_cooked ? "cooked" : "already raw (a raw-by-default kernel: no race)",
		 c->fifo ? ", under SCHED_FIFO" : "");
}

/* A node without a console behind it (ENODEV, ENXIO: the toolstack connected none) is as absent as
 * a missing node: only a save or a restore needs it, and those report their own errors. */
static bool absent(int err)
{
	return err == -ENOENT || err == -ENODEV || err == -ENXIO;
}

void console_setup(const char *prefix, struct console_set *cs)
{
	char in[128], out[128];
	int err;

	snprintf(in, sizeof(in), "%s2", prefix);
	snprintf(out, sizeof(out), "%s1", prefix);
	cs->in.fd = cs->out.fd = -1;
	err = console_open_raw_first(in, O_RDONLY, &cs->in);
	if (absent(err)) {
		log_info("console: no %s (%s): no restore stream possible", in, strerror(-err));
	} else if (err) {
		log_errno(LV_ERROR, err, "console: %s", in);
		cs->in.fd = -1;
	} else {
		if (!cs->in.fifo && cs->in.is_tty)
			log_warn("console: SCHED_FIFO refused for %s (%s): a restore stream "
				 "waiting in "
				 "a cooked console may have been mangled",
				 in, strerror(cs->in.fifo_err));
		report(in, &cs->in, "read-only");
	}
	err = console_open_raw(out, O_WRONLY, &cs->out);
	if (absent(err)) {
		log_info("console: no %s (%s): no save stream possible", out, strerror(-err));
	} else if (err) {
		log_errno(LV_ERROR, err, "console: %s", out);
		cs->out.fd = -1;
	} else {
		report(out, &cs->out, "write-only");
	}
}
