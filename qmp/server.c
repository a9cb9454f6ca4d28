/*
 * qmp server: dom0's QMP sessions, their transports, and the firewall. See qmp.h.
 */
#include "qmp.h"
#include "agent/log.h"
#include "agent/loop.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <libxenvchan.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

/* Client bytes waiting for QEMU: reading the client pauses beyond this. */
#define TO_QEMU_LIMIT (64 * 1024)
#define RECONNECT_MARKER 0x01

/* The commands libxl sends to a qemu-xen device model (protocol section 7): the default. */
static const char default_allow[] =
	"qmp_capabilities cont stop device_add device_del query-pci xen-save-devices-state "
	"xen-set-global-dirty-log query-cpus-fast query-cpus query-hotpluggable-cpus cpu-add "
	"system_wakeup human-monitor-command query-version eject query-fdsets remove-fd "
	"blockdev-change-medium query-status xen-set-replication xen-colo-do-checkpoint "
	"query-xen-replication-status xen-load-devices-state nbd-server-start nbd-server-add "
	"nbd-server-stop x-blockdev-change";

struct buf {
	char *d;
	size_t len, off, cap;
};

struct qmp_server {
	struct qmp_server_config cfg;
	char *unix_path, *vchan_path, *qemu_path, *allow;

	/* transport */
	int listen_fd;		  /* unix: listening; registered while no session runs */
	int client_fd;		  /* unix: the session's client */
	struct libxenvchan *vc;	  /* vchan: the ring (kept across sessions) */
	int vc_fd;

	/*
	 * QEMU's session monitor: one connection, opened for the first session and kept for every
	 * later one. Debian's QEMU 7.2 corrupts its heap (and segfaults) when a QMP client closes
	 * while QEMU's output to it is in flight, which a connection per session did all the time.
	 */
	int qemu_fd;			/* registered in the loop while open and not parked */
	bool qemu_parked;		/* it hung up while QEMU is not read: unwatched until it is */
	struct qmp_framer *from_qemu;
	struct buf to_qemu;		/* whole commands only: kept when a session ends */
	struct json_object *greeting;	/* QEMU's, with no capabilities; NULL until it came */
	struct loop_timer *retry;	/* connecting to QEMU again after EAGAIN */
	unsigned connect_tries;
	unsigned long seq;		/* numbers the ids stubinit gives forwarded commands */
	bool feeding;			/* inside the QEMU framer's callbacks */

	/* the session */
	bool active;
	bool client_eof;	  /* the client will send no more */
	bool discard;		  /* vchan: ended by us; drop input until the client leaves */
	bool fresh;		  /* no command from the client yet */
	bool negotiated;	  /* the client's qmp_capabilities was answered */
	bool owe_greeting;	  /* the session began before QEMU greeted */
	struct qmp_framer *from_client;
	struct buf to_client, held; /* held: behind a save reply being drained */
	struct json_object *pending;  /* stubinit's id -> the client's id (null if none) */
	struct json_object *save_ids; /* stubinit's ids of saves to /dev/fdset/1 in flight */
	struct json_object *draining; /* the held save reply */
	unsigned long sessions;
};

static void update_interest(struct qmp_server *s);
static void pump(struct qmp_server *s, uint32_t qemu_events);
static void end_session(struct qmp_server *s, const char *why);

/* ---- buffers ------------------------------------------------------------------------------- */

static int buf_add(struct buf *b, const char *data, size_t n)
{
	if (b->off) {
		/* Reuse the consumed front before growing. */
		memmove(b->d, b->d + b->off, b->len - b->off);
		b->len -= b->off;
		b->off = 0;
	}
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		char *nd;

		while (cap < b->len + n)
			cap *= 2;
		nd = realloc(b->d, cap);
		if (!nd)
			return -ENOMEM;
		b->d = nd;
		b->cap = cap;
	}
	memcpy(b->d + b->len, data, n);
	b->len += n;
	return 0;
}

static size_t buf_pending(const struct buf *b)
{
	return b->len - b->off;
}

