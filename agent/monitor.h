/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * monitor: stubinit's own line to QEMU. Owns the two sockets QEMU connects to at its start
 * (stubinit listens, so there is nothing to wait or poll for, and no path QEMU could swap): the
 * permanent monitor, kept for QEMU's whole life because QEMU up to 9.0 drops fdsets whenever no
 * monitor is connected, and the session monitor, whose connection is handed to whoever serves
 * dom0's QMP. Only QEMU's own pid may connect (SO_PEERCRED).
 *
 * On the permanent monitor: the greeting bound (stubinit.qemu-greeting-timeout), qmp_capabilities,
 * the save file add-fd'ed into fdset 1 (QEMU ftruncate()s what it opens as /dev/fdset/1: a tty
 * fails, a regular file works), then "running"; commands for the rooms that need QEMU
 * (monitor_command) and QEMU's events for those that subscribe (monitor_subscribe). Nothing here
 * calls a subscriber's room by name. QEMU's messages are hostile: small (MONITOR_MAX_MESSAGE),
 * read within a budget per wake-up, events logged under a rate limit.
 */
#ifndef STUBINIT_MONITOR_H
#define STUBINIT_MONITOR_H

#include "qmp/conn.h"

#include <stdint.h>

/* The permanent monitor's messages: a greeting, events, replies to stubinit's own commands. */
#define MONITOR_MAX_MESSAGE (64 * 1024)
#define MONITOR_MAX_ALLOC   (1 << 20)

struct monitor_opts {
	uint64_t greeting_timeout_ms;
	const char *greeting_timeout_text; /* as the key was written, for the report */
	uint64_t test_kill_ms;		   /* stubinit.test-kill-qemu-after; 0: off */
};

/* Listens on both sockets, before QEMU starts. @save_fd: the file for fdset 1 (borrowed; it must
 * stay open). Returns NULL, or why not (logged). */
const char *monitor_listen(const struct monitor_opts *o, int save_fd);

/* @fd (taken) is QEMU's connection to the permanent monitor: what accepting it does (and how a
 * fuzz target drives the monitor with the real handlers attached). Returns 0 or -1 (logged). */
int monitor_adopt(int fd);

/* QEMU connected its session monitor: @fn takes the fd. */
void monitor_on_session(void (*fn)(int fd, void *arg), void *arg);

/* QEMU serves (greeted, negotiated, fdset 1 in place): each @fn runs, then the state is running. */
void monitor_on_running(void (*fn)(void *arg), void *arg);

/* QEMU's events named @name (borrowed by @fn). Returns 0 or -ENOSPC. */
int monitor_subscribe(const char *name, void (*fn)(struct json_object *ev, void *arg), void *arg);

/*
 * Sends @cmd (with @args, taken; and @pass_fd, if >= 0, which must stay open until the reply) on
 * the permanent monitor. @fn gets the reply, or NULL when QEMU is gone. Returns 0 or -errno (then
 * @fn is not called).
 */
int monitor_command(const char *cmd, struct json_object *args, int pass_fd, qmp_reply_fn fn,
		    void *arg);

#endif
