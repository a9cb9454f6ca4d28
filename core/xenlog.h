/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * xenlog: the one xentoollog logger of the agent. Owns how what Xen's client libraries report
 * (libxendevicemodel, and the grant and event-channel handles libxenvchan opens) reaches stubinit's
 * log: each message as one line of the log's, its level mapped, the library's errno named.
 *
 * Every Xen library handle is opened with this logger, never with NULL: a handle opened without
 * one would make a stdio logger of its own on stderr, which the static build does not have
 * (packaging/static-deps/xtl-nostdio.c), so such an open fails there.
 */
#ifndef STUBINIT_XENLOG_H
#define STUBINIT_XENLOG_H

struct xentoollog_logger;

/* The logger (static; nothing to free). */
struct xentoollog_logger *xenlog_logger(void);

#endif