static void buf_consumed(struct buf *b, size_t n)
{
	b->off += n;
	if (b->off == b->len)
		b->off = b->len = 0;
}

static void buf_clear(struct buf *b)
{
	free(b->d);
	*b = (struct buf){ 0 };
}

/* ---- transport: reading and writing the client ----------------------------------------------- */

static ssize_t client_read(struct qmp_server *s, char *buf, size_t n)
{
	return qmp_transport_read(s->client_fd, s->vc, buf, n);
}

static ssize_t client_write(struct qmp_server *s, const char *buf, size_t n)
{
	return qmp_transport_write(s->client_fd, s->vc, buf, n);
}

/* ---- firewall and multiplexing ---------------------------------------------------------------- */

/* Appends @obj compactly, CRLF-terminated: nobody downstream parses more than it must. */
static int emit(struct buf *b, struct json_object *obj)
{
	const char *text = json_object_to_json_string_ext(
		obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	size_t n = strlen(text);

	if (buf_add(b, text, n) < 0 || buf_add(b, "\r\n", 2) < 0)
		return -ENOMEM;
	return 0;
}

static void to_client(struct qmp_server *s, struct json_object *obj)
{
	emit(s->draining ? &s->held : &s->to_client, obj);
}

/* stubinit's own answer to a client command it does not forward: {@key: @value} (taken) with the
 * command's id. */
static void answer(struct qmp_server *s, struct json_object *id, const char *key,
		   struct json_object *value)
{
	struct json_object *reply = json_object_new_object();

	json_object_object_add(reply, key, value);
	if (id)
		json_object_object_add(reply, "id", json_object_get(id));
	to_client(s, reply);
	json_object_put(reply);
}

static void answer_error(struct qmp_server *s, struct json_object *id, const char *class,
			 const char *desc)
{
	struct json_object *err = json_object_new_object();

	json_object_object_add(err, "class", json_object_new_string(class));
	json_object_object_add(err, "desc", json_object_new_string(desc));
	answer(s, id, "error", err);
}

/* A refusal of stubinit's own (not QEMU's protocol): logged, and a GenericError with the reason. */
static void refuse(struct qmp_server *s, struct json_object *id, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void refuse(struct qmp_server *s, struct json_object *id, const char *fmt, ...)
{
	char desc[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(desc, sizeof(desc), fmt, ap);
	va_end(ap);
	log_warn("qmp: %s", desc);
	answer_error(s, id, "GenericError", desc);
}

static bool is_fdset1_save(struct json_object *cmd)
{
	struct json_object *exec, *args, *file;

	return json_object_object_get_ex(cmd, "execute", &exec) &&
	       !strcmp(json_object_get_string(exec), "xen-save-devices-state") &&
	       json_object_object_get_ex(cmd, "arguments", &args) &&
	       json_object_object_get_ex(args, "filename", &file) &&
	       json_object_is_type(file, json_type_string) &&
	       !strcmp(json_object_get_string(file), "/dev/fdset/1");
}

/*
 * The client's qmp_capabilities, answered here as QEMU would: the shared connection negotiated
 * long ago, and the greeting the client got offers no capability to enable.
 */
static void negotiate(struct qmp_server *s, struct json_object *cmd, struct json_object *id)
{
	struct json_object *args, *enable;
	char desc[128];

	if (s->negotiated) {
		answer_error(s, id, "CommandNotFound",
			     "Capabilities negotiation is already complete, command ignored");
		return;
	}
	if (json_object_object_get_ex(cmd, "arguments", &args) &&
	    json_object_object_get_ex(args, "enable", &enable) &&
	    json_object_is_type(enable, json_type_array) && json_object_array_length(enable) > 0) {
		snprintf(desc, sizeof(desc), "Capability '%.64s' not available",
			 json_object_get_string(json_object_array_get_idx(enable, 0)));
		answer_error(s, id, "GenericError", desc);
		return;
	}
	s->negotiated = true;
	answer(s, id, "return", json_object_new_object());
}

/* A complete object from the client. */
static void from_client(struct json_object *obj, void *arg)
{
	struct qmp_server *s = arg;
	struct json_object *id = NULL;
	char why[192], tag[48];

	s->fresh = false;
	json_object_object_get_ex(obj, "id", &id);
	if (qmp_fw_check_client(obj, s->allow, why, sizeof(why))) {
		refuse(s, id, "stubinit: %s", why);
		return;
	}
	if (!strcmp(json_object_get_string(json_object_object_get(obj, "execute")),
		    "qmp_capabilities")) {
		negotiate(s, obj, id);
		return;
	}
	if (!s->negotiated) {
		answer_error(s, id, "CommandNotFound",
			     "Expecting capabilities negotiation with 'qmp_capabilities'");
		return;
	}
	/* QEMU answers stubinit's id; the reply gets the client's back (or none, as it came). */
	snprintf(tag, sizeof(tag), "stubinit-%lu", ++s->seq);
	json_object_object_add(s->pending, tag, id ? json_object_get(id) : NULL);
	json_object_object_add(obj, "id", json_object_new_string(tag));
	if (is_fdset1_save(obj))
		json_object_array_add(s->save_ids, json_object_new_string(tag));
	emit(&s->to_qemu, obj);
}

static int take_save_id(struct qmp_server *s, const char *tag)
{
	size_t n = json_object_array_length(s->save_ids);

	for (size_t i = 0; i < n; i++) {
		if (!strcmp(json_object_get_string(json_object_array_get_idx(s->save_ids, i)), tag)) {
			json_object_array_del_idx(s->save_ids, i, 1);
			return 1;
		}
	}
	return 0;
}

/* QEMU's greeting, as every session's client gets it: no capabilities on offer (oob would need
 * a connection of its own). */
static void take_greeting(struct qmp_server *s, struct json_object *obj)
{
	struct json_object *qmp;

	json_object_put(s->greeting);
	s->greeting = NULL;
	if (json_object_deep_copy(obj, &s->greeting, NULL) < 0)
		return;
	if (json_object_object_get_ex(s->greeting, "QMP", &qmp) &&
	    json_object_is_type(qmp, json_type_object))
		json_object_object_add(qmp, "capabilities", json_object_new_array());
	if (s->active && !s->discard && s->owe_greeting) {
		s->owe_greeting = false;
		to_client(s, s->greeting);
	}
}

/* A complete object from QEMU's session monitor. */
static void from_qemu(struct json_object *obj, void *arg)
{
	struct qmp_server *s = arg;
	struct json_object *id = NULL, *client_id, *v;
	char tag[48];
	bool saved;

	if (json_object_object_get_ex(obj, "QMP", &v)) {
		take_greeting(s, obj);
		return;
	}
	if (!qmp_fw_pass_qemu(obj) ||
	    (!json_object_object_get_ex(obj, "return", &v) &&
	     !json_object_object_get_ex(obj, "error", &v)))
		return;
	if (!json_object_object_get_ex(obj, "id", &id) || !json_object_is_type(id, json_type_string))
		return;
	snprintf(tag, sizeof(tag), "%s", json_object_get_string(id));
	if (!strcmp(tag, "stubinit-capabilities")) {
		if (qmp_error_desc(obj))
			log_warn("qmp: QEMU refused stubinit's qmp_capabilities: %s",
				 qmp_error_desc(obj));
		return;
	}
	if (!json_object_object_get_ex(s->pending, tag, &client_id)) {
		/* Asked by a session that has ended: nobody to tell. */
		log_debug("qmp: reply %s dropped: its session has ended", tag);
		return;
	}
	if (client_id)
		json_object_object_add(obj, "id", json_object_get(client_id));
	else
		json_object_object_del(obj, "id");
	json_object_object_del(s->pending, tag);
	saved = take_save_id(s, tag) && json_object_object_get_ex(obj, "return", &v);
	if (saved && !s->draining && s->cfg.save) {
		/* libxl reads the saved file right after this reply: hold it until the state has
		 * reached console 1. */
		s->draining = json_object_get(obj);
		s->cfg.save(s, s->cfg.save_arg);
		return;
	}
	to_client(s, obj);
}

void qmp_server_save_done(struct qmp_server *s, const char *error)
{
	struct json_object *reply = s->draining, *id = NULL;

	if (!reply)
		return;
	s->draining = NULL;
	if (s->active && !s->discard) {
		if (error) {
			json_object_object_get_ex(reply, "id", &id);
			refuse(s, id, "stubinit: the saved state did not reach console 1: %s", error);
		} else {
			emit(&s->to_client, reply);
		}
		if (buf_add(&s->to_client, s->held.d ? s->held.d + s->held.off : "",
			    buf_pending(&s->held)) < 0)
			end_session(s, "out of memory");
	}
	buf_clear(&s->held);
	json_object_put(reply);
	/* Not only update_interest(): a vchan client has no fd that turns writable, so nothing
	 * would send the released reply, and QEMU's side is read again from here on. (Called back
	 * from inside the framer, the pump around it does that.) */
	if (!s->feeding)
		pump(s, 0);
}

/* ---- QEMU's connection ----------------------------------------------------------------------- */

/* -EAGAIN (QEMU's listen backlog is full) is retried by the caller. */
static int connect_qemu(struct qmp_server *s)
{
	return qmp_transport_connect(s->qemu_path);
}

static void on_qemu_io(int fd, uint32_t events, void *arg);

static void close_qemu(struct qmp_server *s)
{
	if (s->qemu_fd >= 0) {
		if (!s->qemu_parked)
			loop_remove(s->qemu_fd);
		close(s->qemu_fd);
	}
	s->qemu_fd = -1;
	s->qemu_parked = false;
	qmp_framer_free(s->from_qemu);
	s->from_qemu = NULL;
	buf_clear(&s->to_qemu);
	json_object_put(s->greeting);
	s->greeting = NULL;
}

/* The connection is up: stubinit negotiates for every session to come. */
static int adopt_qemu(struct qmp_server *s, int fd)
{
	struct json_object *caps = json_object_new_object();

	s->from_qemu = qmp_framer_new(s->cfg.max_message);
	if (!caps || !s->from_qemu || loop_add(fd, EPOLLIN, on_qemu_io, s) < 0) {
		json_object_put(caps);
		close(fd);
		return -1;
	}
	s->qemu_fd = fd;
	json_object_object_add(caps, "execute", json_object_new_string("qmp_capabilities"));
	json_object_object_add(caps, "id", json_object_new_string("stubinit-capabilities"));
	emit(&s->to_qemu, caps);
	json_object_put(caps);
	log_info("qmp: connected to QEMU's session monitor %s (one connection for all sessions)",
		 s->qemu_path);
	return 0;
}

/* QEMU closed the connection (it died) or broke the stream: every session after this one
 * connects again. */
static void lose_qemu(struct qmp_server *s, const char *why)
{
	close_qemu(s);
	if (s->active && !s->discard)
		end_session(s, why);
	else
		log_warn("qmp: %s", why);
}

static void on_retry(void *arg)
{
	struct qmp_server *s = arg;
	int fd;

	if (!s->active || s->qemu_fd >= 0) {
		loop_timer_arm(s->retry, 0, 0);
		return;
	}
	fd = connect_qemu(s);
	if (fd == -EAGAIN && ++s->connect_tries < 200)
		return;
	loop_timer_arm(s->retry, 0, 0);
	if (fd < 0 || adopt_qemu(s, fd) < 0) {
		end_session(s, "QEMU's monitor is not reachable");
		return;
	}
	pump(s, 0);
}

/* The shared connection, made if there is none yet. */
static int ensure_qemu(struct qmp_server *s)
{
	int fd;

	if (s->qemu_fd >= 0)
		return 0;
	close_qemu(s);
	fd = connect_qemu(s);
	if (fd == -EAGAIN) {
		/* There is no event for room in QEMU's listen backlog: a timer retries (5 ms, at
		 * most 200 times); the client's bytes wait. */
		s->connect_tries = 0;
		loop_timer_arm(s->retry, 5, 5);
		return 0;
	}
	if (fd < 0) {
		log_errno(LV_ERROR, fd, "qmp: cannot connect to QEMU's monitor %s", s->qemu_path);
		return -1;
	}
	return adopt_qemu(s, fd);
}

/* ---- the session ----------------------------------------------------------------------------- */

/* Commands in flight are forgotten: their replies are dropped as they arrive. */
static int forget_commands(struct qmp_server *s)
{
	buf_clear(&s->to_client);
	json_object_put(s->pending);
	s->pending = json_object_new_object();
	json_object_put(s->save_ids);
	s->save_ids = json_object_new_array();
	return s->pending && s->save_ids ? 0 : -ENOMEM;
}

/* A clean slate for the session's client: what begin_session and a reconnect marker give. */
static int new_session(struct qmp_server *s)
{
	int err = forget_commands(s);

	qmp_framer_free(s->from_client);
	s->from_client = qmp_framer_new(s->cfg.max_message);
	s->fresh = true;
	s->negotiated = false;
	s->owe_greeting = !s->greeting;
	s->sessions++;
	if (err || !s->from_client)
		return -ENOMEM;
	if (s->greeting)
		to_client(s, s->greeting);
	return 0;
}

static void on_listen(int fd, uint32_t events, void *arg);
static void on_client_io(int fd, uint32_t events, void *arg);

static void begin_session(struct qmp_server *s)
{
	s->active = true;
	s->discard = false;
	s->client_eof = false;
	if (new_session(s) < 0) {
		end_session(s, "out of memory");
		return;
	}
	log_debug("qmp: session %lu begins", s->sessions);
	if (ensure_qemu(s) < 0)
		end_session(s, "QEMU's monitor is not reachable");
}

static void end_session(struct qmp_server *s, const char *why)
{
	if (!s->active)
		return;
	if (why)
		log_warn("qmp: session %lu ended: %s", s->sessions, why);
	else
		log_debug("qmp: session %lu ended", s->sessions);
	loop_timer_arm(s->retry, 0, 0);
	forget_commands(s);
	/* A save still draining finishes on its own; its reply has nobody to go to. */
	s->active = false;
	if (s->cfg.transport == QMP_UNIX) {
		if (s->client_fd >= 0) {
			loop_remove(s->client_fd);
			close(s->client_fd);
			s->client_fd = -1;
		}
		/* Ready for the next client at once. */
		loop_add(s->listen_fd, EPOLLIN, on_listen, s);
	} else if (why && libxenvchan_is_open(s->vc) == 1) {
		/* The client is still there: it must not get another session's data. */
		s->discard = true;
		s->active = true;
	}
	update_interest(s);
}

/* ---- pumping --------------------------------------------------------------------------------- */

static void feed_client_bytes(struct qmp_server *s, const char *p, size_t n)
{
	while (n && s->active && !s->discard) {
		const char *mark = memchr(p, RECONNECT_MARKER, n);
		size_t chunk = mark ? (size_t)(mark - p) : n;
		int err = chunk ? qmp_framer_feed(s->from_client, p, chunk, from_client, s) : 0;

		if (err) {
			end_session(s, err == -EMSGSIZE ? "client message over the size cap"
							: "malformed JSON from the client");
			return;
		}
		if (!mark)
			return;
		/* The reconnect marker: never forwarded; after any traffic, a new session (with a
		 * greeting of its own: the client cannot tell it from a new connection). */
		if (!s->fresh || qmp_framer_pending(s->from_client)) {
			log_info("qmp: reconnect marker: new session");
			if (new_session(s) < 0) {
				end_session(s, "out of memory");
				return;
			}
		}
		p = mark + 1;
		n -= chunk + 1;
	}
}

static void pump_client_in(struct qmp_server *s)
{
	char buf[4096];

	while (s->active && !s->client_eof && buf_pending(&s->to_qemu) < TO_QEMU_LIMIT) {
		ssize_t n = client_read(s, buf, sizeof(buf));

		if (n == -EAGAIN || n == -EINTR)
			break;
		if (n == 0 && s->cfg.transport == QMP_VCHAN) {
			end_session(s, NULL);
			return;
		}
		if (n <= 0) {
			/* Half-closed: answer what it asked, then end. */
			s->client_eof = true;
			break;
		}
		if (s->discard)
			continue;
		feed_client_bytes(s, buf, (size_t)n);
	}
}

static void pump_client_out(struct qmp_server *s)
{
	while (s->active && !s->discard && buf_pending(&s->to_client)) {
		ssize_t n = client_write(s, s->to_client.d + s->to_client.off,
					 buf_pending(&s->to_client));

		if (n == -EAGAIN || n == -EINTR)
			return;
		if (n < 0) {
			end_session(s, s->cfg.transport == QMP_UNIX ? NULL : "client write failed");
			return;
		}
		buf_consumed(&s->to_client, (size_t)n);
	}
}

/* Whether QEMU is read now: always, unless a live session's client is behind or a save reply is
 * being held (replies for nobody are read and dropped). */
static bool read_qemu(const struct qmp_server *s)
{
	return !(s->active && !s->discard) ||
	       (!s->draining && buf_pending(&s->to_client) < s->cfg.max_message);
}

static void pump_qemu(struct qmp_server *s, uint32_t events)
{
	char buf[4096];

	while (s->qemu_fd >= 0 && buf_pending(&s->to_qemu)) {
		ssize_t n = send(s->qemu_fd, s->to_qemu.d + s->to_qemu.off, buf_pending(&s->to_qemu),
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			break;
		if (n < 0) {
			lose_qemu(s, "QEMU's monitor closed");
			return;
		}
		buf_consumed(&s->to_qemu, (size_t)n);
	}
	if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		return;
	/* A client that does not read stalls QEMU's side, nothing else. */
	while (s->qemu_fd >= 0 && read_qemu(s)) {
		ssize_t n = read(s->qemu_fd, buf, sizeof(buf));
		int err;

		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			break;
		if (n <= 0) {
			lose_qemu(s, "QEMU closed the session monitor");
			return;
		}
		s->feeding = true;
		err = qmp_framer_feed(s->from_qemu, buf, (size_t)n, from_qemu, s);
		s->feeding = false;
		if (err) {
			lose_qemu(s, err == -EMSGSIZE ? "QEMU message over the size cap (qmp-max-message)"
						     : "malformed JSON from QEMU");
			return;
		}
	}
}

/* Half-closed client: everything it asked is answered and sent. */
static void maybe_finish(struct qmp_server *s)
{
	if (s->active && s->client_eof && !json_object_object_length(s->pending) && !s->draining &&
	    !buf_pending(&s->to_client))
		end_session(s, NULL);
}

static void update_interest(struct qmp_server *s)
{
	if (s->qemu_fd >= 0 && s->qemu_parked && read_qemu(s) &&
	    loop_add(s->qemu_fd, EPOLLIN, on_qemu_io, s) == 0)
		s->qemu_parked = false;
	if (s->qemu_fd >= 0 && !s->qemu_parked)
		loop_modify(s->qemu_fd, (read_qemu(s) ? EPOLLIN : 0) |
						(buf_pending(&s->to_qemu) ? EPOLLOUT : 0));
	if (s->active && s->cfg.transport == QMP_UNIX && s->client_fd >= 0)
		loop_modify(s->client_fd,
			    (!s->client_eof && buf_pending(&s->to_qemu) < TO_QEMU_LIMIT ? EPOLLIN : 0) |
				    (buf_pending(&s->to_client) ? EPOLLOUT : 0));
}

static void pump(struct qmp_server *s, uint32_t qemu_events)
{
	pump_client_in(s);
	pump_qemu(s, qemu_events | EPOLLIN);
	pump_client_out(s);
	maybe_finish(s);
	update_interest(s);
}

static void on_qemu_io(int fd, uint32_t events, void *arg)
{
	struct qmp_server *s = arg;

	/* A hang-up is reported whatever the interest: while QEMU is not read (a stalled client, a
	 * held save reply) it would wake the loop until then. */
	if ((events & (EPOLLHUP | EPOLLERR)) && !read_qemu(s)) {
		loop_remove(fd);
		s->qemu_parked = true;
	}
	pump(s, events);
}

static void on_client_io(int fd, uint32_t events, void *arg)
{
	(void)fd, (void)events;
	pump(arg, 0);
}

static void on_listen(int fd, uint32_t events, void *arg)
{
	struct qmp_server *s = arg;
	int c;

	(void)events;
	c = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (c < 0)
		return;
	/* One session at a time: the next client waits in the backlog, as with vchan. */
	loop_remove(fd);
	s->client_fd = c;
	loop_add(c, EPOLLIN, on_client_io, s);
	begin_session(s);
	if (s->active)
		pump(s, 0);
}

static void on_vchan(int fd, uint32_t events, void *arg)
{
	struct qmp_server *s = arg;
	int open;

	(void)fd, (void)events;
	/* Only after epoll said so: libxenvchan_wait() would block otherwise. */
	libxenvchan_wait(s->vc);
	open = libxenvchan_is_open(s->vc);
	if (open == 1 && !s->active)
		begin_session(s);
	else if (open != 1 && s->active) {
		s->discard = false;
		end_session(s, NULL);
		qmp_transport_vchan_drop(s->vc);
		return;
	}
	if (s->active)
		pump(s, 0);
}

/* ---- start and stop -------------------------------------------------------------------------- */

static int start_unix(struct qmp_server *s)
{
	s->listen_fd = qmp_transport_listen(s->unix_path, "qmp");
	if (s->listen_fd < 0 || loop_add(s->listen_fd, EPOLLIN, on_listen, s) < 0)
		return -1;
	log_info("qmp: serving dom0's QMP on unix socket %s", s->unix_path);
	return 0;
}

static int start_vchan(struct qmp_server *s)
{
	s->vc = qmp_transport_vchan(s->cfg.peer, s->vchan_path, "qmp");
	if (!s->vc)
		return -1;
	s->vc_fd = libxenvchan_fd_for_select(s->vc);
	if (loop_add(s->vc_fd, EPOLLIN, on_vchan, s) < 0) {
		libxenvchan_close(s->vc);
		s->vc = NULL;
		return -1;
	}
	log_info("qmp: serving dom0's QMP on vchan %s (peer domain %u)", s->vchan_path, s->cfg.peer);
	return 0;
}

struct qmp_server *qmp_server_start(const struct qmp_server_config *cfg)
{
	struct qmp_server *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->cfg = *cfg;
	s->listen_fd = s->client_fd = s->vc_fd = s->qemu_fd = -1;
	s->unix_path = cfg->unix_path ? strdup(cfg->unix_path) : NULL;
	s->vchan_path = cfg->vchan_path ? strdup(cfg->vchan_path) : NULL;
	s->qemu_path = strdup(cfg->qemu_path);
	s->allow = strdup(cfg->allow && *cfg->allow ? cfg->allow : default_allow);
	s->retry = loop_timer_new(on_retry, s);
	if (!s->qemu_path || !s->allow || !s->retry ||
	    (cfg->transport == QMP_UNIX ? start_unix(s) : start_vchan(s)) < 0) {
		qmp_server_stop(s);
		return NULL;
	}
	return s;
}

unsigned long qmp_server_sessions(const struct qmp_server *s)
{
	return s->sessions;
}

void qmp_server_stop(struct qmp_server *s)
{
	if (!s)
		return;
	if (s->active) {
		s->discard = false;
		end_session(s, NULL);
	}
	if (s->listen_fd >= 0) {
		loop_remove(s->listen_fd);
		close(s->listen_fd);
		unlink(s->unix_path);
	}
	if (s->vc) {
		loop_remove(s->vc_fd);
		libxenvchan_close(s->vc);
	}
	close_qemu(s);
	loop_timer_free(s->retry);
	qmp_framer_free(s->from_client);
	json_object_put(s->pending);
	json_object_put(s->save_ids);
	json_object_put(s->draining);
	buf_clear(&s->held);
	free(s->unix_path);
	free(s->vchan_path);
	free(s->qemu_path);
	free(s->allow);
	free(s);
}
