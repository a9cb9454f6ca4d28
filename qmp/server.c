// SPDX-License-Identifier: GPL-2.0-only
/*
 * qmp server: dom0's QMP sessions over one shared connection to QEMU. See server.h.
 */
#include "server.h"
#include "conn.h"
#include "firewall.h"
#include "framer.h"
#include "json.h"
#include "core/log.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* QEMU's side: bytes read per wake-up. */
#define QEMU_BUDGET (64 * 1024)

struct qmp_server {
	struct qmp_server_config cfg;
	char *allow;
	struct session *sess;

	/* QEMU's session monitor: NULL until QEMU connects, and again once it is lost */
	struct qmp_conn *qemu;
	bool doomed;	/* lost inside its own callbacks: closed once they return */
	char lost[128]; /* why it was lost ("" while it never was) */
	char *greeting; /* what every session gets first; NULL until QEMU greeted */
	size_t greeting_len;

	/* the session */
	unsigned long gen; /* of the session: replies of older ones reach nobody */
	struct qmp_fw fw;
	struct qmp_framer *from_client;
	bool owe_greeting; /* it began before QEMU greeted */
	unsigned owed;	   /* its commands still waiting for QEMU's reply */

	/* the save hold */
	bool draining;		  /* QEMU's side is not read until the state is moved */
	struct json_object *held; /* the reply, if its session still runs */
	unsigned long held_gen;
	struct log_ratelimit refusals;
};

/* A command forwarded for a session: its reply goes back to that session only. */
struct forwarded {
	struct qmp_server *s;
	unsigned long gen;
	struct json_object *client_id; /* NULL when the command had none */
	bool save;
};

static void lose_qemu(struct qmp_server *s, const char *why);

/* ---- toward the client ----------------------------------------------------------------------- */

static void send_text(struct qmp_server *s, const char *text, size_t len)
{
	if (session_send(s->sess, text, len) < 0)
		session_end(s->sess, "output toward the client over its cap");
}

/* @obj toward the client; one whose text would not be JSON (QEMU's strings and numbers are
 * QEMU's) goes as stubinit's error instead, with the same id. */
static void send_obj(struct qmp_server *s, struct json_object *obj)
{
	struct json_object *id = NULL, *err;
	size_t len;
	char *text = qmp_fw_text(obj, &len);

	if (!text) {
		const char *what = qmp_json_finite(obj) ? "is not well-formed UTF-8"
							: "has a number that is not finite";
		char desc[80];

		json_object_object_get_ex(obj, "id", &id);
		snprintf(desc, sizeof(desc), "stubinit: QEMU's reply %s", what);
		err = qmp_fw_error("GenericError", desc, id);
		if (log_ratelimit(&s->refusals))
			log_warn("qmp: a reply of QEMU's %s: the client gets an error instead",
				 what);
		text = qmp_fw_text(err, &len);
		json_object_put(err);
		if (!text && id) {
			/* the id itself is what cannot be written (the client's NaN) */
			err = qmp_fw_error("GenericError", "stubinit: an id that is not JSON",
					   NULL);
			text = qmp_fw_text(err, &len);
			json_object_put(err);
		}
		if (!text) {
			session_end(s->sess, "out of memory");
			return;
		}
	}
	send_text(s, text, len);
	free(text);
}

static void send_greeting(struct qmp_server *s)
{
	s->owe_greeting = !s->greeting;
	if (s->greeting)
		send_text(s, s->greeting, s->greeting_len);
}

/* ---- QEMU's replies -------------------------------------------------------------------------- */

static void forwarded_free(struct forwarded *f)
{
	json_object_put(f->client_id);
	free(f);
}

