// SPDX-License-Identifier: GPL-2.0-only
/*
 * dom0: QMP and the display for dom0, and saves through console 1. See dom0.h.
 */
#include "dom0.h"
#include "monitor.h"
#include "paths.h"
#include "qemu.h"
#include "store.h"
#include "core/log.h"
#include "qmp/json.h"
#include "qmp/relay.h"
#include "qmp/server.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

/* Written by a toolstack that takes each save from where it began in the save file (a protocol
 * addition: packaging/xen/), in the stubdomain's own xenstore path, which only dom0 writes. */
#define STORE_REPEATED_SAVE "feature-repeated-save"

static struct {
	struct dom0_opts o;
	struct console_set *cons;
	int save_fd;
	unsigned saves;		   /* saves whose state went toward console 1 in this life */
	long long first_save_size; /* the bytes of the first */
	char save_error[512];
	struct qmp_server *qmp;
	struct qmp_relay *vnc;
} d0 = {.save_fd = -1};

int dom0_save_fd(void)
{
	return d0.save_fd;
}

/* ---- saves through console 1 ----------------------------------------------------------------- */

/* Empty for the next save. QEMU's dup shares our offset: rewind it too. */
static void save_file_empty(void)
{
	if (ftruncate(d0.save_fd, 0) < 0 || lseek(d0.save_fd, 0, SEEK_SET) < 0)
		log_errno(LV_WARN, errno, "save: cannot empty %s", SAVE_FILE);
}

static void on_drained(const char *error, void *arg)
{
	struct stat st;

	(void)arg;
	if (fstat(d0.save_fd, &st) == 0 && !error)
		log_info("save: %lld bytes of device state reached console 1",
			 (long long)st.st_size);
	else if (error)
		log_error("save: %s", error);
	save_file_empty();
	if (error)
		snprintf(d0.save_error, sizeof(d0.save_error),
			 "stubinit: the saved state did not reach console 1: %s", error);
	qmp_server_save_done(d0.qmp, error ? d0.save_error : NULL);
}

/*
 * dom0's end of console 1 appends each save to the file it opened when this stubdomain started,
 * and a stock libxl reads that file from its start at every save: from the second save of a life
 * on, its image would carry the first save's device state. A toolstack that reads each save from
 * where it began says so with STORE_REPEATED_SAVE (packaging/xen/). Returns why a save must be
 * refused, or NULL.
 */
static const char *save_refusal(void)
{
	char *flag;
	bool repeat;

	if (!d0.saves)
		return NULL;
	flag = store_read(STORE_REPEATED_SAVE);
	repeat = flag && !strcmp(flag, "1");
	free(flag);
	if (repeat)
		return NULL;
	snprintf(
		d0.save_error, sizeof(d0.save_error),
		"stubinit: save refused: this stubdomain already sent a save (%lld bytes) through "
		"console 1, and this toolstack reads every save from the start of its save file "
		"(no %s in the stubdomain's xenstore path), so the image would hold that earlier "
		"device state; the guest keeps running, and saves again once restored or "
		"restarted (a libxl with stubinit's packaging/xen patch saves any number of times)",
		d0.first_save_size, STORE_REPEATED_SAVE);
	return d0.save_error;
}

static void on_save(struct qmp_server *srv, void *arg)
{
	const char *no = save_refusal();
	struct stat st;

	(void)srv, (void)arg;
	if (no) {
		log_error("%s", no);
		save_file_empty();
		qmp_server_save_done(d0.qmp, no);
		return;
	}
	if (!d0.saves++)
		d0.first_save_size = fstat(d0.save_fd, &st) == 0 ? (long long)st.st_size : -1;
	console_drain_start(SAVE_FILE, d0.cons->out.fd, d0.o.save_drain_ms, on_drained, NULL);
}

/* ---- QMP ------------------------------------------------------------------------------------- */

static void on_session_monitor(int fd, void *arg)
{
	(void)arg;
	qmp_server_attach(d0.qmp, fd);
}

/* dom0's side of @leaf (qmp-vchan, vnc-vchan) as stubinit.qmp-transport says: a vchan at
 * device-model/<guest>/<leaf> for the toolstack's domain, or the unix socket @unix_path. */
static struct session_config transport(unsigned target, const char *leaf, const char *unix_path,
				       char *vchan, size_t len)
{
	snprintf(vchan, len, "device-model/%u/%s", target, leaf);
	return (struct session_config){.transport = d0.o.transport,
				       .unix_path = unix_path,
				       .peer = d0.o.peer,
				       .vchan_path = vchan,
				       .test_lag_ms = d0.o.test_lag_ms};
}

