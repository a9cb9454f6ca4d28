// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests of QMP framing (json-c's tokener behind the cost pre-scan), the typed accessors, and
 * the one QMP client over a real socketpair, hostile input included.
 */
#include "unit.h"
#include "qmp/conn.h"
#include "qmp/firewall.h"
#include "qmp/framer.h"
#include "qmp/json.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

static char seen[8][128];
static int nseen, nrefused;

static void collect(struct json_object *obj, void *arg)
{
	(void)arg;
	if (!obj) {
		nrefused++;
		return;
	}
	if (nseen < 8)
		snprintf(seen[nseen++], sizeof(seen[0]), "%s",
			 json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN));
}

TEST(qmp_framer_split_and_joined)
{
	const char *stream = "{\"QMP\": {\"version\": {}}}\r\n{\"return\": {}}\r\n"
			     "{\"event\": \"STOP\", \"data\": {\"s\": \"a}\\\"{\"}}\r\n";
	struct qmp_framer *f = qmp_framer_new(4096, 1 << 20);

	nseen = nrefused = 0;
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
	static const char *const bad[] = {
		"{\"a\": tru}", "[1, 2]", "{\"a\": 1}}", "{]", "null",
	};
	char deep[80];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct qmp_framer *f = qmp_framer_new(4096, 1 << 20);

		nseen = nrefused = 0;
		if (qmp_framer_feed(f, bad[i], strlen(bad[i]), collect, NULL) != -EBADMSG) {
			unit_fail(__FILE__, __LINE__, "accepted %s", bad[i]);
			qmp_framer_free(f);
			return;
		}
		qmp_framer_free(f);
	}
	/* Deeper than QMP_MAX_DEPTH: */
	memset(deep, '[', sizeof(deep));
	deep[0] = '{', deep[1] = '"', deep[2] = 'a', deep[3] = '"', deep[4] = ':';
	struct qmp_framer *f = qmp_framer_new(4096, 1 << 20);
	CHECK_INT(qmp_framer_feed(f, deep, sizeof(deep), collect, NULL), -EBADMSG);
	qmp_framer_free(f);
}

TEST(qmp_framer_leaves_utf8_to_what_leaves)
{
	struct qmp_framer *f = qmp_framer_new(4096, 1 << 20);
	const char *msg = "{\"a\": \"\xff\xfe\xc0\xaf\"}{\"b\": \"\xed\xa0\x80\"}";

	/* Not UTF-8 inside a string: the message is whole, and the stream goes on; what goes to
	 * dom0 is checked as it leaves (qmp_fw_text, firewall tests). */
	nseen = nrefused = 0;
	CHECK_INT(qmp_framer_feed(f, msg, strlen(msg), collect, NULL), 0);
	CHECK_INT(nseen, 2);
	qmp_framer_free(f);
}

/* One message through a new framer: 0 and its text in seen[0], or the error; *@writable whether
 * qmp_fw_text() would write it (NULL: not asked). */
static bool last_writable;

static void collect_writable(struct json_object *obj, void *arg)
{
	size_t len;
	char *text = obj ? qmp_fw_text(obj, &len) : NULL;

	last_writable = text != NULL;
	free(text);
	collect(obj, arg);
}

static int frame_one(const char *msg, bool *writable)
{
	struct qmp_framer *f = qmp_framer_new(4096, 1 << 20);
	int r;

	nseen = nrefused = 0;
	r = qmp_framer_feed(f, msg, strlen(msg), collect_writable, NULL);
	qmp_framer_free(f);
	if (writable)
		*writable = last_writable;
	return r < 0 ? r : nseen == 1 ? 0 : -1;
}