static void on_reply(struct json_object *msg, void *arg)
{
	struct forwarded *f = arg;
	struct qmp_server *s = f->s;

	if (f->gen == s->gen && s->owed)
		s->owed--;
	if (!msg) {
		forwarded_free(f);
		return;
	}
	if (f->gen != s->gen || !session_live(s->sess)) {
		log_debug("qmp: a reply dropped: its session has ended");
		forwarded_free(f);
		return;
	}
	if (!qmp_fw_reply(msg, f->client_id)) {
		struct json_object *err = qmp_fw_error(
			"GenericError", "stubinit: QEMU's reply was malformed", f->client_id);

		log_warn("qmp: QEMU answered with neither return nor error; the client gets an "
			 "error");
		send_obj(s, err);
		json_object_put(err);
	} else if (f->save && !qmp_has(msg, "error") && s->cfg.save && !s->draining) {
		/* libxl reads the saved file right after this reply: hold it until the state has
		 * reached console 1. */
		s->held = json_object_get(msg);
		s->held_gen = s->gen;
		s->draining = true;
		s->cfg.save(s, s->cfg.save_arg);
	} else {
		send_obj(s, msg);
	}
	forwarded_free(f);
}

void qmp_server_save_done(struct qmp_server *s, const char *error)
{
	struct json_object *reply = s->held;

	s->draining = false;
	s->held = NULL;
	if (reply && s->held_gen == s->gen && session_live(s->sess)) {
		if (error) {
			struct json_object *id = NULL, *err;

			json_object_object_get_ex(reply, "id", &id);
			log_warn("qmp: %s", error);
			err = qmp_fw_error("GenericError", error, id);
			send_obj(s, err);
			json_object_put(err);
		} else {
			send_obj(s, reply);
		}
	}
	json_object_put(reply);
	/* QEMU's side is read again, and a vchan client has no fd that turns writable. */
	session_pump(s->sess);
}

/* ---- QEMU's connection ----------------------------------------------------------------------- */

static void on_qemu_greeting(struct json_object *greeting, void *arg)
{
	struct qmp_server *s = arg;

	free(s->greeting);
	s->greeting = qmp_fw_greeting(greeting, &s->greeting_len);
	if (!s->greeting) {
		lose_qemu(s, "QEMU's greeting is unusable");
		return;
	}
	if (s->owe_greeting && session_live(s->sess))
		send_greeting(s);
}

static void on_capabilities(struct json_object *msg, void *arg)
{
	const char *err = qmp_reply_error(msg);

	(void)arg;
	if (msg && err)
		log_warn("qmp: QEMU refused stubinit's qmp_capabilities: %s", err);
}

static void on_qemu_event(struct json_object *ev, void *arg)
{
	(void)arg;
	qmp_fw_event(ev);
}

static void on_qemu_refused(const char *why, void *arg)
{
	struct qmp_server *s = arg;

	/* Skipped: the command it answered gets stubinit's error instead (qmp/conn.h). */
	if (log_ratelimit(&s->refusals))
		log_warn("qmp: a message from QEMU refused: %s (stubinit.qmp-max-message)", why);
}

static void on_qemu_closed(const char *why, void *arg)
{
	(void)why, (void)arg;
}

static const struct qmp_conn_ops qemu_ops = {
	.greeting = on_qemu_greeting,
	.event = on_qemu_event,
	.refused = on_qemu_refused,
	.closed = on_qemu_closed,
};

/* Whether QEMU is read now: always, unless a live session's client is behind or a save reply is
 * held (replies for nobody are read and dropped). */
static bool read_qemu(const struct qmp_server *s)
{
	return s->qemu && !s->draining &&
	       (!session_live(s->sess) || session_out_pending(s->sess) < s->cfg.max_message);
}

static void close_qemu(struct qmp_server *s)
{
	if (!s->qemu)
		return;
	session_peer(s->sess, -1);
	qmp_conn_free(s->qemu);
	s->qemu = NULL;
}

/* QEMU broke the stream or closed it: every session from now on is told so. The connection is
 * closed by reap_qemu(), outside its own callbacks. */
static void lose_qemu(struct qmp_server *s, const char *why)
{
	if (!s->qemu || s->doomed)
		return;
	snprintf(s->lost, sizeof(s->lost), "%s", why);
	s->doomed = true;
	if (session_live(s->sess))
		session_end(s->sess, why);
	else
		log_warn("qmp: %s", why);
}

