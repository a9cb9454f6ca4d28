/*
 * Unit tests of the console (a real pty) and the QMP framer (json-c).
 */
#include "unit.h"
#include "console/console.h"
#include "qmp/qmp.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <pty.h>
#include <stdlib.h>
#include <termios.h>
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

static char seen[8][128];
static int nseen;
static void collect(struct json_object *obj, void *arg)
{
	(void)arg;
	if (nseen < 8)
		snprintf(seen[nseen++], sizeof(seen[0]), "%s",
			 json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN));
}

TEST(qmp_framer_split_and_joined)
{
	const char *stream = "{\"QMP\": {\"version\": {}}}\r\n{\"return\": {}}\r\n"
			     "{\"event\": \"STOP\", \"data\": {\"s\": \"a}\\\"{\"}}\r\n";
	struct qmp_framer *f = qmp_framer_new(4096);

	nseen = 0;
	CHECK(f);
	/* Byte by byte, as the slowest transport would deliver it. */
	for (const char *p = stream; *p; p++)
		CHECK_INT(qmp_framer_feed(f, p, 1, collect, NULL), 0);
	CHECK_INT(nseen, 3);
	CHECK_STR(seen[0], "{\"QMP\":{\"version\":{}}}");
	CHECK_STR(seen[2], "{\"event\":\"STOP\",\"data\":{\"s\":\"a}\\\"{\"}}");
	/* All at once. */
	nseen = 0;
	CHECK_INT(qmp_framer_feed(f, stream, strlen(stream), collect, NULL), 0);
	CHECK_INT(nseen, 3);
	CHECK_INT(qmp_framer_pending(f), 0);
	qmp_framer_free(f);
}

TEST(qmp_framer_rejects_bad_input)
{
	struct qmp_framer *f = qmp_framer_new(64);
	char big[200];

	nseen = 0;
	CHECK_INT(qmp_framer_feed(f, "{\"a\": tru}", 10, collect, NULL), -EBADMSG);
	qmp_framer_free(f);
	f = qmp_framer_new(64);
	CHECK_INT(qmp_framer_feed(f, "[1, 2]", 6, collect, NULL), -EBADMSG);
	qmp_framer_free(f);
	f = qmp_framer_new(64);
	memset(big, ' ', sizeof(big));
	big[0] = '{';
	big[1] = '"';
	/* Never closed: bounded by the cap, not by memory. */
	CHECK_INT(qmp_framer_feed(f, big, sizeof(big), collect, NULL), -EMSGSIZE);
	CHECK_INT(nseen, 0);
	qmp_framer_free(f);
}
