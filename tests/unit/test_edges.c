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
#include <sys/socket.h>
#include <stdio.h>
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

static int greeted, events, replies, closed_calls, null_replies;
static char last_reply[256];

static void t_greeting(struct json_object *g, void *arg)
{
	(void)g, (void)arg;
	greeted++;
}

static void t_event(struct json_object *e, void *arg)
{
	(void)e, (void)arg;
	events++;
}

static void t_closed(const char *why, void *arg)
{
	(void)arg;
	closed_calls++;
	snprintf(last_reply, sizeof(last_reply), "closed: %s", why);
}

static void t_reply(struct json_object *msg, void *arg)
{
	(void)arg;
	if (!msg) {
		null_replies++;
		return;
	}
	replies++;
	snprintf(last_reply, sizeof(last_reply), "%s",
		 qmp_error_desc(msg) ? qmp_error_desc(msg) : "ok");
}

static const struct qmp_conn_ops t_ops = { t_greeting, t_event, t_closed };

/* Reads one message (and an fd passed with it) from the peer side of the socketpair. */
static int peer_recv(int s, char *buf, size_t len, int *fd)
{
	union {
		char b[CMSG_SPACE(sizeof(int))];
		struct cmsghdr a;
	} u;
	struct iovec iov = { buf, len - 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.b,
			     .msg_controllen = sizeof(u.b) };
	ssize_t n = recvmsg(s, &mh, 0);
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);

	*fd = -1;
	if (n <= 0)
		return -1;
	buf[n] = 0;
	if (cm && cm->cmsg_type == SCM_RIGHTS)
		memcpy(fd, CMSG_DATA(cm), sizeof(int));
	return 0;
}

TEST(qmp_conn_commands_events_and_fd_passing)
{
	int sp[2], passed = -1, pipefd[2];
	char buf[512];
	struct qmp_conn *c;

	greeted = events = replies = closed_calls = null_replies = 0;
	CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) == 0);
	CHECK(pipe(pipefd) == 0);
	c = qmp_conn_new(sp[0], 4096, &t_ops, NULL);
	CHECK(c);
	CHECK(write(sp[1], "{\"QMP\": {\"version\": {}, \"capabilities\": []}}\r\n", 46) == 46);
	CHECK_INT(qmp_conn_read(c), 0);
	CHECK_INT(greeted, 1);
	CHECK_INT(qmp_conn_command(c, "add-fd", NULL, pipefd[1], t_reply, NULL), 0);
	CHECK_INT(peer_recv(sp[1], buf, sizeof(buf), &passed), 0);
	CHECK_STR(buf, "{\"execute\":\"add-fd\",\"id\":1}\r\n");
	/* The fd arrived with the command, and is the same pipe. */
	CHECK(passed >= 0);
	CHECK(write(passed, "z", 1) == 1);
	CHECK(read(pipefd[0], buf, 1) == 1 && buf[0] == 'z');
	close(passed);
	CHECK_INT(qmp_conn_command(c, "stop", NULL, -1, t_reply, NULL), 0);
	CHECK_INT(peer_recv(sp[1], buf, sizeof(buf), &passed), 0);
	CHECK_STR(buf, "{\"execute\":\"stop\",\"id\":2}\r\n");
	/* Replies out of order, an event between them, and a reply nobody asked for. */
	const char *answer = "{\"error\": {\"class\": \"GenericError\", \"desc\": \"no\"}, \"id\": 2}\r\n"
			     "{\"event\": \"STOP\", \"timestamp\": {}}\r\n{\"return\": {}, \"id\": 9}\r\n";
	CHECK(write(sp[1], answer, strlen(answer)) == (ssize_t)strlen(answer));
	CHECK_INT(qmp_conn_read(c), 0);
	CHECK_INT(replies, 1);
	CHECK_STR(last_reply, "no");
	CHECK_INT(events, 1);
	/* Malformed input ends the connection; the reply still owed gets NULL. */
	CHECK(write(sp[1], "{\"return\": ]", 12) == 12);
	CHECK_INT(qmp_conn_read(c), -1);
	CHECK_INT(closed_calls, 1);
	CHECK_STR(last_reply, "closed: malformed JSON");
	qmp_conn_free(c);
	CHECK_INT(null_replies, 1);
	close(sp[1]);
	close(pipefd[0]);
	close(pipefd[1]);
}