static int serve_qmp(unsigned target)
{
	char vchan[64];
	struct qmp_server_config qc = {
		.session = transport(target, "qmp-vchan", d0.o.qmp_socket, vchan, sizeof(vchan)),
		.max_message = d0.o.max_message,
		.allow = d0.o.allow,
		.save = on_save,
	};

	d0.qmp = qmp_server_start(&qc);
	if (!d0.qmp)
		return -1;
	monitor_on_session(on_session_monitor, NULL);
	return 0;
}

/* ---- the display ----------------------------------------------------------------------------- */

/* {"fdname": @name} */
static struct json_object *name_arg(const char *name)
{
	struct json_object *args = json_object_new_object();

	json_object_object_add(args, "fdname", json_object_new_string(name));
	return args;
}

/* A session's connection to QEMU's display: QEMU's end of a socketpair, given with getfd and
 * made a VNC client with add_client; closed here once QEMU holds it. */
struct vnc_handoff {
	int qemu_end;
	bool alone; /* add_client never went out: getfd's reply is the last to come */
	char name[32];
};

static void on_add_client(struct json_object *msg, void *arg)
{
	struct vnc_handoff *h = arg;
	const char *err = qmp_reply_error(msg);

	if (msg && err) {
		/* QEMU keeps what getfd gave it until closefd: then the session sees the end. */
		log_error("vnc: add_client %s: %s", h->name, err);
		monitor_command("closefd", name_arg(h->name), -1, NULL, NULL);
	}
	free(h);
}

static void on_getfd(struct json_object *msg, void *arg)
{
	struct vnc_handoff *h = arg;
	const char *err = qmp_reply_error(msg);

	close(h->qemu_end);
	if (msg && err)
		log_error("vnc: getfd %s: %s", h->name, err);
	if (h->alone)
		free(h);
}

/* A new connection to QEMU's display, for one session. */
static int connect_vnc(void *arg, char *why, size_t len)
{
	static unsigned long n;
	struct vnc_handoff *h = calloc(1, sizeof(*h));
	struct json_object *args;
	int sp[2];

	(void)arg;
	if (!h || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sp) < 0) {
		snprintf(why, len, "no socketpair for QEMU's display: %s", strerror(errno));
		free(h);
		return -ENOMEM;
	}
	h->qemu_end = sp[1];
	snprintf(h->name, sizeof(h->name), "stubinit-vnc-%lu", ++n);
	if (monitor_command("getfd", name_arg(h->name), sp[1], on_getfd, h) < 0) {
		snprintf(why, len, "QEMU's monitor is gone");
		close(sp[0]), close(sp[1]);
		free(h);
		return -ENOTCONN;
	}
	args = name_arg(h->name);
	json_object_object_add(args, "protocol", json_object_new_string("vnc"));
	json_object_object_add(args, "skipauth", json_object_new_boolean(1));
	/* After getfd, in order; QEMU closes its end when the viewer leaves. */
	if (monitor_command("add_client", args, -1, on_add_client, h) < 0) {
		snprintf(why, len, "QEMU's monitor is gone");
		h->alone = true;
		close(sp[0]);
		return -ENOTCONN;
	}
	return sp[0];
}

/* stubinit.vnc: the guest's display, from QEMU's VNC server to dom0 over the QMP path's
 * transport (vchan at device-model/<guest>/vnc-vchan). */
static void serve_vnc(unsigned target)
{
	char vchan[64];
	struct qmp_relay_config rc = {
		.session = transport(target, "vnc-vchan", d0.o.vnc_socket, vchan, sizeof(vchan)),
		.connect = connect_vnc,
	};

	rc.session.name = "vnc";
	rc.session.what = "the guest's display";
	d0.vnc = qmp_relay_start(&rc);
	if (!d0.vnc)
		log_error("vnc: cannot serve the guest's display to dom0 (the guest runs without "
			  "it)");
}

const char *dom0_serve(unsigned target, const struct dom0_opts *o, struct console_set *cons)
{
	d0.o = *o;
	d0.cons = cons;
	d0.save_fd = open(SAVE_FILE, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (d0.save_fd < 0) {
		log_errno(LV_ERROR, errno, "cannot create the save file %s", SAVE_FILE);
		return "cannot create the save file";
	}
	if (serve_qmp(target) < 0)
		return "cannot serve QMP to dom0";
	if (o->vnc)
		serve_vnc(target);
	return NULL;
}
