/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * dom0: what dom0 reaches in the stubdomain. Owns serving QMP (qmp/server.h) at
 * device-model/<guest>/qmp-vchan, and the guest's display (qmp/relay.h, stubinit.vnc) at
 * device-model/<guest>/vnc-vchan, over the transport stubinit.qmp-transport names; and the save
 * hand-off: the file QEMU saves into (fdset 1) and, when a save succeeds, its copy to console 1
 * before QEMU's reply is let through (libxl reads the saved state right after that reply). A later
 * save of the same life is refused unless the toolstack says it reads each save from where it
 * began (feature-repeated-save): a stock libxl would put the first save's state in its image.
 */
#ifndef STUBINIT_DOM0_H
#define STUBINIT_DOM0_H

#include "console/console.h"
#include "qmp/session.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct dom0_opts {
	enum session_transport transport;
	const char *qmp_socket, *vnc_socket; /* the unix transport's sockets */
	unsigned peer;			     /* the toolstack's domain (vchan) */
	size_t max_message;
	const char *allow;
	uint64_t save_drain_ms;
	bool vnc;
	unsigned test_lag_ms; /* stubinit.test-vchan-lag */
};

/*
 * Creates the save file and serves dom0's QMP for guest @target (and its display with @o->vnc),
 * before QEMU can reach the running state: libxl talks QMP right after "running". @cons->out is
 * console 1. Returns NULL, or why QMP cannot be served (logged). A display that cannot be served
 * costs the display, not the guest: logged only.
 */
const char *dom0_serve(unsigned target, const struct dom0_opts *o, struct console_set *cons);

/* The save file's fd (fdset 1), or -1 before dom0_serve. */
int dom0_save_fd(void);

#endif
