/*
 * console: raw hvc consoles. See console.h.
 */
#include "console.h"

#include <errno.h>
#include <fcntl.h>
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
