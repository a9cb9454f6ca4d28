/*
 * qmp: QMP, the JSON protocol QEMU speaks on its monitors, and dom0's channels into the stubdomain.
 *
 * Owns framing: a byte stream in, complete JSON objects out, using json-c's incremental tokener
 * (a QMP message may arrive split across any number of reads, or several in one). A cap bounds each
 * object; anything that is not a well-formed JSON object is an error, never passed on. On this:
 * a client connection (the permanent monitor), dom0's QMP sessions with their firewall, and a byte
 * relay (the guest's display), the latter two over the transports' shared plumbing.
 */
#ifndef STUBINIT_QMP_H
#define STUBINIT_QMP_H

#include <stddef.h>
#include <sys/types.h>

struct json_object;
struct qmp_framer;

/* @obj is borrowed: take a reference with json_object_get() to keep it. */
typedef void (*qmp_object_fn)(struct json_object *obj, void *arg);

struct qmp_framer *qmp_framer_new(size_t max_object);
void qmp_framer_free(struct qmp_framer *f);

/*
 * Feeds @len bytes; calls @fn for each object completed. Returns 0, -EBADMSG (malformed JSON, or a
 * value that is not an object) or -EMSGSIZE (an object over the cap). After an error the stream is
 * out of step: the caller ends the session.
 */
int qmp_framer_feed(struct qmp_framer *f, const char *buf, size_t len, qmp_object_fn fn, void *arg);

/* Bytes of the object being assembled (0 between objects). */
size_t qmp_framer_pending(const struct qmp_framer *f);

/*
 * A QMP client connection over a unix socket: the greeting, commands with replies matched by id,
 * events, and passing an fd with a command (SCM_RIGHTS, as add-fd needs). It never blocks: the
 * owner polls qmp_conn_fd() for reading (and for writing while qmp_conn_wants_write()) and calls
 * qmp_conn_read() / qmp_conn_flush().
 */
struct qmp_conn;

/* @msg is the whole reply ({"return": ...} or {"error": ...}), or NULL when the connection closed
 * first. Borrowed. */
typedef void (*qmp_reply_fn)(struct json_object *msg, void *arg);

struct qmp_conn_ops {
	void (*greeting)(struct json_object *greeting, void *arg);
	void (*event)(struct json_object *event, void *arg);
	void (*closed)(const char *why, void *arg);
};

/* Takes ownership of @fd (made non-blocking). */
struct qmp_conn *qmp_conn_new(int fd, size_t max_msg, const struct qmp_conn_ops *ops, void *arg);
int qmp_conn_fd(const struct qmp_conn *c);

/*
 * Reads what is available and dispatches it. Returns 0, or -1 once the connection is closed
 * (ops->closed has been called; the owner then frees it).
 */
int qmp_conn_read(struct qmp_conn *c);

/*
 * Queues @cmd with @args (ownership taken; may be NULL) and, with @pass_fd >= 0, that fd alongside.
 * @fn gets the reply. Returns 0 or a negative errno.
 */
int qmp_conn_command(struct qmp_conn *c, const char *cmd, struct json_object *args, int pass_fd,
		     qmp_reply_fn fn, void *arg);

/* Writes what the socket takes now: 0 all sent, 1 more pending, -1 failed. */
int qmp_conn_flush(struct qmp_conn *c);
int qmp_conn_wants_write(const struct qmp_conn *c);

/* The "desc" of an error reply, or NULL for a success. */
const char *qmp_error_desc(struct json_object *msg);

/* Closes the fd; replies still pending get their callback with NULL. */
void qmp_conn_free(struct qmp_conn *c);

/*
 * The QMP path to dom0. One client session at a time over a transport (vchan in production, a unix
 * socket for tests and debugging). Every session shares one connection to QEMU's session monitor,
 * opened by the first and never closed while QEMU lives: a QMP client that disconnects while QEMU's
 * output to it is in flight corrupts QEMU 7.2's heap. stubinit negotiates that connection itself
 * and gives each session QEMU's greeting (with no capabilities on offer) and QEMU's answers to
 * qmp_capabilities; each forwarded command carries an id of stubinit's, and its reply gets the
 * client's id back, so a reply asked by an ended session reaches nobody. A firewall stands in both
 * directions: toward the client only complete, well-formed objects within the size cap,
 * re-serialized compactly and CRLF-terminated, and no events; toward QEMU only well-formed
 * commands, optionally from an allow-list. Anything malformed or oversized from the client ends the
 * session; from QEMU, the session and the connection (the next session connects again). A leading
 * 0x01 (the reconnect marker) is never forwarded; a later one starts a new session. Nothing is
 * buffered without bound: a stalled client stalls only the QMP path. Runs in the agent's event loop.
 */
