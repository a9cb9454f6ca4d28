/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * policy: what happens when the device model fails (stubinit.on-qemu-exit). Owns the choice and
 * carrying it out: crash-guest (xendevicemodel_shutdown(guest, SHUTDOWN_crash), so xl applies the
 * guest's on_crash instead of leaving it hung on unanswered I/O), poweroff (the stubdomain), or
 * stay (debugging). Also the adapter that routes libxendevicemodel's messages into the log.
 */
#ifndef STUBINIT_POLICY_H
#define STUBINIT_POLICY_H

#include <stdbool.h>

/* In the order of on-qemu-exit's choices. */
enum policy {
	POLICY_CRASH_GUEST,
	POLICY_POWEROFF,
	POLICY_STAY
};

void policy_init(enum policy p);

/* The guest whose device model this is (crash-guest needs it). */
void policy_target(unsigned target);

/* QEMU died or never came up: the status says @why already; the policy applies. The stubdomain
 * stays up under crash-guest until the toolstack destroys it. */
void policy_qemu_died(const char *why);

/*
 * A failure before QEMU could start: status error, then the policy (crash-guest also powers the
 * stubdomain off, since nothing is left to serve; stay keeps it up for debugging).
 */
void policy_fail_early(const char *why);

#endif
