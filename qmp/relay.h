/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * qmp relay: a byte stream between one dom0 client (qmp/session.h) and QEMU (the guest's display:
 * QEMU's VNC server). No firewall: bytes pass as they are (RFB is a byte stream). Each session
 * gets a connection of its own to QEMU, which the owner makes (struct qmp_relay_config.connect)
 * when the session begins, and which is closed when it ends. Each direction goes through a buffer
 * of RELAY_BUF bytes; a full buffer stops reading the side that fills it, so a stalled client
 * stalls only this path. A leading 0x01 (the reconnect marker) is dropped; later bytes are data.
 * Either end closing ends the session once what the other end still has in flight to it is
 * delivered; a vchan client the session ended under is read and ignored until it leaves.
 */
#ifndef STUBINIT_QMP_RELAY_H
#define STUBINIT_QMP_RELAY_H

#include "session.h"

#include <stddef.h>

#define RELAY_BUF (64 * 1024)

struct qmp_relay;

struct qmp_relay_config {
	struct session_config session; /* the transport and the names; out_max is the relay's */
	/* A new connection to QEMU for a session: a connected stream socket, or a negative errno
	 * with @why saying what failed. */
	int (*connect)(void *arg, char *why, size_t len);
	void *connect_arg;
};

struct qmp_relay *qmp_relay_start(const struct qmp_relay_config *cfg);
void qmp_relay_stop(struct qmp_relay *r);

#endif