enum qmp_transport { QMP_VCHAN, QMP_UNIX };

/*
 * The transports' plumbing, shared by the QMP server and the relay below. A client is either a
 * connected unix socket @fd (@vc NULL) or a non-blocking vchan @vc.
 */
struct libxenvchan;
/* >0 bytes, 0 the client's end of stream (a vchan: closed), -EAGAIN nothing now, <0 errors. */
ssize_t qmp_transport_read(int fd, struct libxenvchan *vc, char *buf, size_t n);
/* >0 bytes taken, -EAGAIN no room now, <0 errors (-EPIPE: the vchan closed). */
ssize_t qmp_transport_write(int fd, struct libxenvchan *vc, const char *buf, size_t n);
/* A listening, non-blocking unix socket at @path (replacing a stale one), or -1 logged as @who. */
int qmp_transport_listen(const char *path, const char *who);
/* A non-blocking connection to the unix socket at @path (QEMU's), or a negative errno. A unix
 * connect completes at once or fails; -EAGAIN means the listener's backlog is full. */
int qmp_transport_connect(const char *path);
/* A non-blocking vchan server for @peer at the xenstore @path, or NULL logged as @who. */
struct libxenvchan *qmp_transport_vchan(unsigned peer, const char *path, const char *who);
/* Drops what a departed vchan client left in the ring: it is not the next client's. */
void qmp_transport_vchan_drop(struct libxenvchan *vc);

struct qmp_server;

/*
 * QEMU answered a xen-save-devices-state to /dev/fdset/1 with success. The reply is held until the
 * owner has moved the state where dom0 reads it and calls qmp_server_save_done().
 */
typedef void (*qmp_save_fn)(struct qmp_server *srv, void *arg);

struct qmp_server_config {
	enum qmp_transport transport;
	const char *unix_path;	/* QMP_UNIX: where the client connects */
	unsigned peer;		/* QMP_VCHAN: the toolstack's domain */
	const char *vchan_path; /* QMP_VCHAN: the xenstore path of the ring */
	const char *qemu_path;	/* QEMU's session monitor socket */
	size_t max_message;	/* cap on one message, each direction */
	const char *allow;	/* space-separated commands allowed toward QEMU, or "*" */
	qmp_save_fn save;
	void *save_arg;
};

/*
 * The firewall's decisions, as pure functions (the server applies them). A client object: NULL to
 * forward it, else why it is refused (written into @why). @allow: space-separated commands or "*".
 */
const char *qmp_fw_check_client(struct json_object *obj, const char *allow, char *why, size_t len);
/* A QEMU object: whether it may go to the client (events may not). */
int qmp_fw_pass_qemu(struct json_object *obj);

struct qmp_server *qmp_server_start(const struct qmp_server_config *cfg);

/* The held save reply goes out: as QEMU's success with @error NULL, else as an error reply. */
void qmp_server_save_done(struct qmp_server *srv, const char *error);

/* Sessions begun since start. */
unsigned long qmp_server_sessions(const struct qmp_server *srv);

void qmp_server_stop(struct qmp_server *srv);

/*
 * A byte relay to dom0 over the same transports (the guest's display: QEMU's VNC server on a unix
 * socket). One client session at a time, as on the QMP path; each session gets a connection of its
 * own to @target_path, made when the session begins and closed when it ends. No firewall: bytes
 * pass as they are (RFB is a byte stream), each direction through a buffer of RELAY_BUF bytes; a
 * full buffer stops reading the side that fills it, so a stalled client stalls only this path. A
 * leading 0x01 (the reconnect marker) is dropped; later bytes are data. Either end closing ends the
 * session once what the other end still has in flight to it is delivered; a vchan client the
 * session ended under is read and ignored until it leaves.
 */
#define RELAY_BUF (64 * 1024)

struct qmp_relay;

struct qmp_relay_config {
	enum qmp_transport transport;
	const char *unix_path;	 /* QMP_UNIX: where the client connects */
	unsigned peer;		 /* QMP_VCHAN: the toolstack's domain */
	const char *vchan_path;	 /* QMP_VCHAN: the xenstore path of the ring */
	const char *target_path; /* QEMU's unix socket */
	const char *name;	 /* in log lines: "vnc" */
};

struct qmp_relay *qmp_relay_start(const struct qmp_relay_config *cfg);
unsigned long qmp_relay_sessions(const struct qmp_relay *r);
void qmp_relay_stop(struct qmp_relay *r);

#endif
