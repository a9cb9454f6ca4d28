/*
 * supervise: QEMU's life. Owns the QEMU process and everything tied to it: its output pipe (every
 * line goes to the log, the last ones are kept for the death report), the permanent monitor (a
 * socket QEMU connects to at start, kept for QEMU's whole life so fdsets survive), the fdset-1
 * save file handed over with add-fd, the greeting bound, the stats refresh, and the failure policy
 * (stubinit.on-qemu-exit) when QEMU dies or never comes up. PID 1 lives on whatever QEMU does.
 */
#ifndef STUBINIT_SUPERVISE_H
#define STUBINIT_SUPERVISE_H

#include <stdbool.h>

#include "config.h"
#include "console/console.h"

#include <sys/types.h>

/* Where stubinit keeps its sockets and the save file. */
#define RUN_DIR	   "/run/stubinit"
#define AGENT_SOCK RUN_DIR "/agent.sock"
#define SAVE_FILE  RUN_DIR "/save-state"
/* QEMU's own directory (its user owns it): the session socket it creates, nothing else of ours. */
#define QEMU_DIR   RUN_DIR "/qemu"
#define QMP_SOCK   QEMU_DIR "/qmp.sock"
#define VNC_SOCK   QEMU_DIR "/vnc.sock"

/*
 * Starts QEMU for @cfg with the consoles in @cons (the incoming stream fd is handed to QEMU and
 * closed here). Returns 0, or -1 after reporting and applying the failure policy.
 */
int supervise_start(const struct dm_config *cfg, struct console_set *cons);

/*
 * A failure before QEMU could start: status error, then the policy (crash-guest also powers the
 * stubdomain off, since nothing is left to serve; stay keeps it up for debugging).
 */
void supervise_fail_early(const struct dm_config *cfg, const char *why);

pid_t supervise_qemu_pid(void);

/* Whether QEMU keeps root (stubinit.qemu-user=root) instead of running deprivileged. */
bool supervise_qemu_privileged(void);

/*
 * Sends @cmd (with @args, taken; and @pass_fd, if >= 0, which must stay open until the reply) on
 * the permanent monitor. @fn gets the reply, or NULL when QEMU is gone. Returns 0 or -errno.
 */
struct json_object;
typedef void (*supervise_reply_fn)(struct json_object *msg, void *arg);
int supervise_qmp(const char *cmd, struct json_object *args, int pass_fd, supervise_reply_fn fn,
		  void *arg);

#endif
