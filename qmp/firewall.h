/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * qmp firewall: the policy of what may cross between dom0's QMP client and QEMU, as decisions
 * without I/O (qmp/server.c applies them). Owns:
 *  - the allow-list: a client's object goes to QEMU only when it is a well-formed command
 *    ("execute" a string) named in the list (by default what libxl sends, protocol section 7;
 *    "*" allows everything); anything else gets stubinit's own refusal with its id;
 *  - negotiation: the shared connection to QEMU negotiated long ago, so each session's
 *    qmp_capabilities is answered here as QEMU answers it, errors included;
 *  - ids: each forwarded command leaves with an id of stubinit's (qmp/conn.h), and its reply gets
 *    the client's id back, or none when the command had none;
 *  - the save hold: a xen-save-devices-state to /dev/fdset/1 is marked, so its success can be held
 *    until the state has reached console 1;
 *  - toward the client: QEMU's greeting with no capabilities on offer; only replies (a "return" or
 *    an "error"), never events (libxl ignores them, and an unsolicited write races its close);
 *    every object compact, CRLF-terminated and well-formed UTF-8.
 */
#ifndef STUBINIT_QMP_FIREWALL_H
#define STUBINIT_QMP_FIREWALL_H

#include <stdbool.h>
#include <stddef.h>

struct json_object;

/* One session's state of the policy. */
struct qmp_fw {
	const char *allow; /* space-separated commands, or "*" */
	bool negotiated;   /* the client's qmp_capabilities was answered */
};

/* The commands libxl sends to a qemu-xen device model: the allow-list when none is given. */
extern const char qmp_fw_default_allow[];

/* @allow: space-separated commands, "*", or "" for qmp_fw_default_allow. Borrowed. */
void qmp_fw_init(struct qmp_fw *fw, const char *allow);
/* A new session on the same connection: negotiation starts over. */
void qmp_fw_reset(struct qmp_fw *fw);

enum qmp_fw_verdict {
	QMP_FW_FORWARD, /* to QEMU as it is, but for its id */
	QMP_FW_ANSWER,	/* *reply is stubinit's answer, as QEMU would give it */
	QMP_FW_REFUSE,	/* *reply is stubinit's refusal; @why says why (for the log) */
};

/*
 * A complete object from the client. With ANSWER or REFUSE, *@reply (new reference) carries the
 * client's id. With FORWARD, *@save tells whether it is a save to /dev/fdset/1.
 */
enum qmp_fw_verdict qmp_fw_client(struct qmp_fw *fw, struct json_object *msg,
				  struct json_object **reply, bool *save, char *why, size_t len);

/*
 * QEMU's reply to a forwarded command, made the client's in place: the client's id back
 * (@client_id, borrowed; NULL: the command had none). Returns false when it is not a reply (no
 * "return" and no "error"): it must not reach the client, and qmp_fw_error() stands in for it.
 */
bool qmp_fw_reply(struct json_object *reply, struct json_object *client_id);

/* An error reply of stubinit's (new reference): class, desc, and @client_id when not NULL. */
struct json_object *qmp_fw_error(const char *class, const char *desc,
				 struct json_object *client_id);

/* Whether an event from QEMU goes to the client: never. */
bool qmp_fw_event(struct json_object *event);

/* The greeting for every session: QEMU's with "capabilities" emptied (changed in place), as
 * qmp_fw_text gives it; NULL when QEMU's has no QMP object. */
char *qmp_fw_greeting(struct json_object *greeting, size_t *len);

/* @obj as the client gets it: compact, CRLF-terminated (malloc'd, *@len bytes), or NULL when its
 * text would not be JSON: not well-formed UTF-8, or a number that is not finite (json-c writes
 * NaN, Infinity) (or out of memory). */
char *qmp_fw_text(struct json_object *obj, size_t *len);

#endif
