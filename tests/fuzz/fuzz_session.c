// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fuzz target: the dom0 QMP path's session state machine, with two interleaved streams, the
 * client's and QEMU's, and the save hold. The input is a program: each step writes a chunk to the
 * client's socket or to QEMU's side, finishes a held save (well or with an error), or ends the
 * client and connects a new one; the loop runs between steps. Properties: what reaches the client
 * is CRLF-terminated well-formed UTF-8, each line one JSON object within the cap with finite
 * numbers only; and a session whose client has sent nothing yet receives nothing but a greeting
 * (never a reply of another session's, a held save reply among them).
 */
#include "fuzz.h"
#include "core/log.h"
#include "core/loop.h"
#include "qmp/json.h"
#include "qmp/server.h"

#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define MAX_MESSAGE 4096

static char path[64];
static int saving;

static void on_save(struct qmp_server *srv, void *arg)
{
	(void)srv, (void)arg;
	saving = 1;
}

struct client {
	int fd;
	bool sent; /* anything, in this session */
	char in[2 * MAX_MESSAGE + 64];
	size_t have;
};

static int connect_client(void)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void check_line(struct client *c, char *line, size_t len)
{
	struct json_object *obj;

	if (len > MAX_MESSAGE || !qmp_utf8_valid(line, len))
		abort();
	line[len] = 0;
	obj = json_tokener_parse(line);
	if (!obj || !json_object_is_type(obj, json_type_object) || !qmp_json_finite(obj))
		abort();
	if (!c->sent && !qmp_has(obj, "QMP"))
		abort();
	json_object_put(obj);
}

static void drain(struct client *c)
{
	ssize_t n;

	while (c->fd >= 0 && (n = read(c->fd, c->in + c->have, sizeof(c->in) - 1 - c->have)) > 0) {
		char *crlf;

		c->have += (size_t)n;
		while ((crlf = memmem(c->in, c->have, "\r\n", 2))) {
			size_t len = (size_t)(crlf - c->in);

			check_line(c, c->in, len);
			c->have -= len + 2;
			memmove(c->in, crlf + 2, c->have);
		}
		if (c->have >= sizeof(c->in) - 1)
			abort(); /* a line over the cap */
	}
}

static void turn(struct client *c, int qemu)
{
	char junk[4096];

	for (int i = 0; i < 4; i++) {
		loop_run_once(0);
		drain(c);
		while (read(qemu, junk, sizeof(junk)) > 0)
			;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool once;
	struct qmp_server_config cfg = {.max_message = MAX_MESSAGE, .allow = "*", .save = on_save};
	struct client c = {.fd = -1};
	struct qmp_server *srv;
	int sp[2];
	size_t off = 0;

	if (!once) {
		int null = open("/dev/null", O_WRONLY);

		log_init();
		if (loop_init() < 0 || null < 0)
			abort();
		log_attach(null);
		close(null);
		snprintf(path, sizeof(path), "/tmp/stubinit-fuzz-session-%d.sock", (int)getpid());
		once = true;
	}
	cfg.session.transport = SESSION_UNIX;
	cfg.session.unix_path = path;
	saving = 0;
	srv = qmp_server_start(&cfg);
	if (!srv || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sp) < 0)
		abort();
	qmp_server_attach(srv, sp[0]);
	c.fd = connect_client();
	turn(&c, sp[1]);
	while (off + 2 <= size) {
		unsigned op = data[off] % 6;
		size_t n = data[off + 1] % 64;

		off += 2;
		if (n > size - off)
			n = size - off;
		switch (op) {
		case 0:
		case 1:
			if (c.fd >= 0 && n && send(c.fd, data + off, n, MSG_NOSIGNAL) > 0)
				c.sent = true;
			break;
		case 2:
		case 3:
			if (n && write(sp[1], data + off, n) < 0)
				break;
			break;
		case 4:
			if (saving) {
				saving = 0;
				qmp_server_save_done(srv,
						     (data[off - 1] & 1) ? NULL : "fuzzed failure");
			}
			break;
		default:
			/* The client leaves; the next one is a new session. */
			if (c.fd >= 0)
				close(c.fd);
			c = (struct client){.fd = connect_client()};
			break;
		}
		off += op < 4 ? n : 0;
		turn(&c, sp[1]);
	}
	if (c.fd >= 0)
		close(c.fd);
	close(sp[1]);
	turn(&c, -1);
	qmp_server_stop(srv);
	for (int i = 0; i < 4; i++)
		loop_run_once(0);
	return 0;
}
