/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * xsproxy: QEMU's xenstore. QEMU gets no xenbus device: it reaches xenstore only through a unix
 * socket of stubinit's (XENSTORED_PATH in its environment; libxenstore then uses nothing else),
 * where each of its connections gets one connection of stubinit's to the real xenstore (the
 * stubdomain's identity, as before) and every request is judged first (agent/xswire.h): an allowed
 * one passes unchanged, any other is answered EACCES (or EINVAL when malformed) and logged under a
 * rate limit. Replies and watch events pass back unchanged, whole messages only.
 *
 * Owns the socket (only QEMU's pid may connect), the connections (at most XSPROXY_MAX_CONNS),
 * their buffers (bounded; a side that does not read stops the other being read) and a budget per
 * wake-up. With stubinit.xenstore-filter=log every request passes and is logged with the verdict
 * it would get: the way to measure what a QEMU needs.
 */
#ifndef STUBINIT_XSPROXY_H
#define STUBINIT_XSPROXY_H

#include <stdbool.h>

#define XSPROXY_MAX_CONNS 16

/* In the order of xenstore-filter's choices. */
enum xsproxy_mode {
	XSPROXY_ON,
	XSPROXY_LOG,
	XSPROXY_OFF
};

/* Listens at @path for QEMU, for stubdomain @stubdom serving @guest. NULL, or why not (logged). */
const char *xsproxy_start(const char *path, enum xsproxy_mode mode, unsigned stubdom,
			  unsigned guest);

#endif