TEST(qmp_framer_strict_or_lenient_takes_utf8_and_what_is_not_json_never_leaves)
{
	bool was = qmp_framer_lenient(), w;

	/* The lenient mode is what a json-c whose strict mode refuses non-ASCII bytes (0.18) gets;
	 * the probe picked @was for the json-c this runs against, which is the strict mode unless
	 * that json-c's is broken. */
	for (int lenient = was; lenient < 2; lenient++) {
		qmp_framer_set_lenient(lenient);
		CHECK_INT(frame_one("{\"a\": \"caf\xc3\xa9 \xe2\x82\xac\"}", &w), 0);
		CHECK_STR(seen[0], "{\"a\":\"caf\xc3\xa9 \xe2\x82\xac\"}");
		CHECK(w);
		CHECK_INT(frame_one("{\"a\": [1, 2.5, -3e2, {\"b\": 0.1}]}", &w), 0);
		CHECK(w);
		/* json-c takes NaN even in strict mode and would write it as NaN: the stream stays
		 * in step, and the text never leaves (the client gets stubinit's error instead) */
		CHECK_INT(frame_one("{\"a\": NaN}", &w), 0);
		CHECK(!w);
		if (lenient) {
			CHECK_INT(frame_one("{\"a\": [1, {\"b\": -Infinity}]}", &w), 0);
			CHECK(!w);
			CHECK_INT(frame_one("{\"a\": 1e999}", &w), 0);
			CHECK(!w);
			/* what only lenient json-c takes is written again as JSON, or is out of
			 * step */
			CHECK_INT(frame_one("{\"a\": 1, /* x */ \"b\": 2}", &w), 0);
			CHECK_STR(seen[0], "{\"a\":1,\"b\":2}");
			CHECK_INT(frame_one("{\"a\": 1 /* } */ }", NULL), -EBADMSG);
		}
	}
	qmp_framer_set_lenient(was);
}

TEST(qmp_json_finite_looks_at_every_depth)
{
	struct json_object *o = json_tokener_parse("{\"a\": [1, {\"b\": [2.5, \"x\"]}]}");
	struct json_object *inner;

	CHECK(qmp_json_finite(o));
	inner = json_object_array_get_idx(json_object_object_get(o, "a"), 1);
	json_object_array_add(json_object_object_get(inner, "b"),
			      json_object_new_double(1.0 / 0.0));
	CHECK(!qmp_json_finite(o));
	json_object_put(o);
}

TEST(qmp_framer_refuses_over_size_and_goes_on)
{
	struct qmp_framer *f = qmp_framer_new(64, 1 << 20);
	char big[300];

	nseen = nrefused = 0;
	/* A message over the byte cap is skipped to its end, and the next one still comes. */
	snprintf(big, sizeof(big), "{\"a\": \"%0200d\"}{\"b\": 1}", 0);
	CHECK_INT(qmp_framer_feed(f, big, strlen(big), collect, NULL), 0);
	CHECK_INT(nrefused, 1);
	CHECK_CONTAINS(qmp_framer_why(f), "size cap (64 bytes)");
	CHECK_INT(nseen, 1);
	CHECK_STR(seen[0], "{\"b\":1}");
	/* One never closed: bounded by the cap, not by memory. */
	memset(big, ' ', sizeof(big));
	big[0] = '{', big[1] = '"';
	CHECK_INT(qmp_framer_feed(f, big, sizeof(big), collect, NULL), 0);
	CHECK_INT(nrefused, 2);
	CHECK_INT(qmp_framer_refused(f), 2);
	qmp_framer_free(f);
}