static void reap_qemu(struct qmp_server *s)
{
	if (s->doomed)
		close_qemu(s);
	s->doomed = false;
}

void qmp_server_attach(struct qmp_server *s, int fd)
{
	struct qmp_conn_limits lim = {
		.max_msg = s->cfg.max_message,
		.max_alloc = QMP_SESSION_ALLOC_MAX,
		.max_out = QMP_TO_QEMU_LIMIT + s->cfg.max_message,
		.max_inflight = QMP_SERVER_INFLIGHT,
	};

	close_qemu(s);
	s->lost[0] = 0;
	s->doomed = false;
	s->qemu = qmp_conn_new(fd, &lim, &qemu_ops, s);
	if (!s->qemu || session_peer(s->sess, fd) < 0) {
		log_error("qmp: cannot serve QEMU's session monitor");
		if (s->qemu)
			qmp_conn_free(s->qemu);
		else
			close(fd);
		s->qemu = NULL;
		snprintf(s->lost, sizeof(s->lost), "QEMU's session monitor cannot be served");
		return;
	}
	/* stubinit negotiates once, for every session to come. */
	if (qmp_conn_command(s->qemu, "qmp_capabilities", NULL, -1, on_capabilities, s) < 0)
		log_warn("qmp: cannot send qmp_capabilities to QEMU");
	log_info("qmp: QEMU's session monitor connected (one connection for all sessions)");
	reap_qemu(s);
	session_pump(s->sess);
}

/* ---- the session's side ---------------------------------------------------------------------- */

static void refuse_now(struct qmp_server *s, struct json_object *id, const char *why)
{
	struct json_object *err = qmp_fw_error("GenericError", why, id);

	if (log_ratelimit(&s->refusals))
		log_warn("qmp: %s", why);
	send_obj(s, err);
	json_object_put(err);
}

/* A complete object from the client. */
static void from_client(struct json_object *obj, void *arg)
{
	struct qmp_server *s = arg;
	struct json_object *reply, *id = NULL;
	struct forwarded *f;
	char why[192];
	bool save;
	int err;

	if (!session_live(s->sess))
		return;
	if (!obj) {
		session_end(s->sess, "client message over the size cap");
		return;
	}
	switch (qmp_fw_client(&s->fw, obj, &reply, &save, why, sizeof(why))) {
	case QMP_FW_REFUSE:
		if (log_ratelimit(&s->refusals))
			log_warn("qmp: %s", why);
		/* fall through */
	case QMP_FW_ANSWER:
		send_obj(s, reply);
		json_object_put(reply);
		return;
	case QMP_FW_FORWARD:
		break;
	}
	json_object_object_get_ex(obj, "id", &id);
	if (!s->qemu) {
		refuse_now(s, id, "stubinit: QEMU's session monitor is not connected");
		return;
	}
	if (!qmp_json_finite(obj)) {
		/* json-c would write it as NaN or Infinity, which QEMU's parser does not take */
		refuse_now(s, id, "stubinit: a number that is not finite is not JSON");
		return;
	}
	f = calloc(1, sizeof(*f));
	if (!f) {
		session_end(s->sess, "out of memory");
		return;
	}
	*f = (struct forwarded){s, s->gen, id ? json_object_get(id) : NULL, save};
	err = qmp_conn_forward(s->qemu, obj, on_reply, f);
	if (err) {
		/* A refusal now would overtake the replies still owed: the order is the client's.
		 */
		forwarded_free(f);
		session_end(s->sess, err == -ENOBUFS ? "QEMU is behind: too much asked at once"
						     : "QEMU's session monitor is gone");
		return;
	}
	s->owed++;
}

/* A clean slate for the session's client: what a new session and a reconnect marker give. */
static const char *fresh(struct qmp_server *s)
{
	s->gen++;
	s->owed = 0;
	qmp_fw_reset(&s->fw);
	qmp_framer_free(s->from_client);
	s->from_client = qmp_framer_new(s->cfg.max_message, QMP_SESSION_ALLOC_MAX);
	if (!s->from_client)
		return "out of memory";
	send_greeting(s);
	return NULL;
}

