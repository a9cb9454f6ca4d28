/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * qemu: QEMU's process. Owns spawning it (its command line from dmargs, its taps opened as fds,
 * the restore stream handed over as fd 3, stdin /dev/null), deprivileging it (stubinit.qemu-user:
 * no root, no capabilities, no new privileges, -sandbox when the binary has seccomp support) and
 * handing its user what it must open itself, its output (every line into the log as QEMU's words,
 * the last ones kept), and the report when it ends: why (exec failure, a kill of stubinit's with
 * its reason, the OOM killer, a signal, an exit status) with its last words, the status, then the
 * failure policy. PID 1 lives on whatever QEMU does.
 */
#ifndef STUBINIT_QEMU_H
#define STUBINIT_QEMU_H

#include "config.h"
#include "console/console.h"

#include <stdbool.h>
#include <sys/types.h>

/* The user QEMU runs as under stubinit.qemu-user=auto when the guest has no PCI devices at boot. */
#define QEMU_USER_AUTO "65534:65534"

/* The fd number QEMU finds the restore stream on; its taps follow from TAP_FD0. */
#define INCOMING_FD 3
#define TAP_FD0	    4
#define MAX_TAPS    32

/* In the order of qemu-sandbox's choices. */
enum qemu_sandbox {
	SANDBOX_AUTO,
	SANDBOX_ON,
	SANDBOX_OFF
};

struct qemu_opts {
	const char *binary;
	const char *datadir, *extra;	     /* -L; flags before the toolstack's */
	const char *devices;		     /* the image's list of QEMU's device drivers, or "" */
	const char *drop, *replace, *append; /* the overrides (agent/dmargs.h) */
	const char *console_prefix;
	const char *user; /* "uid:gid", "root" or "auto" */
	enum qemu_sandbox sandbox;
	bool vnc;		  /* -vnc on QEMU's own socket */
	bool xenstore_filter;	  /* xenstore only through XENSTORE_SOCK, no xenbus */
	const char *kernel_disk;  /* direct kernel boot: the disk with vmlinuz (and initramfs) */
	const char *audio_socket; /* set by main.c once the audio helper serves, or NULL */
};

/*
 * Starts QEMU for @cfg with the consoles in @cons (the incoming stream's fd is handed to QEMU and
 * closed here). Returns NULL, or why it could not start (logged; nothing is left open, and the
 * caller applies the failure policy).
 */
const char *qemu_start(const struct dm_config *cfg, struct console_set *cons,
		       const struct qemu_opts *o);

/* 0 when QEMU is not running. */
pid_t qemu_pid(void);

/* Whether QEMU keeps root (stubinit.qemu-user=root) instead of running deprivileged. */
bool qemu_privileged(void);

/* Whether the other end of the unix socket @fd is QEMU itself (SO_PEERCRED); *@peer gets its pid
 * (0 when unknown). */
bool qemu_is_peer(int fd, pid_t *peer);

/* Kills QEMU; @reason (logged as an error) becomes the report's "why" (the first reason given
 * wins); NULL: the exit status tells the story. */
void qemu_kill(const char *reason);

/* Runs @fn once QEMU has ended, after its last output is logged and before the verdict. */
void qemu_on_exit(void (*fn)(void *arg), void *arg);

#endif