TEST(qmp_framer_bounds_what_parsing_allocates)
{
	/* [{},{},...]: 3 bytes of text, 800 bytes of json-c each. */
	size_t n = 64 * 1024, len = 0;
	char *text = malloc(n + 64);
	struct qmp_framer *f = qmp_framer_new(1 << 20, 8 << 20);

	CHECK(text && f);
	nseen = nrefused = 0;
	len += (size_t)sprintf(text, "{\"event\":\"X\",\"data\":[{}");
	while (len + 3 < n)
		memcpy(text + len, ",{}", 3), len += 3;
	memcpy(text + len, "]}{\"ok\":1}", 10), len += 10;
	CHECK_INT(qmp_framer_feed(f, text, len, collect, NULL), 0);
	CHECK_INT(nrefused, 1);
	CHECK_CONTAINS(qmp_framer_why(f), "allocation budget");
	CHECK_INT(nseen, 1);
	CHECK_STR(seen[0], "{\"ok\":1}");
	/* Real QMP traffic passes: a query-pci reply of 40 devices. */
	len = (size_t)sprintf(text, "{\"return\":[{\"bus\":0,\"devices\":[");
	for (int i = 0; i < 40; i++)
		len += (size_t)sprintf(text + len,
				       "%s{\"bus\":0,\"slot\":%d,\"function\":0,\"class_info\":"
				       "{\"class\":512,\"desc\":\"Ethernet controller\"},\"id\":"
				       "{\"device\":33081,\"vendor\":4332},\"irq\":11,\"qdev_id\":"
				       "\"nic%d\",\"regions\":[{\"bar\":0,\"type\":\"io\","
				       "\"address\":49152,\"size\":256}]}",
				       i ? "," : "", i, i);
	len += (size_t)sprintf(text + len, "]}],\"id\":1}");
	nseen = nrefused = 0;
	CHECK_INT(qmp_framer_feed(f, text, len, collect, NULL), 0);
	CHECK_INT(nrefused, 0);
	CHECK_INT(nseen, 1);
	qmp_framer_free(f);
	free(text);
}

