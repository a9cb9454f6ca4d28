// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests of the console against the real kernel: a pty made raw, a plain file left alone.
 */
#include "unit.h"
#include "console/console.h"

#include <errno.h>
#include <fcntl.h>
#include <pty.h>
#include <unistd.h>

TEST(console_pty_made_raw)
{
	struct console_open c;
	char name[64], got[16];
	const char sent[] = "a\r\n\x03\x04\x7f\xff";
	int master, slave;
	ssize_t n = 0;

	CHECK(openpty(&master, &slave, name, NULL, NULL) == 0);
	close(slave);
	CHECK_INT(console_open_raw(name, O_RDWR, &c), 0);
	CHECK(c.is_tty);
	/* A fresh pty is cooked, as a stock kernel's hvc is. */
	CHECK(c.was_cooked);
	CHECK(write(master, sent, sizeof(sent) - 1) == (ssize_t)sizeof(sent) - 1);
	while (n < (ssize_t)sizeof(sent) - 1) {
		ssize_t r = read(c.fd, got + n, sizeof(got) - (size_t)n);

		CHECK(r > 0);
		n += r;
	}
	/* Every byte unchanged: no CR/LF mapping, no signal for ^C, no EOF for ^D, no erase. */
	CHECK_INT(n, sizeof(sent) - 1);
	CHECK(!memcmp(got, sent, sizeof(sent) - 1));
	/* And nothing echoed back. */
	fcntl(master, F_SETFL, O_NONBLOCK);
	CHECK(read(master, got, sizeof(got)) < 0 && errno == EAGAIN);
	close(c.fd);
	close(master);
}

TEST(console_plain_file_is_not_a_tty)
{
	struct console_open c;

	CHECK_INT(console_open_raw("/dev/null", O_WRONLY, &c), 0);
	CHECK(!c.is_tty && !c.was_cooked);
	close(c.fd);
	CHECK_INT(console_open_raw("/nonexistent/hvc9", O_RDONLY, &c), -ENOENT);
}
