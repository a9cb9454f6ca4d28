/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * sock: a listening unix socket, the one way stubinit makes one (dom0's sessions, QEMU's monitors,
 * QEMU's xenstore). Owns nothing but the call: a path that does not fit a unix socket address is
 * refused, never truncated.
 */
#ifndef STUBINIT_SOCK_H
#define STUBINIT_SOCK_H

/* A non-blocking, close-on-exec listening socket at @path (replacing what was there), or a
 * negative errno (-ENAMETOOLONG for a path that does not fit). */
int sock_listen(const char *path, int backlog);

#endif