TEST(qmp_json_typed_accessors)
{
	struct json_object *o = json_tokener_parse(
		"{\"s\":\"x\",\"n\":null,\"i\":7,\"big\":99999999999,\"a\":[{\"k\":1},2],"
		"\"o\":{},\"error\":null}");
	int64_t v = -1;
	size_t n;

	CHECK(o);
	CHECK_STR(qmp_get_str(o, "s"), "x");
	/* null and wrong types read as absent, never as a NULL to dereference */
	CHECK(!qmp_get_str(o, "n") && !qmp_get_str(o, "i") && !qmp_get_str(o, "nope"));
	CHECK(!qmp_get_obj(o, "n") && !qmp_get_obj(o, "a") && qmp_get_obj(o, "o"));
	CHECK(!qmp_get_arr(o, "o", &n) && n == 0);
	CHECK(qmp_get_arr(o, "a", &n) && n == 2);
	CHECK(qmp_arr_obj(qmp_get_arr(o, "a", &n), 0) && !qmp_arr_obj(qmp_get_arr(o, "a", &n), 1));
	CHECK(!qmp_arr_obj(qmp_get_arr(o, "a", &n), 5));
	CHECK(qmp_get_int(o, "i", 0, 31, &v) && v == 7);
	CHECK(!qmp_get_int(o, "big", 0, 31, &v) && !qmp_get_int(o, "s", 0, 31, &v));
	CHECK(!qmp_get_str(NULL, "s") && !qmp_get_str(qmp_get_obj(o, "n"), "s"));
	/* Any "error" is a failure, even a null one; a reply needs "return". */
	CHECK_STR(qmp_reply_error(o), "error without a description");
	json_object_put(o);
	o = json_tokener_parse("{\"error\":{\"desc\":null}}");
	CHECK_STR(qmp_reply_error(o), "error without a description");
	json_object_put(o);
	o = json_tokener_parse("{\"id\":1}");
	CHECK_STR(qmp_reply_error(o), "a reply with neither return nor error");
	json_object_put(o);
	o = json_tokener_parse("{\"return\":null}");
	CHECK(!qmp_reply_error(o));
	json_object_put(o);
	CHECK_STR(qmp_reply_error(NULL), "connection closed");
	CHECK(qmp_utf8_valid("a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 10));
	CHECK(!qmp_utf8_valid("\xff", 1) && !qmp_utf8_valid("\xc0\xaf", 2) &&
	      !qmp_utf8_valid("\xed\xa0\x80", 3) && !qmp_utf8_valid("\xe2\x82", 2) &&
	      !qmp_utf8_valid("\xf4\x90\x80\x80", 4));
}

static int greeted, events, replies, closed_calls, null_replies, refused;
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

static void t_refused(const char *why, void *arg)
{
	(void)why, (void)arg;
	refused++;
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
		 qmp_reply_error(msg) ? qmp_reply_error(msg) : "ok");
}

static const struct qmp_conn_ops t_ops = {t_greeting, t_event, t_refused, t_closed};
static const struct qmp_conn_limits t_lim = {4096, 1 << 20, 8192, 0};

/* Reads one message (and an fd passed with it) from the peer side of the socketpair. */
static int peer_recv(int s, char *buf, size_t len, int *fd)
{
	union {
		char b[CMSG_SPACE(sizeof(int))];
		struct cmsghdr a;
	} u;
	struct iovec iov = {buf, len - 1};
	struct msghdr mh = {.msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = u.b,
			    .msg_controllen = sizeof(u.b)};
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

static int say(int fd, const char *s)
{
	return write(fd, s, strlen(s)) == (ssize_t)strlen(s) ? 0 : -1;
}

TEST(qmp_conn_commands_events_and_fd_passing)
{
	int sp[2], passed = -1, pipefd[2];
	char buf[512];
	struct qmp_conn *c;

	greeted = events = replies = closed_calls = null_replies = refused = 0;
	CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) == 0);
	CHECK(pipe(pipefd) == 0);
	c = qmp_conn_new(sp[0], &t_lim, &t_ops, NULL);
	CHECK(c);
	CHECK_INT(say(sp[1], "{\"QMP\": {\"version\": {}, \"capabilities\": []}}\r\n"), 0);
	CHECK_INT(qmp_conn_read(c, 65536), 0);
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
	CHECK_INT(qmp_conn_inflight(c), 2);
	/* Replies out of order, an event between them, and a reply nobody asked for. */
	CHECK_INT(say(sp[1],
		      "{\"error\": {\"class\": \"GenericError\", \"desc\": \"no\"}, \"id\": 2}"
		      "\r\n{\"event\": \"STOP\", \"timestamp\": {}}\r\n"
		      "{\"return\": {}, \"id\": 9}\r\n"),
		  0);
	CHECK_INT(qmp_conn_read(c, 65536), 0);
	CHECK_INT(replies, 1);
	CHECK_STR(last_reply, "no");
	CHECK_INT(events, 1);
	CHECK_INT(qmp_conn_dropped(c), 1);
	/* Malformed input ends the connection; the reply still owed gets NULL. */
	CHECK_INT(say(sp[1], "{\"return\": ]"), 0);
	CHECK_INT(qmp_conn_read(c, 65536), -1);
	CHECK_INT(closed_calls, 1);
	CHECK_STR(last_reply, "closed: malformed JSON from QEMU");
	qmp_conn_free(c);
	CHECK_INT(null_replies, 1);
	close(sp[1]);
	close(pipefd[0]);
	close(pipefd[1]);
}