static const char *op_begin(void *arg)
{
	struct qmp_server *s = arg;

	if (s->lost[0])
		return s->lost;
	return fresh(s);
}

static void op_restart(void *arg)
{
	const char *why = fresh(arg);

	if (why)
		session_end(((struct qmp_server *)arg)->sess, why);
}

static size_t op_room(void *arg)
{
	struct qmp_server *s = arg;

	if (!s->qemu || s->draining || qmp_conn_queued(s->qemu) >= QMP_TO_QEMU_LIMIT ||
	    qmp_conn_inflight(s->qemu) >= QMP_SERVER_INFLIGHT / 2 ||
	    session_out_pending(s->sess) >= s->cfg.max_message)
		return 0;
	return SESSION_BUDGET;
}

static void op_input(void *arg, const char *p, size_t n)
{
	struct qmp_server *s = arg;
	int err = qmp_framer_feed(s->from_client, p, n, from_client, s);

	if (err && session_live(s->sess))
		session_end(s->sess, "malformed JSON from the client");
}

static void op_io(void *arg)
{
	struct qmp_server *s = arg;
	int r;

	if (s->qemu && qmp_conn_wants_write(s->qemu) && qmp_conn_flush(s->qemu) < 0)
		lose_qemu(s, "QEMU's session monitor closed");
	if (read_qemu(s) && !s->doomed) {
		r = qmp_conn_read(s->qemu, QEMU_BUDGET);
		if (r < 0)
			lose_qemu(s, "QEMU closed the session monitor");
		else if (r > 0)
			session_again(s->sess);
	}
	reap_qemu(s);
}

static bool op_settled(void *arg)
{
	struct qmp_server *s = arg;

	return !s->owed && !(s->held && s->held_gen == s->gen);
}

static void op_end(void *arg, const char *why)
{
	struct qmp_server *s = arg;

	(void)why;
	s->gen++;
	s->owed = 0;
	if (s->held) {
		/* A save still draining finishes on its own; its reply had one reader, now gone. */
		log_warn("qmp: the held save reply is dropped: its session ended");
		json_object_put(s->held);
		s->held = NULL;
	}
}

static bool op_peer_read(void *arg)
{
	return read_qemu(arg);
}

static bool op_peer_write(void *arg)
{
	struct qmp_server *s = arg;

	return s->qemu && qmp_conn_wants_write(s->qemu);
}

/* In struct session_ops' order. */
static const struct session_ops ops = {op_begin,   op_room, op_input,	  op_restart,	op_io,
				       op_settled, op_end,  op_peer_read, op_peer_write};

/* ---- start and stop -------------------------------------------------------------------------- */

struct qmp_server *qmp_server_start(const struct qmp_server_config *cfg)
{
	struct qmp_server *s = calloc(1, sizeof(*s));
	struct session_config sc = cfg->session;

	if (!s)
		return NULL;
	s->cfg = *cfg;
	s->allow = strdup(cfg->allow ? cfg->allow : "");
	s->cfg.allow = s->allow;
	s->refusals = (struct log_ratelimit)LOG_RATELIMIT("qmp: refusals", 10, 1000);
	if (!s->allow) {
		qmp_server_stop(s);
		return NULL;
	}
	qmp_fw_init(&s->fw, s->allow);
	sc.name = "qmp";
	sc.what = "dom0's QMP";
	sc.out_max = 2 * cfg->max_message + SESSION_BUDGET;
	sc.marker_anywhere = true;
	sc.quiet = true;
	s->sess = session_start(&sc, &ops, s);
	if (!s->sess) {
		qmp_server_stop(s);
		return NULL;
	}
	return s;
}

void qmp_server_stop(struct qmp_server *s)
{
	if (!s)
		return;
	if (s->sess)
		close_qemu(s);
	session_stop(s->sess);
	qmp_framer_free(s->from_client);
	json_object_put(s->held);
	free(s->greeting);
	free(s->allow);
	free(s);
}