TEST(qmp_conn_hostile_peer)
{
	int sp[2], fd;
	char buf[512];
	struct qmp_conn *c;
	struct json_object *cmd;

	greeted = events = replies = closed_calls = null_replies = refused = 0;
	CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) == 0);
	c = qmp_conn_new(sp[0], &t_lim, &t_ops, NULL);
	CHECK(c);
	/* Events before the greeting, nulls where names belong, a second greeting, ids of every
	 * wrong type: dropped and counted, never dispatched. */
	CHECK_INT(say(sp[1], "{\"event\":\"EARLY\"}{\"QMP\":null}{\"QMP\":{}}{\"QMP\":{}}"
			     "{\"event\":null}{\"event\":7}{\"id\":null,\"return\":{}}"
			     "{\"id\":\"1\",\"return\":{}}{\"id\":-1,\"return\":{}}{}"),
		  0);
	CHECK_INT(qmp_conn_read(c, 65536), 0);
	CHECK_INT(greeted, 1);
	CHECK_INT(events, 0);
	CHECK_INT(qmp_conn_dropped(c), 9);
	/* A reply to an id already answered is not answered twice. */
	CHECK_INT(qmp_conn_command(c, "stop", NULL, -1, t_reply, NULL), 0);
	CHECK_INT(peer_recv(sp[1], buf, sizeof(buf), &fd), 0);
	CHECK_INT(say(sp[1], "{\"return\":{},\"id\":1}{\"return\":{},\"id\":1}"), 0);
	CHECK_INT(qmp_conn_read(c, 65536), 0);
	CHECK_INT(replies, 1);
	/* A message over the cap is refused and skipped; the connection goes on. */
	memset(buf, 'x', sizeof(buf));
	CHECK(write(sp[1], "{\"big\":\"", 8) == 8);
	for (int i = 0; i < 10; i++)
		CHECK(write(sp[1], buf, sizeof(buf)) == (ssize_t)sizeof(buf));
	CHECK_INT(say(sp[1], "\"}{\"event\":\"AFTER\"}"), 0);
	CHECK_INT(qmp_conn_read(c, 65536), 0);
	CHECK_INT(refused, 1);
	CHECK_INT(events, 1);
	/* A forwarded command keeps everything but its id, which becomes the connection's. */
	cmd = json_tokener_parse("{\"execute\":\"query-status\",\"id\":{\"dom0\":[1]}}");
	CHECK_INT(qmp_conn_forward(c, cmd, t_reply, NULL), 0);
	json_object_put(cmd);
	CHECK_INT(peer_recv(sp[1], buf, sizeof(buf), &fd), 0);
	CHECK_STR(buf, "{\"execute\":\"query-status\",\"id\":2}\r\n");
	/* The budget: at most that many bytes read per call, the rest waits. */
	for (int i = 0; i < 100; i++)
		CHECK_INT(say(sp[1], "{\"event\":\"FLOOD\"}\r\n"), 0);
	CHECK_INT(qmp_conn_read(c, 100), 1);
	CHECK(events < 10);
	CHECK_INT(qmp_conn_read(c, 1 << 20), 0);
	CHECK_INT(events, 101);
	qmp_conn_free(c);
	CHECK_INT(null_replies, 1);
	close(sp[1]);
}

TEST(qmp_conn_bounds_what_waits)
{
	int sp[2];
	struct qmp_conn *c;
	struct json_object *args;
	int err = 0, sent = 0;

	null_replies = 0;
	CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) == 0);
	c = qmp_conn_new(sp[0], &t_lim, &t_ops, NULL);
	CHECK(c);
	/* Commands nobody answers: at most QMP_CONN_INFLIGHT wait. */
	while (!err && sent < 1000) {
		err = qmp_conn_command(c, "stop", NULL, -1, t_reply, NULL);
		sent += !err;
	}
	CHECK_INT(err, -ENOBUFS);
	CHECK_INT(sent, QMP_CONN_INFLIGHT);
	qmp_conn_free(c);
	CHECK_INT(null_replies, QMP_CONN_INFLIGHT);
	close(sp[1]);
	/* A peer that never reads: what is queued toward it stops at max_out. */
	CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) == 0);
	CHECK(setsockopt(sp[0], SOL_SOCKET, SO_SNDBUF, &(int){1}, sizeof(int)) == 0);
	c = qmp_conn_new(sp[0], &(struct qmp_conn_limits){4096, 1 << 20, 1000, 0}, &t_ops, NULL);
	CHECK(c);
	memset(last_reply, 'a', 200);
	last_reply[200] = 0;
	args = json_object_new_object();
	json_object_object_add(args, "x", json_object_new_string(last_reply));
	err = 0;
	for (sent = 0; !err && sent < QMP_CONN_INFLIGHT; sent++)
		err = qmp_conn_command(c, "stop", json_object_get(args), -1, t_reply, NULL);
	CHECK_INT(err, -ENOBUFS);
	CHECK(qmp_conn_queued(c) > 0 && qmp_conn_queued(c) <= 1000);
	json_object_put(args);
	qmp_conn_free(c);
	close(sp[1]);
}
